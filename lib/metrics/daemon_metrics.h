#pragma once
// The daemon's Prometheus metrics: what tcpreapd counts, the process's own
// health (process_*, as every Prometheus client library exports it), and
// the HTTP endpoint (GET /metrics, text format 0.0.4) a Prometheus server
// scrapes.
//
// Nothing of prometheus-cpp shows here; it is caught at its boundary, and
// no method throws (but for std::bad_alloc).
//
// Threads: listen() starts the HTTP server's threads, which read the metrics
// on every scrape; that is safe alongside the methods below. Threads inherit
// the signal mask of the thread that creates them, so the daemon must block
// the signals it handles (SIGHUP, SIGTERM, SIGINT) BEFORE calling listen(),
// or a scrape thread may take them. The methods themselves may be called
// from any thread, but are meant for the daemon's one event-loop thread.
//
// Destroying a DaemonMetrics that listens takes up to 2 s: civetweb's
// listener notices the stop only at the end of its 2 s poll.
//
// What clients can do to a scrape (civetweb gives each connection one
// worker until a whole request has come; one request per connection, no
// keep-alive):
//  - fewer than kMetricsWorkers (64) clients that connect and send nothing,
//    or half a request, never delay a scrape: a worker is free for it;
//  - kMetricsWorkers or more such clients at once delay it until a worker
//    times one out: each is cut kMetricsRequestTimeoutMs (5 s) after its
//    accept, at most twice that for one trickling a byte at a time. N
//    clients arriving together ahead of a scrape delay it by about
//    ceil((N - 63) / 64) * 5 s; a client that reconnects as fast as it is
//    cut can keep the endpoint busy - give it no untrusted network;
//  - the server holds at most kMetricsWorkers connections in workers,
//    kMetricsConnectionQueue (32) accepted ones waiting for a worker (one
//    descriptor each: at most 96 in all), and the kernel's backlog
//    kMetricsListenBacklog (64) more, not yet accepted.
// Each worker thread costs about 16 KiB resident while idle (its stack's
// touched pages and request buffer; measured 2 -> 64 workers: +1 MiB RSS)
// and 8 MiB of virtual stack, which costs no memory until touched.
//
// Out of descriptors (RLIMIT_NOFILE), civetweb's accept() fails and its
// listener polls again at once: one CPU spins while a connection waits to
// be accepted, until a descriptor is free (tcpreapd frees some: see
// core/descriptor_reserve.h).
//
// A moved-from DaemonMetrics may only be destroyed or assigned to.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "verify/probe_outcome.h"

namespace tcpreap {

// The endpoint's bounds, as described above.
inline constexpr int kMetricsWorkers = 64;
inline constexpr int kMetricsRequestTimeoutMs = 5000;
inline constexpr int kMetricsConnectionQueue = 32;
inline constexpr int kMetricsListenBacklog = 64;

class DaemonMetrics {
 public:
  // Registers every family and sets tcpreap_build_info{version,revision} 1.
  DaemonMetrics(std::string version, std::string revision);
  ~DaemonMetrics();
  DaemonMetrics(DaemonMetrics&&) noexcept;
  DaemonMetrics& operator=(DaemonMetrics&&) noexcept;
  DaemonMetrics(const DaemonMetrics&) = delete;
  DaemonMetrics& operator=(const DaemonMetrics&) = delete;

  // Serves GET /metrics on `address`, "HOST:PORT" by the config's rule for
  // metrics.listen (net/listen_address.h): HOST an IPv4 literal ("127.0.0.1",
  // "0.0.0.0" for every IPv4 address), PORT 1..65535; anything else, names
  // and IPv6 among them, is an Error carrying the config's message. A failure
  // to bind is an Error naming the address, with the errno when it can be
  // learned (EADDRINUSE, EACCES, EADDRNOTAVAIL). Call it once: a second call
  // is an Error, and the first endpoint stays.
  Status listen(const std::string& address);

  // tcpreap_dry_run 1 while decisions are only reported, 0 otherwise.
  void set_dry_run(bool on);

  // tcpreap_capability{capability="CAP_NET_ADMIN"|"CAP_NET_RAW"} 1 when
  // held, and tcpreap_rst_fallback_available 1 when RST injection can be
  // used. All 0 until set.
  void set_privileges(bool net_admin, bool net_raw, bool rst_fallback);

  // tcpreap_sock_destroy_supported 1 when the kernel showed it can
  // SOCK_DESTROY (reap/destroy_support.h), 0 when it cannot or could not be
  // asked. 0 until set.
  void set_sock_destroy_supported(bool supported);

  // A scan of `sockets_scanned` sockets took `seconds`: scans_total,
  // scan_duration_seconds, sockets_scanned, and the success timestamp (now).
  void scan_succeeded(double seconds, uint64_t sockets_scanned);
  // tcpreap_network_namespaces{state="scanned"|"failed"}: the namespaces
  // the last turn scanned, and those it could not (not entered, or their
  // dump failed).
  void set_namespaces(uint64_t scanned, uint64_t failed);
  // tcpreap_scan_dumps_skipped_total{family="ipv4"|"ipv6"}: dumps a turn
  // did not make because the kernel's counters found that family empty in
  // that namespace (netns/dump_families.h). Both series exist from 0.
  void dumps_skipped(uint64_t ipv4, uint64_t ipv6);
  // tcpreap_network_namespaces_restricted 1 when namespaces.scan is all
  // but only the own namespace is scanned, for want of privilege.
  void set_namespaces_restricted(bool restricted);
  // One namespace's dump failed while the turn went on:
  // scan_errors_by_cause_total{cause} only (scan_errors_total counts turns).
  void namespace_scan_failed(const Error& why);
  // A scan failed after `seconds`, for `why`: scans_total,
  // scan_errors_total and scan_errors_by_cause_total{cause} (the cause
  // derived from `why`, metrics/scan_error_cause.h), and its duration is
  // observed; the rest stays as the last success left it.
  void scan_failed(double seconds, const Error& why);

  // Creates, at 0, the series a policy's reaping will count - reaped (for
  // methods destroy and rst), would-reap and held back, for each of
  // `reasons` - so that rate() and increase() see its first reaps instead
  // of a series that appears already at 1. Idempotent; called at start and
  // on every reload with the config's policies.
  void declare_policy(const std::string& policy, const std::vector<std::string>& reasons);

  // One connection reaped by `method` ("destroy", "rst") under `policy`,
  // for `reason` (a short rule name).
  void reaped(const std::string& policy, const std::string& method, const std::string& reason);
  // Dry run: one connection that would have been reaped. Never counted as reaped.
  void would_reap(const std::string& policy, const std::string& reason);
  // One connection that could not be reaped by `method`; `error` is a short
  // outcome name ("no-answer", "not-permitted", "failed").
  void reap_failed(const std::string& method, const std::string& error);
  // `n` dead connections of `policy` left alone this scan (a reap limit:
  // max_per_scan or reap.max_per_minute).
  void held_back(const std::string& policy, uint64_t n);

  // Creates, at 0, the series of probes deferred for `policy`, which
  // verifies (see declare_policy). Idempotent.
  void declare_probes(const std::string& policy);
  // `n` probes of `policy` due this scan and left for the next by its
  // verify.max_per_scan: tcpreap_probes_deferred_total{policy}.
  void probes_deferred(const std::string& policy, uint64_t n);

  // The per-policy counts after a scan. Pass every configured policy, with
  // 0 where it has none: a policy absent from a map has its series REMOVED
  // from that family (a policy dropped by a reload disappears from the
  // scrape rather than staying at a stale 0).
  void set_connections(const std::map<std::string, uint64_t>& suspect,
                       const std::map<std::string, uint64_t>& verifying);

  // The decision engine's cumulative probe counts: tcpreap_probes_*_total
  // and tcpreap_probe_errors_total (failed) advance by the difference from
  // the previous call; a count below the previous one means the source
  // started again from zero, and all of it is added.
  void set_probe_totals(const ProbeCounters& totals);

  // The configuration was loaded (at start): config_last_reload_successful
  // 1 or 0, and on success its timestamp (now).
  void config_loaded(bool ok);
  // A reload (SIGHUP): config_loaded(ok), and
  // config_reloads_total{result="success"|"failure"} + 1.
  void config_reloaded(bool ok);

  // Everything in the Prometheus text format 0.0.4, as a scrape returns it:
  // tcpreap's families, then the standard process metrics (process_*, read
  // from /proc/self at each scrape: metrics/process_collector.h).
  std::string text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tcpreap
