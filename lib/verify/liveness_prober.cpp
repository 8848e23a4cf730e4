#include "verify/liveness_prober.h"

#include <string>
#include <unordered_map>

#include "wire/capture_session.h"
#include "wire/packet_resources.h"

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
  PacketResources res;
};

namespace {

using Clock = std::chrono::steady_clock;

// The answers of the peers, until every probe has one or the window closes.
// `by_flow` maps peer -> local flows to the outcome index; answered ones
// are removed.
class AnswerWatch final : public SegmentWatcher {
 public:
  AnswerWatch(std::unordered_map<Flow, size_t, FlowHash>& by_flow, std::vector<ProbeOutcome>& out,
              Clock::time_point until)
      : by_flow_(by_flow), out_(out), until_(until) {}

  std::optional<Clock::time_point> tick(Clock::time_point now) override {
    if (now >= until_) return std::nullopt;
    return until_;
  }
  bool done() const override { return by_flow_.empty(); }

  void on_segment(const TcpSegment& seg) override {
    auto it = by_flow_.find(seg.flow);
    if (it == by_flow_.end()) return;
    ProbeOutcome& o = out_[it->second];
    if (seg.has(tcp_flag::kRst)) {
      o.result = ProbeResult::kPeerReset;
      o.detail = "the peer answered RST (seq " + std::to_string(seg.seq) +
                 "): it has no such connection any more, and the kernel closes the socket on it";
    } else if (seg.has(tcp_flag::kAck) && !seg.has(tcp_flag::kSyn)) {
      o.result = ProbeResult::kAnswered;
      o.detail = "the peer answered (ACK " + std::to_string(seg.ack) + "): it is alive";
    } else {
      return;
    }
    by_flow_.erase(it);
  }

 private:
  std::unordered_map<Flow, size_t, FlowHash>& by_flow_;
  std::vector<ProbeOutcome>& out_;
  Clock::time_point until_;
};

}  // namespace

Result<LivenessProber> LivenessProber::open(const SocketMaker& maker) {
  auto res = PacketResources::open(maker);
  if (!res) return res.error().wrap("opening the liveness prober");
  return LivenessProber(std::make_unique<Impl>(Impl{std::move(*res)}));
}

LivenessProber::LivenessProber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LivenessProber::LivenessProber(LivenessProber&&) noexcept = default;
LivenessProber& LivenessProber::operator=(LivenessProber&&) noexcept = default;
LivenessProber::~LivenessProber() = default;

const std::string& LivenessProber::open_note() const { return impl_->res.open_note(); }

std::vector<ProbeOutcome> LivenessProber::probe(std::span<const TcpSocket> sockets, const ProbeOptions& options) {
  PacketResources& r = impl_->res;
  std::vector<ProbeOutcome> out(sockets.size());
  std::vector<const TcpSocket*> asked;
  for (const TcpSocket& s : sockets) asked.push_back(&s);

  // Pins stay until the answers are in: the probe to an on-link peer whose
  // neighbour failed must leave too (to nobody), to be counted unanswered.
  NeighbourPins pins = r.pins();
  ChallengeAckLearner learner = r.learner();
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
    CaptureSession session(r.capture());
    const Status watching = session.start(answers, CaptureDirection::kReceived);
    for (size_t i : to_probe) {
      const Challenge& c = challenges[i];
      const TcpSegment probe = liveness_probe(c.flow, c.segment);
      if (auto s = r.sender().send_segment(probe, sockets[i].interface); !s) {
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
      AnswerWatch watch(awaiting, out, Clock::now() + options.answer_window);
      if (auto s = session.watch(watch); !s)
        for (auto& [flow, i] : awaiting) out[i].detail += "; watching for the answer failed: " + s.error().message();
    } else {
      for (auto& [flow, i] : awaiting) out[i].detail += "; could not watch for the answer: " + watching.error().message();
    }
    if (auto idle = session.stop(); !idle)
      for (size_t i : to_probe) out[i].detail += "; " + idle.error().message();
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
