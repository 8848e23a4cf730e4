#include "tcpreapd/daemon.h"

#include <linux/capability.h>
#include <signal.h>
#include <systemd/sd-event.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "config/config_loader.h"
#include "cycle/reap_cycle.h"
#include "log/event_log.h"
#include "log/log_target.h"
#include "log/socket_owner.h"
#include "metrics/daemon_metrics.h"
#include "privilege/capabilities.h"
#include "tcpreap/exit_codes.h"
#include "tcpreapd/notifier.h"
#include "version.h"

namespace tcpreap {

namespace {

using Clock = std::chrono::steady_clock;

struct EventUnref {
  void operator()(sd_event* e) const { sd_event_unref(e); }
};
struct SourceUnref {
  void operator()(sd_event_source* s) const { sd_event_source_unref(s); }
};
using EventPtr = std::unique_ptr<sd_event, EventUnref>;
using SourcePtr = std::unique_ptr<sd_event_source, SourceUnref>;

// steady_clock is CLOCK_MONOTONIC on Linux, as sd-event's timers are.
uint64_t usec_of(Clock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  return us < 0 ? 0 : static_cast<uint64_t>(us);
}

// The owners of a turn's actions come from one walk of /proc, cut short
// after this long: a host with hundreds of thousands of descriptors takes
// most of a second to walk, and the loop (watchdog, signals, the probe
// schedule) must not wait on a log detail.
constexpr auto kOwnerLookupBudget = std::chrono::milliseconds(50);

std::string errno_text(int r) { return std::string(std::strerror(r < 0 ? -r : r)); }

class Daemon {
 public:
  Daemon(const DaemonOptions& options, EventLog& log, CapabilityDrop caps)
      : options_(options), log_(log), caps_(caps) {}

  int run();

 private:
  static int on_tick(sd_event_source*, uint64_t, void* self) { return static_cast<Daemon*>(self)->tick(); }
  static int on_signal(sd_event_source*, const signalfd_siginfo* si, void* self) {
    return static_cast<Daemon*>(self)->signal(static_cast<int>(si->ssi_signo));
  }

  int tick();
  int signal(int signo);
  void reload();
  void schedule(Clock::time_point turn_started);
  void report(const CycleResult& result, uint64_t sockets, double seconds);
  void report_privileges();
  void declare_policies();
  std::string status_line() const;

  const DaemonOptions& options_;
  EventLog& log_;
  const CapabilityDrop caps_;
  std::optional<DaemonMetrics> metrics_;
  std::string metrics_listen_;  // what the exposer was started on
  std::unordered_set<uint64_t> would_reaped_;  // a dry run's dead, said once
  std::optional<ReapCycle> cycle_;
  Notifier notifier_;
  EventPtr event_;
  SourcePtr timer_;
  SourcePtr signals_[3];

  // For STATUS=.
  uint64_t turns_ = 0, last_sockets_ = 0, last_suspect_ = 0, last_verifying_ = 0, reaped_total_ = 0;
  double last_seconds_ = 0;
  std::string last_error_;
};

int Daemon::run() {
  ConfigLoad load = load_config_file(options_.config_path);
  if (!load.config) {
    for (const auto& e : load.errors) log_.log(EventLog::Priority::kError, e.to_string());
    log_.log(EventLog::Priority::kError, "invalid config " + options_.config_path + ": not starting");
    return exit_code::kConfig;
  }
  const std::string listen = metrics_listen_ = load.config->metrics_listen;
  metrics_.emplace(TCPREAP_VERSION, TCPREAP_REVISION);
  CycleOptions cycle_options{options_.dry_run, std::nullopt, {}};
  // A service without CAP_NET_RAW still reaps what needs no probe.
  cycle_options.probes_optional = true;
  auto cycle = ReapCycle::open(std::move(*load.config), cycle_options);
  if (!cycle) {
    log_.log(EventLog::Priority::kError, "cannot start: " + cycle.error().message());
    return exit_code::kFailure;
  }
  cycle_.emplace(std::move(*cycle));
  report_privileges();
  declare_policies();
  metrics_->config_loaded(true);
  metrics_->set_dry_run(cycle_->dry_run());
  // The exposer starts threads: the signals are blocked already (main).
  if (auto s = metrics_->listen(listen); !s) {
    log_.log(EventLog::Priority::kError, "cannot start: metrics: " + s.error().message());
    return exit_code::kFailure;
  }

  sd_event* e = nullptr;
  if (int r = sd_event_new(&e); r < 0) {
    log_.log(EventLog::Priority::kError, "cannot start: sd_event_new: " + errno_text(r));
    return exit_code::kFailure;
  }
  event_.reset(e);
  const int sigs[] = {SIGHUP, SIGTERM, SIGINT};
  for (size_t i = 0; i < 3; ++i) {
    sd_event_source* s = nullptr;
    if (int r = sd_event_add_signal(event_.get(), &s, sigs[i], on_signal, this); r < 0) {
      log_.log(EventLog::Priority::kError, std::string("cannot start: watching ") + sigabbrev_np(sigs[i]) + ": " +
                                               errno_text(r));
      return exit_code::kFailure;
    }
    signals_[i].reset(s);
  }
  sd_event_source* t = nullptr;
  // The first turn at once; accuracy 1 ms: a probe schedule wants it.
  if (int r = sd_event_add_time(event_.get(), &t, CLOCK_MONOTONIC, 0, 1000, on_tick, this); r < 0) {
    log_.log(EventLog::Priority::kError, "cannot start: the scan timer: " + errno_text(r));
    return exit_code::kFailure;
  }
  timer_.reset(t);
  // WATCHDOG=1 at half of $WATCHDOG_USEC, from the loop itself: a hung
  // turn stops the pings and systemd restarts the service.
  (void)sd_event_set_watchdog(event_.get(), 1);

  log_.log(EventLog::Priority::kNotice,
           std::string("started: config ") + options_.config_path + ", " +
               std::to_string(cycle_->engine().config().policies.size()) + " policies, metrics on " + listen +
               (cycle_->dry_run() ? ", dry run" : ""),
           {"TCPREAP_CONFIG=" + options_.config_path});
  notifier_.ready("started; first scan now");
  const int r = sd_event_loop(event_.get());
  timer_.reset();
  for (auto& s : signals_) s.reset();
  event_.reset();
  if (r < 0) {
    log_.log(EventLog::Priority::kError, "event loop failed: " + errno_text(r));
    return exit_code::kFailure;
  }
  log_.log(EventLog::Priority::kNotice, "stopped");
  return exit_code::kOk;
}

int Daemon::signal(int signo) {
  if (signo == SIGHUP) {
    reload();
    return 0;
  }
  notifier_.stopping();
  log_.log(EventLog::Priority::kNotice, std::string("stopping on ") + sigabbrev_np(signo));
  return sd_event_exit(event_.get(), 0);
}

void Daemon::reload() {
  notifier_.reloading();
  ConfigLoad load = load_config_file(options_.config_path);
  std::string failed;
  if (!load.config) {
    for (const auto& e : load.errors) log_.log(EventLog::Priority::kError, e.to_string());
    failed = std::to_string(load.errors.size()) + " error(s) in " + options_.config_path;
  } else {
    const std::string listen = load.config->metrics_listen;
    if (auto s = cycle_->reload(std::move(*load.config)); !s) {
      failed = s.error().message();
    } else if (listen != metrics_listen_) {
      log_.log(EventLog::Priority::kWarning,
               "metrics.listen changed to " + listen + ": still serving on " + metrics_listen_ + " until a restart");
    }
  }
  if (failed.empty()) {
    declare_policies();
    if (!cycle_->prober_unavailable().empty())
      log_.log(EventLog::Priority::kWarning, "liveness probes unavailable, so verifying policies will not reap on silence: " +
                                                 cycle_->prober_unavailable());
    metrics_->config_reloaded(true);
    metrics_->set_dry_run(cycle_->dry_run());
    log_.log(EventLog::Priority::kNotice,
             "reloaded " + options_.config_path + ": " + std::to_string(cycle_->engine().config().policies.size()) +
                 " policies" + (cycle_->dry_run() ? ", dry run" : ""));
  } else {
    metrics_->config_reloaded(false);
    log_.log(EventLog::Priority::kError, "reload failed, keeping the last good config: " + failed);
  }
  notifier_.ready(status_line());
}

int Daemon::tick() {
  const Clock::time_point started = Clock::now();
  uint64_t immediate = 0;
  DecidedScanHooks hooks;
  hooks.immediate = [&](const TcpSocket&, const Decision&) { ++immediate; };
  hooks.restarted = [&] { immediate = 0; };
  auto result = cycle_->run(hooks);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  ++turns_;
  if (!result) {
    metrics_->scan_failed(seconds);
    last_error_ = result.error().message();
    log_.failure("scan", "scan failed: " + last_error_);
  } else {
    last_error_.clear();
    report(*result, immediate + result->entries->size(), seconds);
    log_.log(EventLog::Priority::kDebug, "turn " + std::to_string(turns_) + ": " + std::to_string(last_sockets_) +
                                             " sockets in scope, " + std::to_string(result->probes.size()) +
                                             " probed, " + std::to_string(result->reaps.size()) + " acted on, " +
                                             std::to_string(result->held_back.size()) + " held back");
  }
  notifier_.status(status_line());
  schedule(started);
  return 0;
}

void Daemon::report(const CycleResult& result, uint64_t sockets, double seconds) {
  const auto& entries = *result.entries;
  const Config& config = cycle_->engine().config();
  auto policy_of = [&](const Decision& d) { return config.policies[static_cast<size_t>(d.policy)].name; };

  // A dry run finds the same dead connections every turn: each is said and
  // counted once, while it stays dead.
  std::vector<size_t> would_reap;
  std::unordered_set<uint64_t> still_dead;
  for (size_t i : result.would_reap) {
    still_dead.insert(entries[i].socket.cookie);
    if (!would_reaped_.contains(entries[i].socket.cookie)) would_reap.push_back(i);
  }
  would_reaped_ = std::move(still_dead);

  std::vector<uint64_t> inodes;
  for (const auto& r : result.reaps) inodes.push_back(entries[r.entry].socket.inode);
  for (size_t i : would_reap) inodes.push_back(entries[i].socket.inode);
  const auto owners = find_socket_owners(inodes, Clock::now() + kOwnerLookupBudget);
  auto owner = [&](const TcpSocket& s) -> std::optional<SocketOwner> {
    if (auto it = owners.find(s.inode); it != owners.end()) return it->second;
    return std::nullopt;
  };
  for (const auto& p : result.probes) {
    const auto& e = entries[p.entry];
    log_.probe(e.socket, e.decision, config, p.outcome);
  }
  for (const auto& r : result.reaps) {
    const auto& e = entries[r.entry];
    log_.reap(e.socket, e.decision, config, &r.outcome, owner(e.socket));
    if (r.outcome.result == ReapResult::kDone) {
      metrics_->reaped(policy_of(e.decision), reap_via_name(r.outcome.via), reason_name(e.decision.reason));
      ++reaped_total_;
    } else if (r.outcome.result != ReapResult::kAlreadyGone) {
      metrics_->reap_failed(reap_via_name(r.outcome.via), reap_result_name(r.outcome.result));
    }
  }
  for (size_t i : would_reap) {
    const auto& e = entries[i];
    log_.reap(e.socket, e.decision, config, nullptr, owner(e.socket));
    metrics_->would_reap(policy_of(e.decision), reason_name(e.decision.reason));
  }
  std::map<std::string, uint64_t> held, suspect, verifying;
  for (const Policy& p : config.policies) suspect[p.name] = verifying[p.name] = 0;
  for (size_t i : result.held_back) ++held[policy_of(entries[i].decision)];
  for (const auto& [policy, n] : held) metrics_->held_back(policy, n);
  last_suspect_ = last_verifying_ = 0;
  for (const auto& e : entries) {
    if (e.decision.verdict == Verdict::kSuspect) ++suspect[policy_of(e.decision)], ++last_suspect_;
    if (e.decision.verdict == Verdict::kVerifying) ++verifying[policy_of(e.decision)], ++last_verifying_;
  }
  metrics_->set_connections(suspect, verifying);
  const auto& c = cycle_->engine().probe_counters();
  metrics_->set_probe_totals({c.sent, c.answered, c.unanswered, c.peer_reset, c.failed});
  metrics_->scan_succeeded(seconds, sockets);
  last_sockets_ = sockets;
  last_seconds_ = seconds;
  if (auto notice = cycle_->take_notice()) log_.log(EventLog::Priority::kWarning, *notice);
}

// Every series a policy's reaps will count exists from the start, at 0.
void Daemon::declare_policies() {
  for (const Policy& p : cycle_->engine().config().policies) {
    std::vector<std::string> reasons;
    if (p.dead_when.silent_for) reasons.push_back(reason_name(DeadReason::kSilent));
    if (p.dead_when.unacked_for) reasons.push_back(reason_name(DeadReason::kUnacked));
    if (!p.dead_when.in_state_for.empty()) reasons.push_back(reason_name(DeadReason::kStateTimeout));
    if (p.per_peer_limit) reasons.push_back(reason_name(DeadReason::kPerPeerLimit));
    metrics_->declare_policy(p.name, reasons);
  }
}

// What the daemon may do, said once at start: the capabilities it kept,
// and what their absence costs.
void Daemon::report_privileges() {
  const bool admin = caps_.has(CAP_NET_ADMIN), raw = caps_.has(CAP_NET_RAW);
  const bool rst = cycle_->rst_available();
  metrics_->set_privileges(admin, raw, rst);
  log_.log(EventLog::Priority::kNotice, "capabilities: " + caps_.summary());
  if (!admin)
    log_.log(EventLog::Priority::kWarning,
             "CAP_NET_ADMIN missing: the kernel will refuse SOCK_DESTROY (EPERM), and probes and RSTs cannot pin "
             "the neighbour entry of a vanished on-link peer");
  if (!rst)
    log_.log(EventLog::Priority::kWarning,
             std::string("RST fallback unavailable") + (raw ? "" : " (CAP_NET_RAW missing)") +
                 ": dead connections are reaped with SOCK_DESTROY only");
  if (!cycle_->prober_unavailable().empty())
    log_.log(EventLog::Priority::kWarning, "liveness probes unavailable, so verifying policies will not reap on silence: " +
                                               cycle_->prober_unavailable());
}

// The next turn: one interval after this one began (a long turn is
// followed at once, never by a backlog), or sooner when a probe or a
// verification verdict falls due.
void Daemon::schedule(Clock::time_point turn_started) {
  const Clock::time_point now = Clock::now();
  Clock::time_point next = std::max(now, turn_started + cycle_->engine().config().scan_interval);
  if (auto due = cycle_->engine().next_verify_due()) next = std::max(now, std::min(next, *due));
  (void)sd_event_source_set_time(timer_.get(), usec_of(next));
  (void)sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT);
}

std::string Daemon::status_line() const {
  if (turns_ == 0) return "started; first scan now";
  if (!last_error_.empty()) return "last scan failed: " + last_error_;
  char buf[256];
  std::snprintf(buf, sizeof buf, "last scan: %llu sockets in %.0f ms, %llu suspect, %llu verifying; %llu reaped%s",
                static_cast<unsigned long long>(last_sockets_), last_seconds_ * 1000,
                static_cast<unsigned long long>(last_suspect_), static_cast<unsigned long long>(last_verifying_),
                static_cast<unsigned long long>(reaped_total_), cycle_->dry_run() ? " (dry run: none)" : "");
  return buf;
}

}  // namespace

int run_daemon(const DaemonOptions& options) {
  // Before any thread exists (the metrics exposer starts some): the
  // signals sd-event reads from a signalfd must be blocked in every thread.
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&mask, s);
  if (::pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0) {
    std::fprintf(stderr, "tcpreapd: cannot block signals\n");
    return exit_code::kFailure;
  }
  EventLog log(detect_log_target(), stderr, options.verbose);
  // Also before any thread exists: capabilities are per thread.
  auto caps = drop_capabilities();
  if (!caps) {
    log.log(EventLog::Priority::kError, "cannot start: " + caps.error().message());
    return exit_code::kFailure;
  }
  Daemon daemon(options, log, *caps);
  return daemon.run();
}

}  // namespace tcpreap
