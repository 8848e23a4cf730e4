#include "metrics/daemon_metrics.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <exception>
#include <iterator>
#include <mutex>
#include <utility>

#include "metrics/process_collector.h"
#include "metrics/scan_error_cause.h"
#include "core/unique_fd.h"
#include "net/listen_address.h"

namespace tcpreap {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Registry;

// Scan durations: a scan of a quiet host takes about a millisecond, a
// million sockets a few seconds. 1-2.5-5 steps from 1 ms to 10 s.
const Histogram::BucketBoundaries kScanBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                  0.25,  0.5,    1,     2.5,  5,     10};

double now_seconds() {
  using std::chrono::duration;
  using std::chrono::system_clock;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// How much a cumulative count grew since `last`; a smaller count means the
// source started again from zero.
double growth(uint64_t now, uint64_t last) {
  return static_cast<double>(now >= last ? now - last : now);
}

// prometheus-cpp reports a failed bind only as "null context when
// constructing CivetServer". Binding the address ourselves the way civetweb
// does (SO_REUSEADDR) learns why; 0 when it binds now.
int why_bind_fails(const sockaddr_in& sin) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errno;
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0) return errno;
  return 0;
}

// civetweb's options for the endpoint; the bounds they give are stated in
// daemon_metrics.h (kMetricsWorkers and what follows).
//
// civetweb (1.15, Debian 12) hands each accepted connection to one worker
// thread, which keeps it until a whole request has arrived: a client that
// connects and sends nothing holds a worker for request_timeout_ms
// (read_message() measures from the accept, so trickling bytes does not
// extend it beyond one more poll wait). prometheus-cpp asks for 2 workers
// and civetweb's default timeout is 30 s: two idle connections blocked
// every scrape for 30 s, fifty for minutes.
std::vector<std::string> civetweb_options(const std::string& listening_port) {
  return {
      "listening_ports", listening_port,
      "num_threads", std::to_string(kMetricsWorkers),
      "request_timeout_ms", std::to_string(kMetricsRequestTimeoutMs),
      // Accepted connections waiting for a free worker; past these the
      // kernel's backlog holds them (no descriptor), past that SYNs wait.
      "connection_queue", std::to_string(kMetricsConnectionQueue),
      "listen_backlog", std::to_string(kMetricsListenBacklog),
      // One request per connection: a scraper's keep-alive connection
      // would hold a worker between scrapes.
      "enable_keep_alive", "no",
      // linger_timeout_ms stays unset: with SO_LINGER a close() waits on a
      // client that reads nothing; without it the kernel finishes the close.
  };
}

}  // namespace

struct DaemonMetrics::Impl {
  // Families are owned by the registry; the references stay valid as long
  // as it does, and the registry never moves (it is behind a pointer).
  std::shared_ptr<Registry> registry = std::make_shared<Registry>();

  Family<Gauge>& build_info = prometheus::BuildGauge()
      .Name("tcpreap_build_info")
      .Help("Always 1; the labels say which tcpreap build is running.")
      .Register(*registry);
  Gauge& dry_run = prometheus::BuildGauge()
      .Name("tcpreap_dry_run")
      .Help("1 when dead connections are only reported (dry run), 0 when they are reaped.")
      .Register(*registry)
      .Add({});
  Family<Gauge>& capability = prometheus::BuildGauge()
      .Name("tcpreap_capability")
      .Help("1 when the daemon holds the capability, 0 when it does not (it needs CAP_NET_ADMIN and CAP_NET_RAW).")
      .Register(*registry);
  Gauge& cap_net_admin = capability.Add({{"capability", "CAP_NET_ADMIN"}});
  Gauge& cap_net_raw = capability.Add({{"capability", "CAP_NET_RAW"}});
  Gauge& rst_fallback = prometheus::BuildGauge()
      .Name("tcpreap_rst_fallback_available")
      .Help("1 when RST injection can be used (where SOCK_DESTROY cannot, or reap.method is rst), 0 when not.")
      .Register(*registry)
      .Add({});
  Gauge& sock_destroy = prometheus::BuildGauge()
      .Name("tcpreap_sock_destroy_supported")
      .Help("1 when the kernel showed at start that it can SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY), "
            "0 when it cannot or could not be asked.")
      .Register(*registry)
      .Add({});

  Counter& scans = prometheus::BuildCounter()
      .Name("tcpreap_scans_total")
      .Help("Scans of the host's TCP sockets, successful or not.")
      .Register(*registry)
      .Add({});
  Counter& scan_errors = prometheus::BuildCounter()
      .Name("tcpreap_scan_errors_total")
      .Help("Scans that failed.")
      .Register(*registry)
      .Add({});
  // A family of its own, not a label on tcpreap_scan_errors_total: that
  // name stays one series, as the shipped alert and operators' queries use
  // it (a cause label would split an alert's `increase(...) > 0 for: 15m`
  // into one series per cause, and failures alternating between causes
  // would never hold it).
  Family<Counter>& scan_errors_by_cause = prometheus::BuildCounter()
      .Name("tcpreap_scan_errors_by_cause_total")
      .Help("Scans that failed, as a whole or in one network namespace, by cause: buffer-overrun, "
            "descriptors, permission, interrupted, protocol or other.")
      .Register(*registry);
  std::array<Counter*, kScanErrorCauses.size()> scan_error_causes = [this] {
    std::array<Counter*, kScanErrorCauses.size()> out{};
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = &scan_errors_by_cause.Add({{"cause", scan_error_cause_name(kScanErrorCauses[i])}});
    return out;
  }();
  Family<Gauge>& network_namespaces = prometheus::BuildGauge()
      .Name("tcpreap_network_namespaces")
      .Help("Network namespaces at the last turn: scanned, or failed (could not be entered or dumped).")
      .Register(*registry);
  Gauge& namespaces_scanned = network_namespaces.Add({{"state", "scanned"}});
  Gauge& namespaces_failed = network_namespaces.Add({{"state", "failed"}});
  Family<Counter>& dumps_skipped = prometheus::BuildCounter()
      .Name("tcpreap_scan_dumps_skipped_total")
      .Help("Socket dumps not made, per network namespace and turn, because the kernel's counters "
            "(sockstat TCP inuse, sockstat6 TCP6 inuse) found no socket of that family there.")
      .Register(*registry);
  Counter& dumps_skipped_ipv4 = dumps_skipped.Add({{"family", "ipv4"}});
  Counter& dumps_skipped_ipv6 = dumps_skipped.Add({{"family", "ipv6"}});
  Gauge& namespaces_restricted = prometheus::BuildGauge()
      .Name("tcpreap_network_namespaces_restricted")
      .Help("1 when namespaces.scan is all but the daemon scans its own network namespace only, for want of "
            "CAP_SYS_ADMIN or CAP_SYS_PTRACE; 0 otherwise.")
      .Register(*registry)
      .Add({});
  Histogram& scan_duration = prometheus::BuildHistogram()
      .Name("tcpreap_scan_duration_seconds")
      .Help("How long a scan took, successful or not.")
      .Register(*registry)
      .Add({}, kScanBuckets);
  Gauge& sockets_scanned = prometheus::BuildGauge()
      .Name("tcpreap_sockets_scanned")
      .Help("TCP sockets the last successful scan looked at.")
      .Register(*registry)
      .Add({});
  Gauge& last_scan_success = prometheus::BuildGauge()
      .Name("tcpreap_last_scan_success_timestamp_seconds")
      .Help("When the last successful scan ended, in seconds since the epoch (0: none yet).")
      .Register(*registry)
      .Add({});

  Family<Counter>& reaped = prometheus::BuildCounter()
      .Name("tcpreap_reaped_connections_total")
      .Help("Dead connections reaped, by policy, method and the rule that found them dead.")
      .Register(*registry);
  Family<Counter>& would_reap = prometheus::BuildCounter()
      .Name("tcpreap_would_reap_connections_total")
      .Help("Dry run: dead connections that would have been reaped, by policy and rule; each counted once while it stays dead.")
      .Register(*registry);
  Family<Counter>& reap_errors = prometheus::BuildCounter()
      .Name("tcpreap_reap_errors_total")
      .Help("Dead connections that could not be reaped, by method and outcome.")
      .Register(*registry);
  Family<Counter>& held_back = prometheus::BuildCounter()
      .Name("tcpreap_dead_connections_held_back_total")
      .Help("Dead connections left alone for a scan by a policy's reap limit.")
      .Register(*registry);

  Family<Gauge>& suspect = prometheus::BuildGauge()
      .Name("tcpreap_suspect_connections")
      .Help("Connections under watch after the last scan, by policy.")
      .Register(*registry);
  Family<Gauge>& verifying = prometheus::BuildGauge()
      .Name("tcpreap_verifying_connections")
      .Help("Connections whose peer is being probed after the last scan, by policy.")
      .Register(*registry);

  Counter& probes_sent = prometheus::BuildCounter()
      .Name("tcpreap_probes_sent_total")
      .Help("Liveness probes sent to silent peers.")
      .Register(*registry)
      .Add({});
  Counter& probes_answered = prometheus::BuildCounter()
      .Name("tcpreap_probes_answered_total")
      .Help("Liveness probes the peer answered: the connection is alive.")
      .Register(*registry)
      .Add({});
  Counter& probes_unanswered = prometheus::BuildCounter()
      .Name("tcpreap_probes_unanswered_total")
      .Help("Liveness probes that went unanswered.")
      .Register(*registry)
      .Add({});
  Counter& probes_peer_reset = prometheus::BuildCounter()
      .Name("tcpreap_probes_peer_reset_total")
      .Help("Liveness probes the peer answered with a reset.")
      .Register(*registry)
      .Add({});
  Counter& probe_errors = prometheus::BuildCounter()
      .Name("tcpreap_probe_errors_total")
      .Help("Liveness probes that could not be sent or captured.")
      .Register(*registry)
      .Add({});
  Family<Counter>& probes_deferred = prometheus::BuildCounter()
      .Name("tcpreap_probes_deferred_total")
      .Help("Liveness probes due but left for the next scan by the policy's verify.max_per_scan, by policy.")
      .Register(*registry);

  Gauge& config_ok = prometheus::BuildGauge()
      .Name("tcpreap_config_last_reload_successful")
      .Help("1 when the last load or reload of the configuration succeeded, 0 when it failed.")
      .Register(*registry)
      .Add({});
  Gauge& config_ok_time = prometheus::BuildGauge()
      .Name("tcpreap_config_last_reload_success_timestamp_seconds")
      .Help("When the configuration was last loaded successfully, in seconds since the epoch.")
      .Register(*registry)
      .Add({});
  Family<Counter>& reloads = prometheus::BuildCounter()
      .Name("tcpreap_config_reloads_total")
      .Help("Reloads of the configuration, by result.")
      .Register(*registry);
  Counter& reloads_ok = reloads.Add({{"result", "success"}});
  Counter& reloads_failed = reloads.Add({{"result", "failure"}});

  // Guards what prometheus-cpp does not: the series of set_connections()
  // and the probe totals last seen.
  std::mutex mu;
  std::map<std::string, Gauge*> suspect_series;
  std::map<std::string, Gauge*> verifying_series;
  ProbeCounters last_probes;

  // process_*, read from /proc at each scrape.
  std::shared_ptr<prometheus::Collectable> process = make_process_collector();

  // Last, so destroyed first: no scrape runs once the rest goes.
  std::unique_ptr<prometheus::Exposer> exposer;

  // Sets `family`'s per-policy series to `counts`, removing the rest.
  static void set_series(Family<Gauge>& family, std::map<std::string, Gauge*>& series,
                         const std::map<std::string, uint64_t>& counts) {
    for (auto it = series.begin(); it != series.end();) {
      if (counts.count(it->first) == 0) {
        family.Remove(it->second);
        it = series.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& entry : counts) {
      auto& gauge = series[entry.first];
      if (gauge == nullptr) gauge = &family.Add({{"policy", entry.first}});
      gauge->Set(static_cast<double>(entry.second));
    }
  }
};

DaemonMetrics::DaemonMetrics(std::string version, std::string revision) : impl_(std::make_unique<Impl>()) {
  impl_->build_info.Add({{"version", std::move(version)}, {"revision", std::move(revision)}}).Set(1);
}

DaemonMetrics::~DaemonMetrics() = default;
DaemonMetrics::DaemonMetrics(DaemonMetrics&&) noexcept = default;
DaemonMetrics& DaemonMetrics::operator=(DaemonMetrics&&) noexcept = default;

Status DaemonMetrics::listen(const std::string& address) {
  // The config's rule (net/listen_address.h): what it accepts binds here.
  auto parsed = parse_listen_address(address);
  if (!parsed) return parsed.error().wrap("cannot serve metrics");
  std::lock_guard lock(impl_->mu);
  if (impl_->exposer) return Error(0, "metrics are already served; not listening again on " + address);
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(civetweb_options(parsed->to_string()));
    exposer->RegisterCollectable(impl_->registry);
    exposer->RegisterCollectable(impl_->process);
    impl_->exposer = std::move(exposer);
  } catch (const std::exception& e) {
    const std::string context = "cannot serve metrics on " + address;
    const int errnum = why_bind_fails(parsed->to_sockaddr());
    if (errnum != 0) return Error(errnum, context);
    return Error(0, context + ": " + e.what());
  }
  return Ok{};
}

void DaemonMetrics::set_dry_run(bool on) { impl_->dry_run.Set(on ? 1 : 0); }

void DaemonMetrics::set_privileges(bool net_admin, bool net_raw, bool rst_fallback) {
  impl_->cap_net_admin.Set(net_admin ? 1 : 0);
  impl_->cap_net_raw.Set(net_raw ? 1 : 0);
  impl_->rst_fallback.Set(rst_fallback ? 1 : 0);
}

void DaemonMetrics::scan_succeeded(double seconds, uint64_t sockets_scanned) {
  impl_->scans.Increment();
  impl_->scan_duration.Observe(seconds);
  impl_->sockets_scanned.Set(static_cast<double>(sockets_scanned));
  impl_->last_scan_success.Set(now_seconds());
}

void DaemonMetrics::set_sock_destroy_supported(bool supported) { impl_->sock_destroy.Set(supported ? 1 : 0); }

void DaemonMetrics::set_namespaces(uint64_t scanned, uint64_t failed) {
  impl_->namespaces_scanned.Set(static_cast<double>(scanned));
  impl_->namespaces_failed.Set(static_cast<double>(failed));
}

void DaemonMetrics::dumps_skipped(uint64_t ipv4, uint64_t ipv6) {
  impl_->dumps_skipped_ipv4.Increment(static_cast<double>(ipv4));
  impl_->dumps_skipped_ipv6.Increment(static_cast<double>(ipv6));
}

void DaemonMetrics::set_namespaces_restricted(bool restricted) { impl_->namespaces_restricted.Set(restricted ? 1 : 0); }

void DaemonMetrics::namespace_scan_failed(const Error& why) {
  const ScanErrorCause cause = scan_error_cause(why);
  for (size_t i = 0; i < kScanErrorCauses.size(); ++i)
    if (kScanErrorCauses[i] == cause) impl_->scan_error_causes[i]->Increment();
}

void DaemonMetrics::scan_failed(double seconds, const Error& why) {
  impl_->scans.Increment();
  impl_->scan_errors.Increment();
  const ScanErrorCause cause = scan_error_cause(why);
  for (size_t i = 0; i < kScanErrorCauses.size(); ++i)
    if (kScanErrorCauses[i] == cause) impl_->scan_error_causes[i]->Increment();
  impl_->scan_duration.Observe(seconds);
}

void DaemonMetrics::reaped(const std::string& policy, const std::string& method, const std::string& reason) {
  impl_->reaped.Add({{"policy", policy}, {"method", method}, {"reason", reason}}).Increment();
}

void DaemonMetrics::declare_policy(const std::string& policy, const std::vector<std::string>& reasons) {
  for (const std::string& reason : reasons) {
    for (const char* method : {"destroy", "rst"})
      impl_->reaped.Add({{"policy", policy}, {"method", method}, {"reason", reason}});
    impl_->would_reap.Add({{"policy", policy}, {"reason", reason}});
  }
  impl_->held_back.Add({{"policy", policy}});
}

void DaemonMetrics::declare_probes(const std::string& policy) { impl_->probes_deferred.Add({{"policy", policy}}); }

void DaemonMetrics::probes_deferred(const std::string& policy, uint64_t n) {
  impl_->probes_deferred.Add({{"policy", policy}}).Increment(static_cast<double>(n));
}

void DaemonMetrics::would_reap(const std::string& policy, const std::string& reason) {
  impl_->would_reap.Add({{"policy", policy}, {"reason", reason}}).Increment();
}

void DaemonMetrics::reap_failed(const std::string& method, const std::string& error) {
  impl_->reap_errors.Add({{"method", method}, {"error", error}}).Increment();
}

void DaemonMetrics::held_back(const std::string& policy, uint64_t n) {
  impl_->held_back.Add({{"policy", policy}}).Increment(static_cast<double>(n));
}

void DaemonMetrics::set_connections(const std::map<std::string, uint64_t>& suspect,
                                    const std::map<std::string, uint64_t>& verifying) {
  std::lock_guard lock(impl_->mu);
  Impl::set_series(impl_->suspect, impl_->suspect_series, suspect);
  Impl::set_series(impl_->verifying, impl_->verifying_series, verifying);
}

void DaemonMetrics::set_probe_totals(const ProbeCounters& totals) {
  std::lock_guard lock(impl_->mu);
  const ProbeCounters& last = impl_->last_probes;
  impl_->probes_sent.Increment(growth(totals.sent, last.sent));
  impl_->probes_answered.Increment(growth(totals.answered, last.answered));
  impl_->probes_unanswered.Increment(growth(totals.unanswered, last.unanswered));
  impl_->probes_peer_reset.Increment(growth(totals.peer_reset, last.peer_reset));
  impl_->probe_errors.Increment(growth(totals.failed, last.failed));
  impl_->last_probes = totals;
}

void DaemonMetrics::config_loaded(bool ok) {
  impl_->config_ok.Set(ok ? 1 : 0);
  if (ok) impl_->config_ok_time.Set(now_seconds());
}

void DaemonMetrics::config_reloaded(bool ok) {
  config_loaded(ok);
  (ok ? impl_->reloads_ok : impl_->reloads_failed).Increment();
}

std::string DaemonMetrics::text() const {
  // The exposer collects each registered collectable in turn; so does this.
  auto families = impl_->registry->Collect();
  auto process = impl_->process->Collect();
  families.insert(families.end(), std::make_move_iterator(process.begin()), std::make_move_iterator(process.end()));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace tcpreap
