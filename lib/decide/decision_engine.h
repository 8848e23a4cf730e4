#pragma once
// Verdicts for the sockets of a scan: which policy decides for each, whether
// it looks dead and since how many scans, and which of the dead a scan may
// act on. A function of the sockets, the config, and what earlier scans saw,
// and of nothing else: no clock of its own, no I/O.
//
// History is kept per socket cookie, so a recycled 4-tuple is a new socket,
// and only for sockets in scope that the last scan saw: memory is bounded by
// the sockets policies match. Not thread-safe.
//
// One scan may cover several network namespaces (cycle/reap_cycle.h): each
// is a slot, entered with begin_namespace() before its sockets are observed.
// A socket cookie is unique across every namespace of the kernel (one
// global counter, net/core/sock_diag.c), so history stays per socket and
// hence per namespace; what groups sockets - per-peer limits - groups by
// (namespace, peer); the caps count over the whole scan.

#include <chrono>
#include <deque>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/config.h"
#include "decide/cookie_set.h"
#include "decide/verdict.h"
#include "verify/probe_outcome.h"

namespace tcpreap {

class DecisionEngine {
 public:
  using Clock = std::chrono::steady_clock;

  explicit DecisionEngine(Config config);

  // A new config (SIGHUP). History survives for sockets whose policy keeps
  // its name; a socket now decided by another policy starts over.
  void reload(Config config);
  const Config& config() const { return config_; }

  // Treats every policy's confirm as this many scans (the one-shot CLI
  // passes 1: a single scan stands for confirm). nullopt: the policies'.
  void override_confirm(std::optional<uint32_t> scans) { confirm_override_ = scans; }

  // Which in-scope sockets finish_scan() returns.
  //  - kAll (the default; `tcpreap list` and `reap` print them): every one.
  //  - kActionable (the daemon, which only acts on and counts the rest):
  //    those that may be suspect, verifying or dead, and every socket of a
  //    policy with a per-peer limit (ranking a peer's connections needs them
  //    all). A socket nothing says is dead is settled as alive when
  //    observed: its history is updated then, and no entry is kept - 280
  //    bytes per in-scope socket and turn, most of a healthy server's.
  // Verdicts, history and counters are the same either way.
  enum class Retain : uint8_t { kAll, kActionable };
  void set_retain(Retain r) { retain_ = r; }

  // One scan: begin, observe every socket, finish.
  void begin_scan(Clock::time_point now);
  // The sockets observed from now on belong to namespace `slot` (0 until
  // called: a scan of one namespace never calls it). `policies`, when not
  // empty, holds one flag per policy of the config: whether it applies in
  // this namespace (match.namespaces); a policy flagged 0 decides nothing
  // here. The span must outlive the namespace's observations.
  void begin_namespace(uint32_t slot, std::span<const uint8_t> policies = {});
  // Forgets what was observed since the last begin_namespace() (or
  // begin_scan()): its dump restarted, or failed part way. The sockets of the
  // namespaces before it stay.
  void abandon_namespace();
  // Out of scope and protected sockets are decided at once and not kept:
  // their decision is returned. A socket in scope is kept until
  // finish_scan() (per-peer limits need the whole scan): nullopt. With
  // Retain::kActionable, one nothing says is dead is settled at once.
  //
  // A dump is not a snapshot: a socket that moves between the kernel's hash
  // chains while they are walked can be listed twice. A socket whose cookie
  // this scan has seen already is ignored (nullopt, nothing kept): the first
  // listing counts, once, for every limit and for confirm. Allocates nothing
  // per socket once a scan of as many sockets has been made.
  std::optional<Decision> observe(const TcpSocket& s);

  struct Entry {
    TcpSocket socket;
    Decision decision;
    uint32_t netns = 0;  // the begin_namespace() slot it was observed in
  };
  // Applies per-peer limits, confirm, verification and the caps, forgets
  // the sockets this scan did not see, and returns the in-scope sockets of
  // the scan with their decisions, in the order observed. Valid until the
  // next begin_scan().
  //
  // The caps. Of the dead, the longest-silent go first; a dead socket is
  // held_back (left for a later scan) past reap.max_per_scan, its policy's
  // max_per_scan, or reap.max_per_minute: the dead let through over the
  // last 60 s of scan time, each connection counted once while it stays
  // dead - so a dry run, which finds its dead again every scan, holds back
  // what a real run would (and a failed reap retried takes no more room).
  // The verifying count towards none of these. Of the verifying whose probe
  // is due, the longest-silent go first; past their policy's
  // verify.max_per_scan the rest stay verifying with probe.deferred instead
  // of probe.due, due again on the next scan.
  const std::vector<Entry>& finish_scan();

  size_t remembered() const { return history_.size(); }
  // The time the current (or last) scan began.
  Clock::time_point scan_time() const { return now_; }

  // ---- Liveness verification (policy `verify`) ----------------------------
  // A socket of a verifying policy found dead by silence (silent_for or the
  // per-peer limit) on `confirm` scans is not dead but kVerifying, with
  // Decision::probe saying where it stands; probe.due asks the caller to
  // probe its peer now and report with record_probe(). It is dead once
  // `verify.probes` probes went unanswered for `verify.interval` after the
  // last one; it is alive again as soon as a scan shows anything received
  // (the peer's ACK to a probe refreshes last_ack_recv). The engine sends
  // nothing itself.
  //
  // Probes that reached the wire count towards `verify.probes`, one the peer
  // answered with RST too (the kernel closes the socket on that RST anyway).
  // An attempt that sent nothing (kNoAnswer, kNotEstablished, kFailed, and
  // kGone for a socket the next scan still sees) is retried, forever, and
  // backs off: retry_delay() after it, one interval after the first failure
  // in a row, doubling with each further one up to 8 intervals. A socket
  // that cannot be probed stays verifying and is never found dead by
  // verification. A probe that reached the wire ends the backoff. A probe
  // answered (kAnswered) is the socket looking alive: the count starts over,
  // the next probe due one interval later. A socket dead after verification
  // keeps its probe state in Decision::probe, for reports.

  // What probing the socket `cookie` (a verifying entry of the last scan)
  // gave, at `at`. Unknown cookies, and sockets the last scan did not find
  // verifying, are ignored. kGone is a failed attempt, backed off like one,
  // but counted in probe_counters().failed only once a scan sees the socket
  // still there (usually the socket closed, and the next scan drops it).
  void record_probe(uint64_t cookie, const ProbeOutcome& outcome, Clock::time_point at);

  // The wait before the next attempt after `failures` consecutive failed
  // attempts (0: after a probe that reached the wire): `interval`, doubled
  // per failure beyond the first, at most 8 x `interval`.
  static Duration retry_delay(Duration interval, uint8_t failures);

  // When the next probe or verification verdict is due, over the sockets the
  // last scan found verifying: a loop should scan again no later than this.
  // It may be the last scan's time or earlier (a probe is due and none was
  // reported since, or it was deferred by verify.max_per_scan): a loop must
  // keep a floor of its own between scans (cycle/turn_schedule.h). nullopt:
  // no socket is verifying.
  std::optional<Clock::time_point> next_verify_due() const;

  // Since the engine was made (reload keeps them).
  const ProbeCounters& probe_counters() const { return probe_counters_; }

 private:
  // Per socket in scope: ~64 bytes (fields ordered to pack), and a hash
  // node around it.
  struct History {
    static constexpr uint32_t kNoPolicy = UINT32_MAX;  // its policy went in a reload
    Clock::time_point state_since;
    Clock::time_point outstanding_since;
    std::optional<Clock::time_point> last_probe;  // or failed attempt; none: a probe is due at once
    Duration verify_interval{};                   // the policy's verify.interval
    uint64_t last_scan = 0;  // the scan that last observed it in scope (0: none, or abandoned)
    uint32_t dead_scans = 0;
    // The index in config_.policies of the policy that decided last time;
    // reload() maps it to the new config's by name.
    uint32_t policy = kNoPolicy;
    uint8_t state = 0;
    bool outstanding = false;  // data or probes outstanding at the last scan
    // Verification: reset whenever the socket is neither verifying nor dead
    // after verification; the counts also when a probe is answered.
    uint8_t probes_sent = 0;      // saturating
    uint8_t probes_resolved = 0;  // of those, counted as answered, unanswered or reset
    uint8_t probe_failures = 0;   // consecutive; saturating
    bool verifying = false;       // the last scan's verdict was kVerifying
    bool gone_unconfirmed = false;  // a probe found it gone; a scan seeing it makes that a failure
    // Dead and let through the caps: counted against reap.max_per_minute
    // already, for as long as it stays dead.
    bool released = false;
  };
  static_assert(sizeof(History) <= 64, "History is kept for every socket in scope");

  int policy_for(const TcpSocket& s) const;
  bool is_protected(const TcpSocket& s) const;
  void apply_per_peer_limits();
  void apply_caps();
  void apply_probe_caps();
  // The dead let through the caps over the last minute, up to now_.
  uint64_t released_last_minute();
  // The verdict of a socket its policy verifies, found dead by silence on
  // `confirm` scans: kVerifying or kDead, with d.probe filled in.
  void verify(const Verify& v, History& h, Decision& d);
  // Brings the socket's history up to this scan and gives `d`, which
  // observe() filled in and per-peer limits may have changed, its verdict:
  // alive, suspect, verifying or dead (before the caps). `known`: its
  // history, when the caller found it already (one hash lookup, not two).
  void settle(const TcpSocket& s, Decision& d, History* known = nullptr);
  // Ends a verification (the socket is not verifying any more); `alive`:
  // nothing says it is dead, so a probe still outstanding was answered.
  void stop_verifying(History& h, bool alive);

  Config config_;
  std::optional<uint32_t> confirm_override_;
  Retain retain_ = Retain::kAll;
  std::unordered_map<uint64_t, History> history_;
  std::vector<Entry> entries_;
  // This scan's cookies of sockets decided at once (out of scope,
  // protected). A socket in scope is told by its history's last_scan.
  CookieSet seen_;
  uint32_t slot_ = 0;                // the namespace being observed
  size_t slot_start_ = 0;            // its first entry
  std::span<const uint8_t> slot_policies_;  // empty: every policy applies
  // Scan time and how many dead it let through, over the last minute.
  std::deque<std::pair<Clock::time_point, uint32_t>> released_;
  // Working space of the caps, kept between scans.
  std::vector<Entry*> ranked_;
  std::vector<uint32_t> per_policy_;
  Clock::time_point now_;
  uint64_t scan_ = 0;
  ProbeCounters probe_counters_;
};

}  // namespace tcpreap
