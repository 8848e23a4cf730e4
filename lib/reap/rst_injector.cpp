#include "reap/rst_injector.h"

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "diag/scan_query.h"
#include "diag/socket_scanner.h"
#include "net/tcp_state.h"
#include "netlink/netlink_socket.h"
#include "netlink/route_netlink.h"
#include "reap/packet_capture.h"
#include "reap/raw_sender.h"
#include "reap/tcp_packet.h"

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

// ---- Temporary neighbour entries -------------------------------------------

// The neighbour entries one reset() call made, each shared by the sockets
// whose peer it serves, deleted when the last of them is finished and, in
// any case, when the PinSet goes.
class PinSet {
 public:
  // `rtnl` may be null (no route netlink socket): `why_not` says why.
  PinSet(RouteNetlink* rtnl, std::string why_not) : rtnl_(rtnl), why_not_(std::move(why_not)) {}
  PinSet(const PinSet&) = delete;
  PinSet& operator=(const PinSet&) = delete;
  ~PinSet() {
    for (size_t i = 0; i < pins_.size(); ++i)
      if (pins_[i].users > 0) drop(i);
  }

  // Pins the neighbour through which `local` reaches `peer` if it is
  // unresolved. Returns the pin to release later, or nothing (not needed,
  // not possible); `note` says what was found or done.
  std::optional<size_t> acquire(const IpAddress& peer, const IpAddress& local, std::string& note) {
    if (!rtnl_) {
      note = "cannot check the neighbour: " + why_not_;
      return std::nullopt;
    }
    auto route = rtnl_->route_to(peer, local);
    if (!route) {
      note = route.error().message();
      return std::nullopt;
    }
    if (route->type != RTN_UNICAST || route->oif == 0) {
      note = "the route to " + peer.to_string() + " is not a unicast route through a device (type " +
             std::to_string(route->type) + "): no neighbour to pin";
      return std::nullopt;
    }
    const IpAddress target = route->gateway.value_or(peer);
    if (route->foreign_gateway || target.family != peer.family) {
      note = "the route to " + peer.to_string() + " has a gateway of another family: not pinned";
      return std::nullopt;
    }
    for (size_t i = 0; i < pins_.size(); ++i) {
      if (pins_[i].users > 0 && pins_[i].ifindex == route->oif && pins_[i].addr == target) {
        ++pins_[i].users;
        note = pins_[i].what;
        return i;
      }
    }
    auto link = rtnl_->link(route->oif);
    if (!link) {
      note = link.error().message();
      return std::nullopt;
    }
    const std::string where = target.to_string() + " on " + link->name;
    auto before = rtnl_->neighbour(route->oif, target);
    if (!before) {
      note = before.error().message();
      return std::nullopt;
    }
    if (!neighbour_unresolved(before->state) || (link->flags & IFF_NOARP) || link->addr_len == 0) {
      note = "neighbour " + where + " is " + nud_state_name(before->state) + ": not the reason, not pinned";
      return std::nullopt;
    }
    const std::vector<uint8_t> null_lladdr(link->addr_len, 0);
    if (auto s = rtnl_->add_permanent(route->oif, target, null_lladdr); !s) {
      note = "neighbour " + where + " is " + nud_state_name(before->state) + "; pinning it failed: " + s.error().message();
      return std::nullopt;
    }
    // Ours only if it now holds our address: a valid entry that appeared
    // in between kept its own, and is not ours to delete.
    auto after = rtnl_->neighbour(route->oif, target);
    if (!after || after->state != NUD_PERMANENT || after->lladdr != null_lladdr) {
      note = "neighbour " + where + " changed while being pinned; left alone";
      return std::nullopt;
    }
    Pin pin{route->oif, target, 1,
            "neighbour " + where + " was " + nud_state_name(before->state) + ": pinned it NUD_PERMANENT for the answer"};
    note = pin.what;
    pins_.push_back(std::move(pin));
    return pins_.size() - 1;
  }

  void release(size_t i) {
    if (pins_[i].users > 0 && --pins_[i].users == 0) drop(i);
  }

  // Deletion failures, for the record ("" when none).
  const std::string& errors() const { return errors_; }

 private:
  struct Pin {
    uint32_t ifindex;
    IpAddress addr;
    int users;
    std::string what;
  };

  void drop(size_t i) {
    pins_[i].users = 0;
    if (auto s = rtnl_->remove(pins_[i].ifindex, pins_[i].addr); !s)
      errors_ += (errors_.empty() ? "" : "; ") + s.error().message();
  }

  RouteNetlink* rtnl_;
  std::string why_not_;
  std::vector<Pin> pins_;
  std::string errors_;
};

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

// ---- Per-socket work ---------------------------------------------------------

bool synchronized_state(uint8_t state) {
  switch (static_cast<TcpState>(state)) {
    case TcpState::kEstablished:
    case TcpState::kFinWait1:
    case TcpState::kFinWait2:
    case TcpState::kCloseWait:
    case TcpState::kLastAck:
    case TcpState::kClosing:
      return true;
    default:
      return false;
  }
}

// The socket's local -> peer direction as it appears in packets: a
// dual-stack IPv6 socket with an IPv4 peer speaks IPv4.
std::optional<Flow> wire_flow(const TcpSocket& s) {
  auto canonical = [](const IpAddress& a) {
    if (a.family == Family::kIPv4) return IpAddress::v4(a.bytes.data());  // zero the unused 12 bytes
    return a.is_v4_mapped() ? a.unmapped() : a;
  };
  const IpAddress local = canonical(s.local), remote = canonical(s.remote);
  if (local.family != remote.family) return std::nullopt;
  return Flow{local, remote, s.local_port, s.remote_port};
}

bool link_local(const IpAddress& a) { return a.family == Family::kIPv6 && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80; }

enum class Phase : uint8_t { kProbing, kVerifying, kFinished };

struct Work {
  size_t index = 0;  // into the caller's sockets and outcomes
  const TcpSocket* socket = nullptr;
  Flow flow;  // local -> peer
  Phase phase = Phase::kProbing;

  int syns = 0;        // SYNs since the current round began
  int total_syns = 0;  // SYNs in all
  Clock::time_point first_syn{}, last_syn{}, next_syn{};
  bool pin_checked = false;
  std::optional<size_t> pin;  // held while the socket is worked on
  bool pinned = false;        // a temporary neighbour entry served it
  std::string note;  // the neighbour decision, for the detail

  int rsts = 0;
  uint32_t rst_seq = 0;
  ReapResult if_gone = ReapResult::kDone;  // what the dump confirms when the socket is gone
  std::string why;                         // the answer that led to the verification
  Clock::time_point rst_at{}, verify_at{};
  size_t checks = 0;
};

// What every reset() call uses, opened once in the injector's namespace.
struct Resources {
  PacketCapture capture;
  RawSender sender;
  SocketScanner scanner;
  std::optional<RouteNetlink> rtnl;  // absent: neighbours cannot be pinned,
  std::string rtnl_error;            // and this says why
  std::mt19937 rng;
};

// One reset() call: the sockets being worked on, their timers and the one
// poll loop that drives them all. Lives for the call only.
class ResetCall {
 public:
  ResetCall(Resources& res, std::span<const TcpSocket> sockets, const RstOptions& options)
      : res_(res), sockets_(sockets), options_(options) {
    options_.attempts = std::max(options_.attempts, 1);
  }

  std::vector<ReapOutcome> run();

 private:
  // Sorts out what can be worked on; refused sockets get their outcome now.
  void admit();
  // The most precise capture program the kernel takes.
  Status start_capture();
  void loop();
  void read_frames();

  void finish(Work& w, ReapResult result, int errnum, std::string detail);
  void fail_all(const Error& e);
  Status send_to_local(const Work& w, uint8_t flags, uint32_t seq);
  void send_syn(Work& w, Clock::time_point now);
  void advance(Work& w, Clock::time_point now);
  Clock::time_point next_event(const Work& w) const;
  void start_verify(Work& w, Clock::time_point now, ReapResult if_gone, std::string why);
  void on_segment(Work& w, const TcpSegment& seg, Clock::time_point now);
  void verify(Clock::time_point now);

  Resources& res_;
  std::span<const TcpSocket> sockets_;
  RstOptions options_;
  std::vector<ReapOutcome> out_;
  std::vector<Work> work_;
  std::unordered_map<Flow, size_t, FlowHash> by_flow_;  // -> index into work_
  std::vector<std::pair<size_t, size_t>> duplicates_;   // (socket index, work index)
  std::optional<ScanQuery> verification_;
  std::optional<PinSet> pins_;
  CaptureMatch match_ = CaptureMatch::kExactFlows;
  size_t unfinished_ = 0;
};

std::vector<ReapOutcome> ResetCall::run() {
  out_.assign(sockets_.size(), ReapOutcome{ReapResult::kFailed, ReapVia::kRst, 0, ""});
  admit();
  if (work_.empty()) return std::move(out_);

  std::vector<const TcpSocket*> targets;
  for (const Work& w : work_) targets.push_back(w.socket);
  auto query = verification_query(targets);
  if (!query) {
    fail_all(query.error().wrap("preparing the verification dump"));
    return std::move(out_);
  }
  verification_.emplace(std::move(*query));
  if (auto s = start_capture(); !s) {
    fail_all(s.error().wrap("setting up the capture"));
    return std::move(out_);
  }
  (void)res_.capture.take_drops();  // count from here

  pins_.emplace(res_.rtnl ? &*res_.rtnl : nullptr, res_.rtnl_error);
  loop();
  // Every socket is finished: each released its pin, which deleted the
  // entries; the PinSet's destructor is the safety net for the others.
  const std::string pin_errors = pins_->errors();
  pins_.reset();

  // Leave the capture idle between calls: nothing queues up.
  (void)res_.capture.set_program(drop_all_program());
  auto drops = res_.capture.take_drops();
  for (Work& w : work_) {
    ReapOutcome& r = out_[w.index];
    if (r.result == ReapResult::kNoAnswer) {
      if (drops && *drops > 0) r.detail += "; the capture dropped " + std::to_string(*drops) + " frame(s)";
      if (match_ != CaptureMatch::kExactFlows)
        r.detail += std::string("; the capture program matched ") +
                    (match_ == CaptureMatch::kSourcePorts ? "source ports only" : "all TCP");
    }
    if (w.pinned && !pin_errors.empty())
      r.detail += "; removing the temporary neighbour entry failed: " + pin_errors;
  }
  for (auto [i, k] : duplicates_) out_[i] = out_[work_[k].index];
  return std::move(out_);
}

void ResetCall::admit() {
  for (size_t i = 0; i < sockets_.size(); ++i) {
    const TcpSocket& s = sockets_[i];
    ReapOutcome& r = out_[i];
    if (!synchronized_state(s.state)) {
      r.detail = std::string("state ") + state_label(s.state) +
                 ": an RST only resets a synchronized connection (ESTABLISHED, CLOSE-WAIT, FIN-WAIT, ...); not touched";
      continue;
    }
    auto flow = wire_flow(s);
    if (!flow || s.local_port == 0 || s.remote_port == 0) {
      r.detail = "not a connection between two IP endpoints of one family: " + s.local.to_string() + " and " +
                 s.remote.to_string() + "; not touched";
      continue;
    }
    if (flow->src.family == Family::kIPv6 && !res_.sender.has_ipv6()) {
      r.errnum = EAFNOSUPPORT;
      r.detail = "no IPv6 raw socket in this network namespace; not touched";
      continue;
    }
    if (auto [it, inserted] = by_flow_.try_emplace(*flow, work_.size()); !inserted) {
      duplicates_.emplace_back(i, it->second);
      continue;
    }
    Work w;
    w.index = i;
    w.socket = &s;
    w.flow = *flow;
    work_.push_back(std::move(w));
  }
  unfinished_ = work_.size();
}

Status ResetCall::start_capture() {
  // See compile_capture_program for why the kernel can refuse an exact
  // program with ENOMEM; by_flow_ checks every frame's 4-tuple whatever the
  // program let through.
  std::vector<Flow> flows;
  for (const Work& w : work_) flows.push_back(w.flow);
  Status attached = Error(0, "no capture program fits");
  for (CaptureMatch m : {CaptureMatch::kExactFlows, CaptureMatch::kSourcePorts, CaptureMatch::kAnyTcp}) {
    auto code = compile_capture_program(flows, m);
    if (!code) continue;
    match_ = m;
    attached = res_.capture.set_program(*code);
    if (attached || attached.error().errnum() != ENOMEM) break;
  }
  return attached;
}

void ResetCall::loop() {
  while (unfinished_ > 0) {
    Clock::time_point now = Clock::now();
    bool due = false;
    for (Work& w : work_) {
      if (w.phase == Phase::kProbing) advance(w, now);
      due = due || (w.phase == Phase::kVerifying && w.verify_at <= now);
    }
    if (due) verify(Clock::now());
    if (unfinished_ == 0) break;

    now = Clock::now();
    Clock::time_point wake = Clock::time_point::max();
    for (const Work& w : work_)
      if (w.phase != Phase::kFinished) wake = std::min(wake, next_event(w));
    const auto wait = std::clamp<milliseconds::rep>(std::chrono::ceil<milliseconds>(wake - now).count(), 0, 60'000);
    pollfd p{res_.capture.fd(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(wait));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      fail_all(Error(errno, "waiting on the capture"));
      return;
    }
    if (ready > 0) read_frames();
  }
}

void ResetCall::read_frames() {
  std::array<uint8_t, 256> frame{};  // more than kCaptureSnapLen
  while (unfinished_ > 0) {
    auto f = res_.capture.next(frame);
    if (!f) {
      fail_all(f.error());
      return;
    }
    if (!*f) return;
    // Malformed frames are skipped: the program let through only headers it
    // checked, so this is a kernel surprise, not something a peer can send.
    auto seg = parse_segment({frame.data(), (*f)->size});
    if (!seg) continue;
    auto it = by_flow_.find(seg->flow);  // the program may be coarser than exact
    if (it == by_flow_.end()) continue;
    Work& w = work_[it->second];
    if (w.phase != Phase::kProbing) continue;  // a duplicate or late answer
    on_segment(w, *seg, Clock::now());
  }
}

void ResetCall::finish(Work& w, ReapResult result, int errnum, std::string detail) {
  if (w.pin) {
    pins_->release(*w.pin);
    w.pin.reset();
  }
  if (!w.note.empty()) detail += "; " + w.note;
  out_[w.index] = ReapOutcome{result, ReapVia::kRst, errnum, std::move(detail)};
  w.phase = Phase::kFinished;
  --unfinished_;
}

void ResetCall::fail_all(const Error& e) {
  for (Work& w : work_)
    if (w.phase != Phase::kFinished) finish(w, ReapResult::kFailed, e.errnum(), e.message());
}

// Sends a segment from the peer to the local socket: it loops back through
// `lo` to the socket (a local destination never leaves the host).
Status ResetCall::send_to_local(const Work& w, uint8_t flags, uint32_t seq) {
  TcpSegment seg;
  seg.flow = w.flow.reversed();
  seg.flags = flags;
  seg.seq = seq;
  seg.window = (flags & tcp_flag::kSyn) ? 65535 : 0;
  auto packet = build_segment(seg);
  if (!packet) return packet.error();
  return res_.sender.send(*packet, w.flow.src, link_local(w.flow.src) ? w.socket->interface : 0);
}

void ResetCall::send_syn(Work& w, Clock::time_point now) {
  // Any sequence number: a synchronized socket answers every SYN with a
  // challenge ACK (RFC 5961 4.2; tcp_validate_incoming()). No options, so
  // no timestamp for PAWS to reject.
  const uint32_t seq = static_cast<uint32_t>(res_.rng());
  if (auto s = send_to_local(w, tcp_flag::kSyn, seq); !s) {
    finish(w, ReapResult::kFailed, s.error().errnum(), "sending the SYN: " + s.error().message());
    return;
  }
  if (w.total_syns == 0) w.first_syn = now;
  ++w.syns;
  ++w.total_syns;
  w.last_syn = now;
  w.next_syn = now + options_.retry_after;
}

// The timers of a socket waiting for an answer.
void ResetCall::advance(Work& w, Clock::time_point now) {
  if (w.syns > 0 && !w.pin_checked && now >= w.last_syn + options_.answer_timeout) {
    w.pin_checked = true;  // once per socket, after its first unanswered SYN
    if (options_.pin_neighbour) {
      w.pin = pins_->acquire(w.flow.dst, w.flow.src, w.note);
      w.pinned = w.pin.has_value();
    }
  }
  if (w.syns >= options_.attempts) {
    if (now >= w.last_syn + options_.answer_timeout) {
      const auto waited = std::chrono::duration_cast<milliseconds>(now - w.first_syn).count();
      std::string detail =
          "no answer to " + std::to_string(w.total_syns) + " SYN(s) in " + std::to_string(waited) + " ms";
      if (w.note.empty()) detail += " (a firewall, a TCP-MD5/AO socket, or an unresolved neighbour of the peer?)";
      finish(w, ReapResult::kNoAnswer, 0, std::move(detail));
    }
    return;
  }
  if (now >= w.next_syn) send_syn(w, now);
}

Clock::time_point ResetCall::next_event(const Work& w) const {
  if (w.phase == Phase::kVerifying) return w.verify_at;
  if (w.syns >= options_.attempts) return w.last_syn + options_.answer_timeout;
  Clock::time_point t = w.next_syn;
  if (w.syns > 0 && !w.pin_checked) t = std::min(t, w.last_syn + options_.answer_timeout);
  return t;
}

void ResetCall::start_verify(Work& w, Clock::time_point now, ReapResult if_gone, std::string why) {
  w.phase = Phase::kVerifying;
  w.if_gone = if_gone;
  w.why = std::move(why);
  w.rst_at = now;
  w.checks = 0;
  w.verify_at = now + kVerifyDelays[0];
}

// An answer (or any segment) from the local socket to its peer.
void ResetCall::on_segment(Work& w, const TcpSegment& seg, Clock::time_point now) {
  if (seg.has(tcp_flag::kRst)) {
    start_verify(w, now, ReapResult::kAlreadyGone, "an RST answered: no socket has this 4-tuple any more");
    return;
  }
  if (seg.has(tcp_flag::kSyn) && seg.has(tcp_flag::kAck)) {
    // A listener's embryo (request socket) answered. Its rcv_nxt is our
    // SYN's seq + 1, which the SYN-ACK acknowledges: an RST there makes
    // tcp_check_req() drop the embryo. Never the established path.
    std::string detail = "a SYN-ACK answered: a listener, not an established socket, has this 4-tuple; ";
    if (auto s = send_to_local(w, tcp_flag::kRst, seg.ack); !s)
      detail += "resetting its embryo failed: " + s.error().message();
    else
      detail += "its embryo was reset";
    finish(w, ReapResult::kNotEstablished, 0, std::move(detail));
    return;
  }
  if (!seg.has(tcp_flag::kAck) || seg.has(tcp_flag::kSyn)) return;  // not from a synchronized socket
  // A challenge ACK, or any segment of the connection: ack = rcv_nxt. Only
  // an RST at exactly rcv_nxt resets (RFC 5961 3.2; rcv_nxt + 1 only draws
  // another challenge ACK).
  if (auto s = send_to_local(w, tcp_flag::kRst, seg.ack); !s) {
    finish(w, ReapResult::kFailed, s.error().errnum(), "sending the RST: " + s.error().message());
    return;
  }
  ++w.rsts;
  w.rst_seq = seg.ack;
  start_verify(w, now, ReapResult::kDone, "");
}

// One dump for every socket being verified: a socket is gone when its
// cookie is (a new connection on the same 4-tuple has another cookie).
void ResetCall::verify(Clock::time_point now) {
  std::unordered_set<uint64_t> present;
  CookieSink sink(present);
  Status dumped = Ok{};
  if (auto st = res_.scanner.scan(*verification_, sink); !st) dumped = st.error();
  for (Work& w : work_) {
    if (w.phase != Phase::kVerifying) continue;
    if (!dumped) {
      if (w.verify_at <= now)
        finish(w, ReapResult::kFailed, dumped.error().errnum(),
               (w.rsts > 0 ? "RST sent, but verifying failed: " : "verifying failed: ") + dumped.error().message());
      continue;
    }
    if (!present.contains(w.socket->cookie)) {
      if (w.if_gone == ReapResult::kDone)
        finish(w, ReapResult::kDone, 0,
               "reset by an RST at rcv_nxt " + std::to_string(w.rst_seq) + " after " + std::to_string(w.total_syns) +
                   " SYN(s); gone from a fresh dump");
      else
        finish(w, w.if_gone, 0, w.why);
      continue;
    }
    if (w.verify_at > now) continue;  // its RST may still be on its way
    if (++w.checks < kVerifyDelays.size()) {
      w.verify_at = w.rst_at + kVerifyDelays[w.checks];
      continue;
    }
    if (w.if_gone == ReapResult::kAlreadyGone) {
      finish(w, ReapResult::kFailed, 0,
             "an RST answered the SYN, yet the socket is still there (the SYN reached another socket?)");
    } else if (w.rsts < kMaxRsts) {
      // rcv_nxt may have moved (a live peer sent data): ask again, no sooner
      // than the challenge-ACK rate limit allows.
      w.phase = Phase::kProbing;
      w.syns = 0;
      w.next_syn = std::max(now, w.last_syn + options_.retry_after);
    } else {
      finish(w, ReapResult::kFailed, 0,
             "still there after " + std::to_string(w.rsts) + " RST(s) at rcv_nxt (last " + std::to_string(w.rst_seq) +
                 ")");
    }
  }
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
