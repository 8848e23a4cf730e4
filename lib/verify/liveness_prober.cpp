#include "verify/liveness_prober.h"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <random>
#include <string>
#include <unordered_map>

#include "netlink/netlink_socket.h"
#include "netlink/route_netlink.h"
#include "wire/neighbour_pins.h"
#include "wire/packet_capture.h"
#include "wire/raw_sender.h"

namespace tcpreap {

TcpSegment liveness_probe(const Flow& flow, const TcpSegment& answer) {
  TcpSegment probe;
  probe.flow = flow;
  probe.flags = tcp_flag::kAck;
  probe.seq = answer.seq - 1;  // wraps as sequence numbers do
  probe.ack = answer.ack;
  probe.window = answer.window;
  return probe;
}

struct LivenessProber::Impl {
  PacketCapture capture;
  RawSender sender;
  std::optional<RouteNetlink> rtnl;  // absent: neighbours cannot be pinned,
  std::string rtnl_error;            // and this says why
  std::mt19937 rng;
};

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The answers of the peers, until every probe has one or the window closes.
// `by_flow` maps peer -> local flows to the outcome index; answered ones
// are removed.
Status watch_answers(PacketCapture& capture, std::unordered_map<Flow, size_t, FlowHash>& by_flow,
                     std::vector<ProbeOutcome>& out, Clock::time_point until) {
  std::array<uint8_t, 256> frame{};  // more than kCaptureSnapLen
  while (!by_flow.empty()) {
    const auto left = std::chrono::ceil<milliseconds>(until - Clock::now()).count();
    if (left <= 0) return Ok{};
    pollfd p{capture.fd(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<milliseconds::rep>(left, 60'000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Error(errno, "waiting on the capture");
    while (!by_flow.empty()) {
      auto f = capture.next(frame);
      if (!f) return f.error();
      if (!*f) break;
      auto seg = parse_segment({frame.data(), (*f)->size});
      if (!seg) continue;
      auto it = by_flow.find(seg->flow);
      if (it == by_flow.end()) continue;
      ProbeOutcome& o = out[it->second];
      if (seg->has(tcp_flag::kRst)) {
        o.result = ProbeResult::kPeerReset;
        o.detail = "the peer answered RST (seq " + std::to_string(seg->seq) +
                   "): it has no such connection any more, and the kernel closes the socket on it";
      } else if (seg->has(tcp_flag::kAck) && !seg->has(tcp_flag::kSyn)) {
        o.result = ProbeResult::kAnswered;
        o.detail = "the peer answered (ACK " + std::to_string(seg->ack) + "): it is alive";
      } else {
        continue;
      }
      by_flow.erase(it);
    }
  }
  return Ok{};
}

}  // namespace

Result<LivenessProber> LivenessProber::open() {
  auto capture = PacketCapture::open();
  if (!capture) return capture.error().wrap("opening the liveness prober");
  auto sender = RawSender::open();
  if (!sender) return sender.error().wrap("opening the liveness prober");
  auto impl = std::make_unique<Impl>(
      Impl{std::move(*capture), std::move(*sender), std::nullopt, "", std::mt19937(std::random_device{}())});
  // Without it probing still works, but cannot pin neighbours. With it,
  // pins a dead tcpreap left go first (see sweep_left_pins()).
  std::string note;
  if (auto rt = NetlinkSocket::open(NETLINK_ROUTE); rt) {
    impl->rtnl.emplace(std::move(*rt));
    note = sweep_left_pins(*impl->rtnl).note();
  } else {
    impl->rtnl_error = rt.error().message();
  }
  LivenessProber prober(std::move(impl));
  prober.open_note_ = std::move(note);
  return prober;
}

LivenessProber::LivenessProber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LivenessProber::LivenessProber(LivenessProber&&) noexcept = default;
LivenessProber& LivenessProber::operator=(LivenessProber&&) noexcept = default;
LivenessProber::~LivenessProber() = default;

std::vector<ProbeOutcome> LivenessProber::probe(std::span<const TcpSocket> sockets, const ProbeOptions& options) {
  Impl& r = *impl_;
  std::vector<ProbeOutcome> out(sockets.size());
  std::vector<const TcpSocket*> asked;
  for (const TcpSocket& s : sockets) asked.push_back(&s);

  // Pins stay until the answers are in: the probe to an on-link peer whose
  // neighbour failed must leave too (to nobody), to be counted unanswered.
  NeighbourPins pins(r.rtnl ? &*r.rtnl : nullptr, r.rtnl_error);
  ChallengeAckLearner learner(r.capture, r.sender, r.rng);
  const auto challenges = learner.learn(asked, options.challenge, pins);

  std::unordered_map<Flow, size_t, FlowHash> awaiting;  // peer -> local flow: outcome index
  std::vector<size_t> to_probe;
  std::vector<std::pair<size_t, size_t>> copies;  // (a socket listed again, its first listing)
  for (size_t i = 0; i < challenges.size(); ++i) {
    const Challenge& c = challenges[i];
    ProbeOutcome& o = out[i];
    const std::string note = c.note.empty() ? "" : "; " + c.note;
    switch (c.answer) {
      case ChallengeAnswer::kAck:
        if (auto [it, fresh] = awaiting.try_emplace(c.flow.reversed(), i); fresh)
          to_probe.push_back(i);
        else
          copies.emplace_back(i, it->second);
        continue;
      case ChallengeAnswer::kRst:
        o = {ProbeResult::kGone, 0, "an RST answered the SYN: the socket is gone"};
        break;
      case ChallengeAnswer::kSynAck:
        o = {ProbeResult::kNotEstablished, 0, c.detail};
        break;
      case ChallengeAnswer::kNoAnswer:
        o = {ProbeResult::kNoAnswer, 0, c.detail + "; sequence numbers unknown, no probe sent"};
        break;
      case ChallengeAnswer::kRefused:
      case ChallengeAnswer::kFailed:
        o = {ProbeResult::kFailed, c.errnum, c.detail};
        break;
    }
    o.detail += note;
  }

  if (!to_probe.empty()) {
    std::vector<Flow> answers;
    for (const auto& [flow, i] : awaiting) answers.push_back(flow);
    Status watching = Error(0, "no capture program fits");
    for (CaptureMatch m : {CaptureMatch::kExactFlows, CaptureMatch::kSourcePorts, CaptureMatch::kAnyTcp}) {
      auto code = compile_capture_program(answers, m, CaptureDirection::kReceived);
      if (!code) continue;
      watching = r.capture.set_program(*code);
      if (watching || watching.error().errnum() != ENOMEM) break;
    }
    for (size_t i : to_probe) {
      const Challenge& c = challenges[i];
      const TcpSegment probe = liveness_probe(c.flow, c.segment);
      if (auto s = r.sender.send_segment(probe, sockets[i].interface); !s) {
        out[i] = {ProbeResult::kFailed, s.error().errnum(), "sending the probe: " + s.error().message()};
        awaiting.erase(c.flow.reversed());
        continue;
      }
      out[i] = {ProbeResult::kSent, 0,
                "probe sent (seq " + std::to_string(probe.seq) + ", ack " + std::to_string(probe.ack) +
                    "); no answer within " + std::to_string(options.answer_window.count()) + " ms",
                Clock::now()};
      if (!c.note.empty()) out[i].detail += "; " + c.note;
    }
    // A failed watch loses only the early look: the scans still see answers.
    if (watching) {
      if (auto s = watch_answers(r.capture, awaiting, out, Clock::now() + options.answer_window); !s)
        for (auto& [flow, i] : awaiting) out[i].detail += "; watching for the answer failed: " + s.error().message();
    } else {
      for (auto& [flow, i] : awaiting) out[i].detail += "; could not watch for the answer: " + watching.error().message();
    }
    (void)r.capture.set_program(drop_all_program());
  }
  for (const Challenge& c : challenges)
    if (c.pin) pins.release(*c.pin);
  if (!pins.errors().empty())
    for (size_t i = 0; i < out.size(); ++i)
      if (challenges[i].pin) out[i].detail += "; removing a temporary neighbour entry failed: " + pins.errors();
  for (auto [copy, first] : copies) out[copy] = out[first];
  return out;
}

}  // namespace tcpreap
