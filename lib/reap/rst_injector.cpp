#include "reap/rst_injector.h"

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <thread>

#include "diag/socket_presence.h"
#include "net/tcp_state.h"
#include "wire/packet_resources.h"

namespace tcpreap {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// After an RST at rcv_nxt, when to look the socket up again. On `lo`
// the RST is usually processed before sendto() returns (netif_rx() runs the
// softirq when bottom halves are re-enabled), or when the owning thread
// releases the socket lock (the backlog): the first look nearly always
// settles it, the later ones cover a loaded machine.
constexpr std::array<milliseconds, 4> kVerifyDelays{milliseconds(2), milliseconds(20), milliseconds(100),
                                                    milliseconds(300)};
// RSTs per socket (each after a fresh challenge ACK) before giving up.
constexpr int kMaxRsts = 3;

// ---- Is it still the socket decided on? ------------------------------------

// A SYN or an RST carries no cookie: it reaches whatever socket holds the
// 4-tuple when it arrives, and between the scan and the RST (seconds, when
// verifying) the decided socket may have closed and a new connection taken
// its 4-tuple. Both are sent only while a lookup finds the decided socket
// (its cookie) holding the 4-tuple, still synchronized.
bool still_ours(const TupleHolder& h) { return h.itself() && StateSet::synchronized().contains(h.state); }

std::string gone_detail(const TupleHolder& h) {
  if (h.itself()) return std::string("it has closed since it was dumped (now ") + state_label(h.state) + ")";
  return h.describe();
}

// Whether the learner would send this socket a SYN (else it refuses it,
// saying why, and nothing needs looking up).
bool would_be_asked(const TcpSocket& s) {
  return StateSet::synchronized().contains(s.state) && wire_flow(s) && s.local_port != 0 && s.remote_port != 0;
}

// A socket whose RST is out, waiting for a lookup to show it gone.
struct Pending {
  size_t index = 0;                          // into the caller's sockets
  ReapResult if_gone = ReapResult::kDone;    // what the lookup confirms when the socket is gone
  std::string why;                           // for kAlreadyGone
  uint32_t rst_seq = 0;
  Clock::time_point rst_at{};
};

// One reset() call, in rounds: look every socket up (those gone get no
// SYN), learn rcv_nxt from challenge ACKs (the RST goes out the moment a
// socket's answer arrives, if a lookup still finds it), then look up until
// every socket of the round is gone or has waited out kVerifyDelays; a
// socket still there (a live peer moved rcv_nxt) is asked again in the next
// round.
class ResetCall {
 public:
  ResetCall(PacketResources& res, SocketPresence& lookup, std::span<const TcpSocket> sockets, const RstOptions& options)
      : res_(res), lookup_(lookup), sockets_(sockets), options_(options) {}

  std::vector<ReapOutcome> run();

 private:
  // Takes out of round_ the sockets no longer holding their 4-tuples.
  void screen();
  void on_answer(size_t i, const Challenge& c);
  // Looks up until every pending socket is settled; returns those still there.
  std::vector<Pending> verify(std::vector<Pending> pending);

  PacketResources& res_;
  SocketPresence& lookup_;
  std::span<const TcpSocket> sockets_;
  RstOptions options_;
  std::vector<ReapOutcome> out_;
  std::vector<size_t> round_;             // indices of this round's sockets
  std::vector<Pending> pending_;          // RSTs of this round
  std::vector<int> rsts_, syns_;          // per socket, over all rounds
};

std::vector<ReapOutcome> ResetCall::run() {
  out_.assign(sockets_.size(), ReapOutcome{ReapResult::kFailed, ReapVia::kRst, 0, ""});
  rsts_.assign(sockets_.size(), 0);
  syns_.assign(sockets_.size(), 0);
  std::vector<Clock::time_point> not_before(sockets_.size());
  // A socket listed twice is worked on once and reported twice.
  std::map<std::pair<uint64_t, uint8_t>, size_t> first;  // (cookie, state) -> first listing
  std::vector<std::pair<size_t, size_t>> copies;
  for (size_t i = 0; i < sockets_.size(); ++i) {
    if (auto [it, fresh] = first.try_emplace({sockets_[i].cookie, sockets_[i].state}, i); !fresh)
      copies.emplace_back(i, it->second);
    else
      round_.push_back(i);
  }
  screen();

  NeighbourPins pins = res_.pins();
  ChallengeAckLearner learner = res_.learner();
  while (!round_.empty()) {
    std::vector<const TcpSocket*> asked;
    std::vector<Clock::time_point> round_not_before;
    for (size_t i : round_) {
      asked.push_back(&sockets_[i]);
      round_not_before.push_back(not_before[i]);
    }
    pending_.clear();
    auto challenges = learner.learn(asked, options_, pins, round_not_before,
                                    [&](size_t k, const Challenge& c) { on_answer(round_[k], c); });
    for (const Challenge& c : challenges)
      if (c.pin) pins.release(*c.pin);  // the RST goes to a local address: no neighbour needed
    const std::string pin_errors =
        pins.errors().empty() ? "" : "; removing a temporary neighbour entry failed: " + pins.errors();
    for (size_t k = 0; k < round_.size(); ++k) {
      const size_t i = round_[k];
      const Challenge& c = challenges[k];
      syns_[i] += c.syns;
      not_before[i] = c.last_syn + options_.retry_after;
      const std::string note = (c.note.empty() ? "" : "; " + c.note) + (c.pin ? pin_errors : "");
      switch (c.answer) {
        case ChallengeAnswer::kAck:
        case ChallengeAnswer::kRst:
          for (Pending& p : pending_)
            if (p.index == i) p.why += note;
          break;  // in pending_ (or failed) by on_answer
        case ChallengeAnswer::kSynAck:
          out_[i] = {ReapResult::kNotEstablished, ReapVia::kRst, 0, c.detail + note};
          break;
        case ChallengeAnswer::kNoAnswer:
          out_[i] = {ReapResult::kNoAnswer, ReapVia::kRst, 0, c.detail + note};
          break;
        case ChallengeAnswer::kRefused:
        case ChallengeAnswer::kFailed:
          out_[i] = {ReapResult::kFailed, ReapVia::kRst, c.errnum, c.detail + note};
          break;
      }
    }
    if (pending_.empty()) break;
    round_.clear();
    for (Pending& p : verify(std::move(pending_))) {
      if (p.if_gone == ReapResult::kAlreadyGone) {
        out_[p.index] = {ReapResult::kFailed, ReapVia::kRst, 0,
                         "an RST answered the SYN, yet the socket is still there (the SYN reached another socket?)"};
      } else if (rsts_[p.index] < kMaxRsts) {
        round_.push_back(p.index);  // rcv_nxt may have moved (a live peer sent data): ask again
      } else {
        out_[p.index] = {ReapResult::kFailed, ReapVia::kRst, 0,
                         "still there after " + std::to_string(rsts_[p.index]) + " RST(s) at rcv_nxt (last " +
                             std::to_string(p.rst_seq) + ")"};
      }
    }
  }
  for (auto [copy, i] : copies) out_[copy] = out_[i];
  return std::move(out_);
}

// Before the first SYN: a socket whose 4-tuple is no longer its own is
// gone, and a SYN would only poke the newcomer (a new connection answers it
// with a challenge ACK, a listener with a SYN-ACK from a new embryo).
void ResetCall::screen() {
  std::vector<size_t> asked;
  std::vector<const TcpSocket*> targets;
  for (size_t i : round_) {
    if (!would_be_asked(sockets_[i])) continue;
    asked.push_back(i);
    targets.push_back(&sockets_[i]);
  }
  if (asked.empty()) return;
  auto holders = lookup_.look(targets);
  std::vector<bool> drop(sockets_.size(), false);
  for (size_t k = 0; k < asked.size(); ++k) {
    const size_t i = asked[k];
    if (!holders) {
      out_[i] = {ReapResult::kFailed, ReapVia::kRst, holders.error().errnum(),
                 "looking the socket up before the first SYN failed: " + holders.error().message() + "; nothing sent"};
      drop[i] = true;
    } else if (const TupleHolder& h = (*holders)[k]; !still_ours(h)) {
      out_[i] = {ReapResult::kAlreadyGone, ReapVia::kRst, 0,
                 "gone before the first SYN: " + gone_detail(h) + "; nothing sent"};
      drop[i] = true;
    }
  }
  std::erase_if(round_, [&](size_t i) { return drop[i]; });
}

// The socket's answer: an ACK (ack = rcv_nxt) gets its RST now, if the
// socket holding the 4-tuple is still the one decided on; an RST means it
// is already gone - both are verified by lookups.
void ResetCall::on_answer(size_t i, const Challenge& c) {
  Pending p;
  p.index = i;
  p.rst_at = Clock::now();
  if (c.answer == ChallengeAnswer::kRst) {
    p.if_gone = ReapResult::kAlreadyGone;
    p.why = c.detail;
    pending_.push_back(std::move(p));
    return;
  }
  if (c.answer != ChallengeAnswer::kAck) return;
  // The challenge ACK names no socket either. Checked right before the
  // RST, a lookup (tens of microseconds) leaves a newcomer only that long
  // to take the 4-tuple; even then the RST is at the old socket's rcv_nxt,
  // which lies in the newcomer's window only by a 2^-32 chance.
  const TcpSocket* target = &sockets_[i];
  auto holder = lookup_.look(std::span(&target, 1));
  if (!holder) {
    out_[i] = {ReapResult::kFailed, ReapVia::kRst, holder.error().errnum(),
               "looking the socket up before the RST failed: " + holder.error().message() + "; no RST sent"};
    return;
  }
  if (const TupleHolder& h = holder->front(); !still_ours(h)) {
    out_[i] = {ReapResult::kAlreadyGone, ReapVia::kRst, 0,
               "answered the SYN, then gone before the RST: " + gone_detail(h) + "; no RST sent"};
    return;
  }
  // Only an RST at exactly rcv_nxt resets (RFC 5961 3.2; rcv_nxt + 1 only
  // draws another challenge ACK).
  TcpSegment rst;
  rst.flow = c.flow.reversed();
  rst.flags = tcp_flag::kRst;
  rst.seq = c.segment.ack;
  if (auto s = res_.sender().send_segment(rst, sockets_[i].interface); !s) {
    out_[i] = {ReapResult::kFailed, ReapVia::kRst, s.error().errnum(), "sending the RST: " + s.error().message()};
    return;
  }
  ++rsts_[i];
  p.rst_seq = rst.seq;
  pending_.push_back(std::move(p));
}

// One lookup per delay for every pending socket: a socket is gone when the
// kernel no longer finds its cookie on its 4-tuple (a new connection there
// has another cookie).
std::vector<Pending> ResetCall::verify(std::vector<Pending> pending) {
  // From the last RST of the round: every socket gets at least the delays.
  Clock::time_point last = Clock::time_point::min();
  for (const Pending& p : pending) last = std::max(last, p.rst_at);
  for (size_t check = 0; check < kVerifyDelays.size() && !pending.empty(); ++check) {
    std::this_thread::sleep_until(last + kVerifyDelays[check]);
    std::vector<const TcpSocket*> targets;
    for (const Pending& p : pending) targets.push_back(&sockets_[p.index]);
    auto holders = lookup_.look(targets);
    if (!holders) {
      for (const Pending& p : pending)
        out_[p.index] = {ReapResult::kFailed, ReapVia::kRst, holders.error().errnum(),
                         (p.if_gone == ReapResult::kDone ? "RST sent, but verifying failed: " : "verifying failed: ") +
                             holders.error().message()};
      return {};
    }
    std::vector<Pending> still;
    for (size_t k = 0; k < pending.size(); ++k) {
      Pending& p = pending[k];
      const TupleHolder& h = (*holders)[k];
      if (h.itself()) {
        still.push_back(std::move(p));
      } else if (p.if_gone == ReapResult::kDone) {
        out_[p.index] = {ReapResult::kDone, ReapVia::kRst, 0,
                         "reset by an RST at rcv_nxt " + std::to_string(p.rst_seq) + " after " +
                             std::to_string(syns_[p.index]) +
                             " SYN(s), sent once a lookup found it still holding its 4-tuple; "
                             "a lookup no longer finds it" +
                             (h.kind == TupleHolder::Kind::kOther ? " (" + h.describe() + ")" : "") + p.why};
      } else {
        out_[p.index] = {ReapResult::kAlreadyGone, ReapVia::kRst, 0, p.why};
      }
    }
    pending = std::move(still);
  }
  return pending;
}

}  // namespace

// ---- The injector ------------------------------------------------------------

struct RstInjector::Impl {
  PacketResources res;
  DiagLookup lookup;  // who holds a 4-tuple, asked before every SYN and RST
};

Result<RstInjector> RstInjector::open(const SocketMaker& maker) {
  auto res = PacketResources::open(maker);
  if (!res) return res.error().wrap("opening the RST injector");
  auto lookup = DiagLookup::open(maker);
  if (!lookup) return lookup.error().wrap("opening the RST injector's SOCK_DIAG socket");
  return RstInjector(std::make_unique<Impl>(Impl{std::move(*res), std::move(*lookup)}));
}

RstInjector::RstInjector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RstInjector::RstInjector(RstInjector&&) noexcept = default;
RstInjector& RstInjector::operator=(RstInjector&&) noexcept = default;
RstInjector::~RstInjector() = default;

const std::string& RstInjector::open_note() const { return impl_->res.open_note(); }

std::vector<ReapOutcome> RstInjector::reset(std::span<const TcpSocket> sockets, const RstOptions& options) {
  return ResetCall(impl_->res, impl_->lookup, sockets, options).run();
}

}  // namespace tcpreap
