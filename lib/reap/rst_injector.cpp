#include "reap/rst_injector.h"

#include <algorithm>
#include <array>
#include <optional>
#include <random>
#include <string>
#include <map>
#include <thread>
#include <unordered_set>

#include "diag/scan_query.h"
#include "diag/socket_scanner.h"
#include "net/tcp_state.h"
#include "netlink/netlink_socket.h"
#include "netlink/route_netlink.h"
#include "wire/challenge_ack.h"
#include "wire/neighbour_pins.h"
#include "wire/packet_capture.h"
#include "wire/raw_sender.h"

namespace tcpreap {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// After an RST at rcv_nxt, when to dump and look for the socket. On `lo`
// the RST is usually processed before sendto() returns (netif_rx() runs the
// softirq when bottom halves are re-enabled), or when the owning thread
// releases the socket lock (the backlog): the first look nearly always
// settles it, the later ones cover a loaded machine.
constexpr std::array<milliseconds, 4> kVerifyDelays{milliseconds(2), milliseconds(20), milliseconds(100),
                                                    milliseconds(300)};
// RSTs per socket (each after a fresh challenge ACK) before giving up.
constexpr int kMaxRsts = 3;

// ---- The verification dump -------------------------------------------------

class CookieSink final : public SocketSink {
 public:
  explicit CookieSink(std::unordered_set<uint64_t>& cookies) : cookies_(cookies) {}
  void on_socket(const TcpSocket& s) override { cookies_.insert(s.cookie); }
  void on_restart() override { cookies_.clear(); }

 private:
  std::unordered_set<uint64_t>& cookies_;
};

Cidr host(const IpAddress& a) { return Cidr{a, static_cast<uint8_t>(a.size() * 8)}; }

// A dump of every state that returns at least the sockets being worked on:
// their exact 4-tuples when the bytecode fits a request, else their local
// ports, else everything of their families. Cookies decide, not the filter.
Result<ScanQuery> verification_query(const std::vector<const TcpSocket*>& sockets) {
  SocketFilter f;
  f.states = StateSet::all();
  f.ipv4 = f.ipv6 = false;
  for (const TcpSocket* s : sockets) (s->family == Family::kIPv4 ? f.ipv4 : f.ipv6) = true;
  SocketFilter exact = f;
  for (const TcpSocket* s : sockets)
    exact.any_clause.push_back({{Condition::local_port({s->local_port, s->local_port})},
                                {Condition::remote_port({s->remote_port, s->remote_port})},
                                {Condition::local_prefix(host(s->local))},
                                {Condition::remote_prefix(host(s->remote))}});
  if (auto q = ScanQuery::compile(exact); q) return q;
  SocketFilter ports = f;
  AnyOf any;
  for (const TcpSocket* s : sockets) any.push_back(Condition::local_port({s->local_port, s->local_port}));
  ports.all_of.push_back(std::move(any));
  if (auto q = ScanQuery::compile(ports); q) return q;
  return ScanQuery::compile(f);
}

// What every reset() call uses, opened once in the injector's namespace.
struct Resources {
  PacketCapture capture;
  RawSender sender;
  SocketScanner scanner;
  std::optional<RouteNetlink> rtnl;  // absent: neighbours cannot be pinned,
  std::string rtnl_error;            // and this says why
  std::mt19937 rng;
};

// A socket whose RST is out, waiting for a dump to show it gone.
struct Pending {
  size_t index = 0;                          // into the caller's sockets
  ReapResult if_gone = ReapResult::kDone;    // what the dump confirms when the socket is gone
  std::string why;                           // for kAlreadyGone
  uint32_t rst_seq = 0;
  Clock::time_point rst_at{};
};

// One reset() call, in rounds: learn rcv_nxt from challenge ACKs (the RST
// goes out the moment a socket's answer arrives), then dump until every
// socket of the round is gone or has waited out kVerifyDelays; a socket
// still there (a live peer moved rcv_nxt) is asked again in the next round.
class ResetCall {
 public:
  ResetCall(Resources& res, std::span<const TcpSocket> sockets, const RstOptions& options)
      : res_(res), sockets_(sockets), options_(options) {}

  std::vector<ReapOutcome> run();

 private:
  void on_answer(size_t i, const Challenge& c);
  // Dumps until every pending socket is settled; returns those still there.
  std::vector<Pending> verify(std::vector<Pending> pending);

  Resources& res_;
  std::span<const TcpSocket> sockets_;
  RstOptions options_;
  std::vector<ReapOutcome> out_;
  std::vector<size_t> round_;             // indices of this round's sockets
  std::vector<Pending> pending_;          // RSTs of this round
  std::vector<int> rsts_, syns_;          // per socket, over all rounds
  std::optional<ScanQuery> verification_;
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

  NeighbourPins pins(res_.rtnl ? &*res_.rtnl : nullptr, res_.rtnl_error);
  ChallengeAckLearner learner(res_.capture, res_.sender, res_.rng);
  const ChallengeOptions copts{options_.attempts, options_.retry_after, options_.answer_timeout,
                               options_.pin_neighbour};
  while (!round_.empty()) {
    std::vector<const TcpSocket*> asked;
    std::vector<Clock::time_point> round_not_before;
    for (size_t i : round_) {
      asked.push_back(&sockets_[i]);
      round_not_before.push_back(not_before[i]);
    }
    pending_.clear();
    auto challenges = learner.learn(asked, copts, pins, round_not_before,
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
    std::vector<const TcpSocket*> targets;
    for (const Pending& p : pending_) targets.push_back(&sockets_[p.index]);
    auto query = verification_query(targets);
    if (!query) {
      for (const Pending& p : pending_)
        out_[p.index] = {ReapResult::kFailed, ReapVia::kRst, query.error().errnum(),
                         "RST sent, but preparing the verification dump failed: " + query.error().message()};
      break;
    }
    verification_.emplace(std::move(*query));
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

// The socket's answer: an ACK (ack = rcv_nxt) gets its RST now; an RST
// means it is already gone - both are verified by a dump.
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
  // Only an RST at exactly rcv_nxt resets (RFC 5961 3.2; rcv_nxt + 1 only
  // draws another challenge ACK).
  TcpSegment rst;
  rst.flow = c.flow.reversed();
  rst.flags = tcp_flag::kRst;
  rst.seq = c.segment.ack;
  if (auto s = res_.sender.send_segment(rst, sockets_[i].interface); !s) {
    out_[i] = {ReapResult::kFailed, ReapVia::kRst, s.error().errnum(), "sending the RST: " + s.error().message()};
    return;
  }
  ++rsts_[i];
  p.rst_seq = rst.seq;
  pending_.push_back(std::move(p));
}

// One dump per delay for every pending socket: a socket is gone when its
// cookie is (a new connection on the same 4-tuple has another cookie).
std::vector<Pending> ResetCall::verify(std::vector<Pending> pending) {
  // From the last RST of the round: every socket gets at least the delays.
  Clock::time_point last = Clock::time_point::min();
  for (const Pending& p : pending) last = std::max(last, p.rst_at);
  for (size_t check = 0; check < kVerifyDelays.size() && !pending.empty(); ++check) {
    std::this_thread::sleep_until(last + kVerifyDelays[check]);
    std::unordered_set<uint64_t> present;
    CookieSink sink(present);
    if (auto st = res_.scanner.scan(*verification_, sink); !st) {
      for (const Pending& p : pending)
        out_[p.index] = {ReapResult::kFailed, ReapVia::kRst, st.error().errnum(),
                         (p.if_gone == ReapResult::kDone ? "RST sent, but verifying failed: " : "verifying failed: ") +
                             st.error().message()};
      return {};
    }
    std::erase_if(pending, [&](const Pending& p) {
      if (present.contains(sockets_[p.index].cookie)) return false;
      if (p.if_gone == ReapResult::kDone)
        out_[p.index] = {ReapResult::kDone, ReapVia::kRst, 0,
                         "reset by an RST at rcv_nxt " + std::to_string(p.rst_seq) + " after " +
                             std::to_string(syns_[p.index]) + " SYN(s); gone from a fresh dump" + p.why};
      else
        out_[p.index] = {ReapResult::kAlreadyGone, ReapVia::kRst, 0, p.why};
      return true;
    });
  }
  return pending;
}

}  // namespace

// ---- The injector ------------------------------------------------------------

struct RstInjector::Impl {
  Resources res;
};

Result<RstInjector> RstInjector::open() {
  auto capture = PacketCapture::open();
  if (!capture) return capture.error().wrap("opening the RST injector");
  auto sender = RawSender::open();
  if (!sender) return sender.error().wrap("opening the RST injector");
  auto scanner = SocketScanner::open();
  if (!scanner) return scanner.error().wrap("opening the RST injector's SOCK_DIAG socket");
  auto impl = std::make_unique<Impl>(
      Impl{Resources{std::move(*capture), std::move(*sender), std::move(*scanner), std::nullopt, "",
                     std::mt19937(std::random_device{}())}});
  // Without it the injector still works, but cannot pin neighbours.
  if (auto rt = NetlinkSocket::open(NETLINK_ROUTE); rt)
    impl->res.rtnl.emplace(std::move(*rt));
  else
    impl->res.rtnl_error = rt.error().message();
  return RstInjector(std::move(impl));
}

RstInjector::RstInjector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RstInjector::RstInjector(RstInjector&&) noexcept = default;
RstInjector& RstInjector::operator=(RstInjector&&) noexcept = default;
RstInjector::~RstInjector() = default;

std::vector<ReapOutcome> RstInjector::reset(std::span<const TcpSocket> sockets, const RstOptions& options) {
  return ResetCall(impl_->res, sockets, options).run();
}

}  // namespace tcpreap
