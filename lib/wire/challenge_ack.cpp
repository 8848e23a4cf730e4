#include "wire/challenge_ack.h"

#include <algorithm>
#include <cerrno>
#include <unordered_map>

#include "net/tcp_state.h"
#include "wire/capture_session.h"

namespace tcpreap {

std::optional<Flow> wire_flow(const TcpSocket& s) {
  auto canonical = [](const IpAddress& a) {
    if (a.family == Family::kIPv4) return IpAddress::v4(a.bytes.data());  // zero the unused 12 bytes
    return a.is_v4_mapped() ? a.unmapped() : a;
  };
  const IpAddress local = canonical(s.local), remote = canonical(s.remote);
  if (local.family != remote.family) return std::nullopt;
  return Flow{local, remote, s.local_port, s.remote_port};
}

namespace {

using Clock = Challenge::Clock;
using std::chrono::milliseconds;

struct Work {
  size_t index = 0;  // into the caller's sockets
  const TcpSocket* socket = nullptr;
  Challenge c;
  bool done = false;
  int round_syns = 0;  // SYNs of this call
  bool pin_checked = false;
  Clock::time_point next_syn{};
};

// One learn() call: its sockets and their timers, watched over one capture
// session.
class LearnCall final : public SegmentWatcher {
 public:
  LearnCall(PacketCapture& capture, RawSender& sender, std::mt19937& rng, const ChallengeOptions& options,
            NeighbourPins& pins, const std::function<void(size_t, const Challenge&)>& on_answer)
      : capture_(capture), sender_(sender), rng_(rng), options_(options), pins_(pins), on_answer_(on_answer) {
    options_.attempts = std::max(options_.attempts, 1);
  }

  std::vector<Challenge> run(std::span<const TcpSocket* const> sockets, std::span<const Clock::time_point> not_before);

  // SegmentWatcher: the sockets' timers, and what they send their peers.
  std::optional<Clock::time_point> tick(Clock::time_point now) override;
  void on_segment(const TcpSegment& seg) override;
  bool done() const override { return unfinished_ == 0; }

 private:
  void admit(std::span<const TcpSocket* const> sockets, std::span<const Clock::time_point> not_before);
  void advance(Work& w, Clock::time_point now);
  Clock::time_point next_event(const Work& w) const;
  void send_syn(Work& w, Clock::time_point now);
  void handle_answer(Work& w, const TcpSegment& seg);
  void finish(Work& w, ChallengeAnswer answer, int errnum = 0, std::string detail = "");
  void fail_all(const Error& e);

  PacketCapture& capture_;
  RawSender& sender_;
  std::mt19937& rng_;
  ChallengeOptions options_;
  NeighbourPins& pins_;
  const std::function<void(size_t, const Challenge&)>& on_answer_;

  std::vector<Challenge> out_;
  std::vector<Work> work_;
  std::unordered_map<Flow, size_t, FlowHash> by_flow_;  // -> index into work_
  std::vector<std::pair<size_t, size_t>> duplicates_;   // (socket index, work index)
  size_t unfinished_ = 0;
};

std::vector<Challenge> LearnCall::run(std::span<const TcpSocket* const> sockets,
                                      std::span<const Clock::time_point> not_before) {
  out_.assign(sockets.size(), Challenge{});
  admit(sockets, not_before);
  if (!work_.empty()) {
    // by_flow_ checks every frame's 4-tuple, however coarse the program.
    CaptureSession session(capture_);
    std::vector<Flow> flows;
    for (const Work& w : work_) flows.push_back(w.c.flow);
    if (auto s = session.start(flows, CaptureDirection::kSent); !s) {
      fail_all(s.error().wrap("setting up the capture"));
    } else if (auto watched = session.watch(*this); !watched) {
      fail_all(watched.error());
    }
    // Leave the capture idle between calls: nothing queues up.
    const Status idle = session.stop();
    auto drops = session.take_drops();
    for (Work& w : work_) {
      if (w.c.answer == ChallengeAnswer::kNoAnswer) {
        if (drops && *drops > 0) w.c.detail += "; the capture dropped " + std::to_string(*drops) + " frame(s)";
        if (session.match() != CaptureMatch::kExactFlows)
          w.c.detail += std::string("; the capture program matched ") +
                        (session.match() == CaptureMatch::kSourcePorts ? "source ports only" : "all TCP");
      }
      if (!idle) w.c.note += (w.c.note.empty() ? "" : "; ") + idle.error().message();
      out_[w.index] = std::move(w.c);
    }
  }
  for (auto [i, k] : duplicates_) {
    out_[i] = out_[work_[k].index];
    out_[i].pin.reset();  // released once, through the first copy
  }
  return std::move(out_);
}

void LearnCall::admit(std::span<const TcpSocket* const> sockets, std::span<const Clock::time_point> not_before) {
  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < sockets.size(); ++i) {
    const TcpSocket& s = *sockets[i];
    Challenge& c = out_[i];
    c.answer = ChallengeAnswer::kRefused;
    if (!StateSet::synchronized().contains(s.state)) {
      c.detail = std::string("state ") + state_label(s.state) +
                 ": only a synchronized connection (ESTABLISHED, CLOSE-WAIT, FIN-WAIT, ...) answers a SYN with a "
                 "challenge ACK; not touched";
      continue;
    }
    auto flow = wire_flow(s);
    if (!flow || s.local_port == 0 || s.remote_port == 0) {
      c.detail = "not a connection between two IP endpoints of one family: " + s.local.to_string() + " and " +
                 s.remote.to_string() + "; not touched";
      continue;
    }
    c.flow = *flow;
    if (flow->src.family == Family::kIPv6 && !sender_.has_ipv6()) {
      c.errnum = EAFNOSUPPORT;
      c.detail = "no IPv6 raw socket in this network namespace; not touched";
      continue;
    }
    if (auto [it, inserted] = by_flow_.try_emplace(*flow, work_.size()); !inserted) {
      duplicates_.emplace_back(i, it->second);
      continue;
    }
    Work w;
    w.index = i;
    w.socket = &s;
    w.c.flow = *flow;
    w.next_syn = i < not_before.size() ? std::max(now, not_before[i]) : now;
    work_.push_back(std::move(w));
  }
  unfinished_ = work_.size();
}

std::optional<Clock::time_point> LearnCall::tick(Clock::time_point now) {
  for (Work& w : work_)
    if (!w.done) advance(w, now);
  Clock::time_point wake = Clock::time_point::max();
  for (const Work& w : work_)
    if (!w.done) wake = std::min(wake, next_event(w));
  return wake;
}

void LearnCall::on_segment(const TcpSegment& seg) {
  auto it = by_flow_.find(seg.flow);  // the program may be coarser than exact
  if (it == by_flow_.end()) return;
  Work& w = work_[it->second];
  if (w.done || w.round_syns == 0) return;  // a late answer, or something sent before we asked
  handle_answer(w, seg);
}

void LearnCall::finish(Work& w, ChallengeAnswer answer, int errnum, std::string detail) {
  w.c.answer = answer;
  w.c.errnum = errnum;
  w.c.detail = std::move(detail);
  w.done = true;
  --unfinished_;
  if (on_answer_ && (answer == ChallengeAnswer::kAck || answer == ChallengeAnswer::kRst ||
                     answer == ChallengeAnswer::kSynAck))
    on_answer_(w.index, w.c);
}

void LearnCall::fail_all(const Error& e) {
  for (Work& w : work_)
    if (!w.done) finish(w, ChallengeAnswer::kFailed, e.errnum(), e.message());
}

void LearnCall::send_syn(Work& w, Clock::time_point now) {
  // Any sequence number: a synchronized socket answers every SYN with a
  // challenge ACK (RFC 5961 4.2; tcp_validate_incoming()). No options, so
  // no timestamp for PAWS to reject.
  TcpSegment syn;
  syn.flow = w.c.flow.reversed();
  syn.flags = tcp_flag::kSyn;
  syn.seq = static_cast<uint32_t>(rng_());
  syn.window = 65535;
  if (auto s = sender_.send_segment(syn, w.socket->interface); !s) {
    finish(w, ChallengeAnswer::kFailed, s.error().errnum(), "sending the SYN: " + s.error().message());
    return;
  }
  if (w.c.syns == 0) w.c.first_syn = now;
  ++w.c.syns;
  ++w.round_syns;
  w.c.last_syn = now;
  w.next_syn = now + options_.retry_after;
}

// The timers of a socket waiting for an answer.
void LearnCall::advance(Work& w, Clock::time_point now) {
  if (w.round_syns > 0 && !w.pin_checked && now >= w.c.last_syn + options_.answer_timeout) {
    w.pin_checked = true;  // once per socket, after its first unanswered SYN
    if (options_.pin_neighbour) w.c.pin = pins_.acquire(w.c.flow.dst, w.c.flow.src, w.c.note);
  }
  if (w.round_syns >= options_.attempts) {
    if (now >= w.c.last_syn + options_.answer_timeout) {
      const auto waited = std::chrono::duration_cast<milliseconds>(now - w.c.first_syn).count();
      std::string detail =
          "no answer to " + std::to_string(w.c.syns) + " SYN(s) in " + std::to_string(waited) + " ms";
      if (w.c.note.empty()) detail += " (a firewall, a TCP-MD5/AO socket, or an unresolved neighbour of the peer?)";
      finish(w, ChallengeAnswer::kNoAnswer, 0, std::move(detail));
    }
    return;
  }
  if (now >= w.next_syn) send_syn(w, now);
}

Clock::time_point LearnCall::next_event(const Work& w) const {
  if (w.round_syns >= options_.attempts) return w.c.last_syn + options_.answer_timeout;
  Clock::time_point t = w.next_syn;
  if (w.round_syns > 0 && !w.pin_checked) t = std::min(t, w.c.last_syn + options_.answer_timeout);
  return t;
}

// An answer (or any segment) from the local socket to its peer.
void LearnCall::handle_answer(Work& w, const TcpSegment& seg) {
  w.c.segment = seg;
  if (seg.has(tcp_flag::kRst)) {
    finish(w, ChallengeAnswer::kRst, 0, "an RST answered the SYN: no socket has this 4-tuple any more");
    return;
  }
  if (seg.has(tcp_flag::kSyn) && seg.has(tcp_flag::kAck)) {
    // A listener's embryo (request socket) answered. Its rcv_nxt is our
    // SYN's seq + 1, which the SYN-ACK acknowledges: an RST there makes
    // tcp_check_req() drop the embryo. Never the established path.
    std::string detail = "a SYN-ACK answered: a listener, not an established socket, has this 4-tuple; ";
    TcpSegment rst;
    rst.flow = w.c.flow.reversed();
    rst.flags = tcp_flag::kRst;
    rst.seq = seg.ack;
    if (auto s = sender_.send_segment(rst, w.socket->interface); !s)
      detail += "resetting its embryo failed: " + s.error().message();
    else
      detail += "its embryo was reset";
    finish(w, ChallengeAnswer::kSynAck, 0, std::move(detail));
    return;
  }
  if (!seg.has(tcp_flag::kAck) || seg.has(tcp_flag::kSyn)) return;  // not from a synchronized socket
  finish(w, ChallengeAnswer::kAck);
}

}  // namespace

std::vector<Challenge> ChallengeAckLearner::learn(std::span<const TcpSocket* const> sockets,
                                                  const ChallengeOptions& options, NeighbourPins& pins,
                                                  std::span<const Clock::time_point> not_before,
                                                  const std::function<void(size_t, const Challenge&)>& on_answer) {
  return LearnCall(capture_, sender_, rng_, options, pins, on_answer).run(sockets, not_before);
}

}  // namespace tcpreap
