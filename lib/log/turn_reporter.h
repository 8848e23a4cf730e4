#pragma once
// What tcpreapd says about each turn of its loop: the log lines
// (log/event_log.h), the Prometheus metrics (metrics/daemon_metrics.h) and
// the one line of STATUS= that systemd shows. The event loop runs the turn
// (cycle/reap_cycle.h) and hands the result here.
//
// A turn whose scan succeeded is said, in this order:
//  - each probe sent (or attempted): a probe line;
//  - each dead connection acted on: a reap line, naming the owning process
//    when it is found in time; done counts
//    tcpreap_reaped_connections_total{policy,method,reason}, a failure
//    tcpreap_reap_errors_total{method,error}, already gone neither;
//  - each of a dry run's dead: a would-reap line and
//    tcpreap_would_reap_connections_total{policy,reason} - once while it
//    stays dead, as a dry run finds the same dead turn after turn. One that
//    was not among the dead of the last turn that succeeded (it recovered,
//    or is new) is said again;
//  - the dead held back by a cap: no line, only
//    tcpreap_dead_connections_held_back_total{policy};
//  - each namespace whose dump failed (the others' turn went on): a
//    rate-limited error line per namespace, and
//    tcpreap_scan_errors_by_cause_total{cause}; then
//    tcpreap_network_namespaces{state};
//  - per policy, the suspect and verifying connections (every policy of
//    the config, 0 where it has none) and the probes deferred; the
//    engine's probe totals; the scan's duration and socket count;
//  - the cycle's notice, if any, as a warning; then a debug line counting
//    the turn.
// A turn whose scan failed is a rate-limited error line ("scan failed: ...")
// and counts tcpreap_scan_errors_total; nothing else changes.
//
// Not thread-safe: one per daemon, used from its event loop. The log and
// the metrics are borrowed and must outlive it.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "config/config.h"
#include "core/error.h"
#include "cycle/reap_cycle.h"
#include "diag/socket_owner.h"
#include "log/event_log.h"
#include "metrics/daemon_metrics.h"
#include "verify/probe_outcome.h"

namespace tcpreap {

class TurnReporter {
 public:
  // The processes owning these socket inodes; an inode not found is absent.
  using OwnerLookup = std::function<std::unordered_map<uint64_t, SocketOwner>(std::span<const uint64_t> inodes)>;

  // `owners` empty: find_socket_owners() over /proc, cut short after 50 ms
  // (a host with hundreds of thousands of descriptors takes most of a
  // second to walk, and the loop must not wait on a log detail). Asked
  // once per turn, and only when some connection was acted on or newly
  // found dead in a dry run.
  TurnReporter(EventLog& log, DaemonMetrics& metrics, OwnerLookup owners = {});

  // Creates, at 0, every series the policies of `config` will count: for
  // each, reaped and would-reap for the reasons its dead_when can give,
  // and probes deferred when it verifies. At start, and after each reload.
  void declare_policies(const Config& config);

  // A turn whose scan succeeded. `result` as ReapCycle::run() gave it
  // (entries still valid), decided under `config`; `probes` the engine's
  // probe counters after it; `sockets` the sockets the scan saw, in scope
  // or not; `notice` what the cycle had to say (ReapCycle::take_notice()).
  void turn_succeeded(const CycleResult& result, const Config& config, const ProbeCounters& probes, uint64_t sockets,
                      double seconds, const std::optional<std::string>& notice);

  // A turn whose scan failed with `why` after `seconds`: in each of its
  // `namespaces`.
  void turn_failed(const Error& why, double seconds, uint64_t namespaces = 1);

  // Namespaces found and meant to be scanned that could not be entered
  // (cycle/namespace_roster.h): counted as failed in
  // tcpreap_network_namespaces from the next turn on.
  void set_unopened_namespaces(uint64_t n) { unopened_namespaces_ = n; }

  // For STATUS=: "started; first scan now" before the first turn; "last
  // scan failed: <why>" after a failed one; else "last scan: N sockets [in K namespaces, when K > 1] in
  // M ms, S suspect, V verifying; R reaped" (R over the daemon's life),
  // ending " (dry run: none)" when `dry_run`.
  std::string status_line(bool dry_run) const;

 private:
  EventLog& log_;
  DaemonMetrics& metrics_;
  OwnerLookup owners_;
  std::unordered_set<uint64_t> said_dead_;  // cookies of the dry run's dead already said

  uint64_t unopened_namespaces_ = 0, last_namespaces_ = 1;
  uint64_t turns_ = 0, last_sockets_ = 0, last_suspect_ = 0, last_verifying_ = 0, reaped_total_ = 0;
  double last_seconds_ = 0;
  std::string last_error_;
};

}  // namespace tcpreap
