#include "tcpreapd/daemon.h"

#include <linux/capability.h>
#include <signal.h>
#include <systemd/sd-event.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "config/config_file.h"
#include "core/descriptor_reserve.h"
#include "config/config_loader.h"
#include "cycle/namespace_roster.h"
#include "cycle/reap_cycle.h"
#include "cycle/turn_schedule.h"
#include "log/event_log.h"
#include "log/log_target.h"
#include "log/turn_reporter.h"
#include "metrics/daemon_metrics.h"
#include "privilege/capabilities.h"
#include "program/exit_codes.h"
#include "reap/destroy_support.h"
#include "tcpreapd/namespace_watch.h"
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

// Descriptors held back for when the process runs out (descriptor_reserve.h):
// room for a few scrapes at once, a reload and an owner lookup.
constexpr int kDescriptorReserve = 8;

std::string errno_text(int r) { return std::string(std::strerror(r < 0 ? -r : r)); }

class Daemon {
 public:
  Daemon(const DaemonOptions& options, ConfigFile config_file, ConfigLoad load, EventLog& log, CapabilityDrop caps)
      : options_(options), config_file_(std::move(config_file)), load_(std::move(load)), log_(log), caps_(std::move(caps)) {}

  int run();

 private:
  // sd-event is C: an exception must not unwind through it. Each callback
  // catches everything, says what and where, and ends the loop with
  // exit_code::kFailure, which run() returns (systemd then restarts us).
  static int on_tick(sd_event_source*, uint64_t, void* self) {
    auto* d = static_cast<Daemon*>(self);
    return d->guarded("a scan turn", [d] { return d->tick(); });
  }
  static int on_signal(sd_event_source*, const signalfd_siginfo* si, void* self) {
    auto* d = static_cast<Daemon*>(self);
    const int signo = static_cast<int>(si->ssi_signo);
    return d->guarded(signo == SIGHUP ? "a reload (SIGHUP)" : "stopping", [d, signo] { return d->signal(signo); });
  }
  template <typename Body>
  int guarded(const char* where, Body&& body) noexcept;
  int fail(const char* where, const char* what) noexcept;

  int tick();
  int signal(int signo);
  void reload();
  // namespaces.scan: the namespaces to scan, the watch that finds new ones.
  // Returns an Error only when the event loop cannot be set up for them.
  Status apply_namespace_scope(const NamespaceScope& scope);
  int discover();
  void report_roster(const RosterChange& change);
  // Whether namespaces.scan: all can be honoured; says once what is missing.
  bool may_scan_all();
  void schedule(Clock::time_point turn_started);
  void report_privileges();
  DescriptorReserve::Change watch_descriptors();  // what check() did, said once
  std::string status_line() const { return reporter_->status_line(cycle_->dry_run()); }

  const DaemonOptions& options_;
  const ConfigFile config_file_;
  ConfigLoad load_;  // the config read at start, before the capabilities were dropped
  EventLog& log_;
  const CapabilityDrop caps_;
  std::optional<DaemonMetrics> metrics_;
  std::string metrics_listen_;  // what the exposer was started on
  std::optional<TurnReporter> reporter_;  // the log lines and metrics of each turn, and STATUS=
  std::optional<ReapCycle> cycle_;
  NamespaceRoster roster_;
  std::unique_ptr<NamespaceWatch> watch_;  // namespaces.scan: all only
  bool said_restricted_ = false;
  std::string last_skips_;  // what discovery could not read, as last said
  Notifier notifier_;
  EventPtr event_;
  SourcePtr timer_;
  SourcePtr signals_[3];
  DescriptorReserve reserve_{kDescriptorReserve};
  // Memory fail() frees before it speaks: out of memory, the line saying so
  // needs some. (A turn's big allocations used to fail first and leave
  // small ones possible; with less kept per socket, the last byte can go to
  // a small one, and the log line would find nothing left.)
  std::unique_ptr<char[]> memory_reserve_ = std::make_unique_for_overwrite<char[]>(64 * 1024);  // untouched: no RSS
  // When the last turn began: a reload reckons the next one from it anew.
  std::optional<Clock::time_point> last_turn_start_;
};

int Daemon::run() {
  ConfigLoad load = std::move(load_);
  if (!load.config) {
    for (const auto& e : load.errors) log_.log(EventLog::Priority::kError, e.to_string());
    log_.log(EventLog::Priority::kError, "invalid config " + options_.config_path + ": not starting");
    return exit_code::kConfig;
  }
  const std::string listen = metrics_listen_ = load.config->metrics_listen;
  metrics_.emplace(TCPREAP_VERSION, TCPREAP_REVISION);
  reporter_.emplace(log_, *metrics_);
  CycleOptions cycle_options{options_.dry_run, std::nullopt, {}};
  // A service without CAP_NET_RAW still reaps what needs no probe.
  cycle_options.probes_optional = true;
  // The turn reporter counts the suspect and verifying and logs what is
  // acted on: the alive need no entry (~280 bytes each, every turn).
  cycle_options.retain = DecisionEngine::Retain::kActionable;
  const NamespaceScope scope = load.config->namespaces;
  auto cycle = ReapCycle::open(std::move(*load.config), cycle_options);
  if (!cycle) {
    log_.log(EventLog::Priority::kError, "cannot start: " + cycle.error().message());
    return exit_code::kFailure;
  }
  cycle_.emplace(std::move(*cycle));
  report_privileges();
  reporter_->declare_policies(cycle_->engine().config());
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
  if (auto s = apply_namespace_scope(scope); !s) {
    log_.log(EventLog::Priority::kError, "cannot start: " + s.error().message());
    return exit_code::kFailure;
  }
  // WATCHDOG=1 at half of $WATCHDOG_USEC, from the loop itself: a hung
  // turn stops the pings and systemd restarts the service.
  if (int r = sd_event_set_watchdog(event_.get(), 1); r < 0) {
    log_.log(EventLog::Priority::kError, "cannot start: the watchdog: " + errno_text(r));
    return exit_code::kFailure;
  }

  log_.log(EventLog::Priority::kNotice,
           std::string("started: config ") + options_.config_path + ", " +
               std::to_string(cycle_->engine().config().policies.size()) + " policies, metrics on " + listen +
               (cycle_->dry_run() ? ", dry run" : ""),
           {"TCPREAP_CONFIG=" + options_.config_path});
  // Taken last, so that nothing of the start-up finds it in its way.
  (void)reserve_.fill();
  notifier_.ready(status_line());
  const int r = sd_event_loop(event_.get());
  watch_.reset();
  timer_.reset();
  for (auto& s : signals_) s.reset();
  event_.reset();
  if (r < 0) {
    log_.log(EventLog::Priority::kError, "event loop failed: " + errno_text(r));
    return exit_code::kFailure;
  }
  if (r != exit_code::kOk) return r;  // fail() said why
  log_.log(EventLog::Priority::kNotice, "stopped");
  return exit_code::kOk;
}

template <typename Body>
int Daemon::guarded(const char* where, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    return fail(where, e.what());
  } catch (...) {
    return fail(where, "an exception that is not a std::exception");
  }
}

// Ends the loop with kFailure after an exception in `where`. Saying so may
// itself throw (std::bad_alloc): then a fixed line goes to stderr.
int Daemon::fail(const char* where, const char* what) noexcept {
  memory_reserve_.reset();
  try {
    log_.log(EventLog::Priority::kError, std::string("internal error in ") + where + ": " + what + "; exiting with status " +
                                             std::to_string(exit_code::kFailure));
    notifier_.stopping();
  } catch (...) {
    std::fputs("tcpreapd: internal error in the event loop; exiting with status 1\n", stderr);
  }
  if (int r = sd_event_exit(event_.get(), exit_code::kFailure); r < 0) {
    // The loop cannot be told to end: nothing is safe to run after this.
    std::fprintf(stderr, "tcpreapd: cannot end the event loop (%s); exiting now\n", std::strerror(-r));
    std::_Exit(exit_code::kFailure);
  }
  return 0;
}

int Daemon::signal(int signo) {
  if (signo == SIGHUP) {
    reload();
    return 0;
  }
  notifier_.stopping();
  log_.log(EventLog::Priority::kNotice, std::string("stopping on ") + sigabbrev_np(signo));
  if (int r = sd_event_exit(event_.get(), 0); r < 0)
    throw std::runtime_error(std::string("ending the event loop: ") + errno_text(r));  // fail() then exits
  return 0;
}

void Daemon::reload() {
  notifier_.reloading();
  ConfigLoad load = config_file_.load();
  // Out of descriptors, the file cannot be opened (EMFILE), yet no turn
  // may have seen it: a descriptor can be free at a turn's check and taken
  // (by a scrape, say) before the reload. Let the reserve go and read again.
  if (!load.config && watch_descriptors() == DescriptorReserve::Change::kReleased) load = config_file_.load();
  std::string failed;
  if (!load.config) {
    for (const auto& e : load.errors) log_.log(EventLog::Priority::kError, e.to_string());
    failed = std::to_string(load.errors.size()) + " error(s) in " + options_.config_path;
  } else {
    const std::string listen = load.config->metrics_listen;
    const NamespaceScope scope = load.config->namespaces;
    if (auto s = cycle_->reload(std::move(*load.config)); !s) {
      failed = s.error().message();
    } else if (auto n = apply_namespace_scope(scope); !n) {
      // The config is in force; only the watch for new namespaces is not.
      log_.log(EventLog::Priority::kError, n.error().message());
    }
    if (failed.empty() && listen != metrics_listen_) {
      log_.log(EventLog::Priority::kWarning,
               "metrics.listen changed to " + listen + ": still serving on " + metrics_listen_ + " until a restart");
    }
  }
  if (failed.empty()) {
    reporter_->declare_policies(cycle_->engine().config());
    if (!cycle_->prober_unavailable().empty())
      log_.log(EventLog::Priority::kWarning, "liveness probes unavailable, so verifying policies will not reap on silence: " +
                                                 cycle_->prober_unavailable());
    metrics_->config_reloaded(true);
    metrics_->set_dry_run(cycle_->dry_run());
    // The turn already set follows the old scan.interval: a shorter one
    // must not wait for it. Before the first turn, that one is due at once.
    if (last_turn_start_) schedule(*last_turn_start_);
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
  watch_descriptors();
  const Clock::time_point started = Clock::now();
  auto result = cycle_->run();
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  if (!result) {
    reporter_->turn_failed(result.error(), seconds, cycle_->namespace_count());
  } else {
    // What the dumps delivered, in scope or not, over every namespace (a
    // dump that restarted counts its last pass only).
    uint64_t sockets = 0;
    for (const NamespaceTurn& n : result->namespaces) sockets += n.stats.sockets;
    reporter_->turn_succeeded(*result, cycle_->engine().config(), cycle_->engine().probe_counters(), sockets, seconds,
                              cycle_->take_notice());
  }
  notifier_.status(status_line());
  last_turn_start_ = started;
  schedule(started);
  return 0;
}

bool Daemon::may_scan_all() {
  std::string missing;
  for (int cap : {CAP_SYS_ADMIN, CAP_SYS_PTRACE})
    if (!caps_.has(cap)) missing += (missing.empty() ? "" : " and ") + capability_name(cap);
  metrics_->set_namespaces_restricted(!missing.empty());
  if (missing.empty()) return true;
  if (!said_restricted_)
    log_.log(EventLog::Priority::kWarning,
             "namespaces.scan is all, but " + missing + (missing.find(" and ") == std::string::npos ? " is" : " are") +
                 " missing (entering a namespace takes CAP_SYS_ADMIN, finding other users' processes' namespaces "
                 "CAP_SYS_PTRACE; the shipped unit needs its all-namespaces drop-in): scanning this process's own "
                 "network namespace only");
  said_restricted_ = true;
  return false;
}

Status Daemon::apply_namespace_scope(const NamespaceScope& scope) {
  const bool all = scope.scan == NamespaceScope::Mode::kAll && may_scan_all();
  if (scope.scan != NamespaceScope::Mode::kAll) {
    metrics_->set_namespaces_restricted(false);
    said_restricted_ = false;
  }
  if (!all) {
    const bool had = watch_ != nullptr;
    watch_.reset();
    report_roster(roster_.sync_own(*cycle_));
    reporter_->set_unopened_namespaces(roster_.failing());
    if (had && caps_.has(CAP_SYS_ADMIN))
      log_.log(EventLog::Priority::kNotice, "scanning this process's own network namespace only; CAP_SYS_ADMIN and "
                                            "CAP_SYS_PTRACE stay held until a restart");
    return Ok{};
  }
  if (watch_) {
    // A new exclude or discover_every: looked at again now.
    if (auto s = watch_->set_interval(scope.discover_every); !s) return s;
    discover();
    return Ok{};
  }
  std::vector<std::string> dirs{DiscoveryRoots{}.bound_dir};
  for (const RuntimeDir& d : default_runtime_dirs()) dirs.push_back(d.path);
  auto w = NamespaceWatch::start(event_.get(), scope.discover_every, std::move(dirs),
                                 [this] { return guarded("a namespace discovery", [this] { return discover(); }); });
  if (!w) return w.error().wrap("watching for network namespaces");
  watch_ = std::move(*w);
  discover();  // before the first turn: it covers every namespace there is
  return Ok{};
}

int Daemon::discover() {
  auto found = discover_namespaces();
  if (!found) {
    log_.failure("discovery", "finding network namespaces failed: " + found.error().message());
    return 0;
  }
  // Said when it changes: a file denied for good (another user's process
  // without CAP_SYS_PTRACE) would otherwise be said every discovery.
  const DiscoverySkips& skipped = found->skipped;
  std::string skips;
  if (skipped.failed.count > 0 && skipped.failed.first)
    skips = std::to_string(skipped.failed.count) + " namespace files could not be opened (" +
            skipped.failed.first->message() + ")";
  if (skipped.denied.count > 0 && skipped.denied.first)
    skips += (skips.empty() ? "" : "; ") + std::to_string(skipped.denied.count) + " may not be read (" +
             skipped.denied.first->message() + ")";
  if (skips != last_skips_ && !skips.empty())
    log_.log(EventLog::Priority::kWarning, "finding network namespaces: " + skips + "; those are not scanned");
  last_skips_ = std::move(skips);
  report_roster(roster_.sync(*cycle_, std::move(*found), cycle_->config().namespaces));
  reporter_->set_unopened_namespaces(roster_.failing());
  return 0;
}

void Daemon::report_roster(const RosterChange& change) {
  for (const NamespaceInfo& n : change.removed)
    log_.log(EventLog::Priority::kInfo, "network namespace " + n.label() + " dropped: gone, or not scanned any more",
             {"TCPREAP_NETNS=" + n.name, "TCPREAP_NETNS_ID=" + n.id.to_string()});
  for (const NamespaceInfo& n : change.added)
    log_.log(EventLog::Priority::kInfo,
             "scanning network namespace " + n.label() + (n.container.empty() ? "" : " (container " + n.container + ")"),
             {"TCPREAP_NETNS=" + n.name, "TCPREAP_NETNS_ID=" + n.id.to_string()});
  for (const RosterFailure& f : change.failed)
    log_.log(EventLog::Priority::kWarning,
             "cannot scan network namespace " + f.info.label() + ": " + f.error.message(),
             {"TCPREAP_NETNS=" + f.info.name, "TCPREAP_NETNS_ID=" + f.info.id.to_string()});
}

// Out of descriptors, scans and reaps go on (they open none), but the
// metrics endpoint cannot accept and a reload cannot read the config: the
// reserve makes room for them, and each change is said once.
DescriptorReserve::Change Daemon::watch_descriptors() {
  const DescriptorReserve::Change change = reserve_.check();
  switch (change) {
    case DescriptorReserve::Change::kNone:
      break;
    case DescriptorReserve::Change::kReleased:
      log_.log(EventLog::Priority::kError,
               "out of file descriptors (RLIMIT_NOFILE " + std::to_string(open_files_limit()) + "): released the " +
                   std::to_string(reserve_.size()) +
                   " held in reserve, so that scrapes and reloads go on; scans and reaps need none");
      break;
    case DescriptorReserve::Change::kRestored:
      log_.log(EventLog::Priority::kNotice, "file descriptors available again (RLIMIT_NOFILE " +
                                                std::to_string(open_files_limit()) + "): " +
                                                std::to_string(reserve_.size()) + " held in reserve again");
      break;
  }
  return change;
}

// What the daemon may do, said once at start: the capabilities it kept,
// whether the kernel can SOCK_DESTROY, and what their absence costs.
void Daemon::report_privileges() {
  const bool admin = caps_.has(CAP_NET_ADMIN), raw = caps_.has(CAP_NET_RAW);
  const bool rst = cycle_->rst_available();
  metrics_->set_privileges(admin, raw, rst);
  log_.log(EventLog::Priority::kNotice, "capabilities: " + caps_.summary());
  // Needs no capability (reap/destroy_support.h). Cannot tell: 0, said why.
  const auto destroy = probe_destroy_support();
  metrics_->set_sock_destroy_supported(destroy && *destroy == DestroySupport::kSupported);
  if (!destroy)
    log_.log(EventLog::Priority::kWarning, "cannot tell whether this kernel can SOCK_DESTROY, so "
                                           "tcpreap_sock_destroy_supported says 0: " + destroy.error().message());
  else if (*destroy == DestroySupport::kUnsupported)
    log_.log(EventLog::Priority::kWarning,
             "this kernel cannot SOCK_DESTROY (built without CONFIG_INET_DIAG_DESTROY): reap.method auto reaps by "
             "RST injection, reap.method destroy cannot reap");
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

// The next turn, as cycle/turn_schedule.h says: one interval after this one
// began, sooner when a probe or a verification verdict falls due, at once
// after a long turn - and never sooner than min_turn_gap() after this one
// began, whatever is due.
void Daemon::schedule(Clock::time_point turn_started) {
  const DecisionEngine& engine = cycle_->engine();
  const Clock::time_point next = next_turn(engine.config(), turn_started, Clock::now(), engine.next_verify_due());
  // A timer that cannot be set never fires again: the scans would stop
  // in silence. Thrown out of the turn, it ends the daemon (guarded()),
  // and systemd restarts it.
  if (int r = sd_event_source_set_time(timer_.get(), usec_of(next)); r < 0)
    throw std::runtime_error("setting the next turn's timer: " + errno_text(r));
  if (int r = sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT); r < 0)
    throw std::runtime_error("enabling the next turn's timer: " + errno_text(r));
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
  // Started as root, the daemon gives up root for `options.user`, and
  // whatever it runs as, every capability but the two. Before any thread
  // exists: ids and capabilities are per thread. The config's directory is
  // opened first, so that reloads still reach a file below a directory
  // the user cannot enter.
  std::optional<UserIdentity> user;
  if (runs_as_root()) {
    auto found = lookup_user(options.user);
    if (!found) {
      log.log(EventLog::Priority::kError, "cannot start: --user: " + found.error().message());
      return exit_code::kFailure;
    }
    if (found->uid == 0)
      log.log(EventLog::Priority::kWarning, "--user " + options.user + " is root: staying root, with only the capabilities it needs");
    else
      user = *found;
  }
  ConfigFile config_file = ConfigFile::open(options.config_path);
  // Read before the capabilities go: namespaces.scan: all keeps two more.
  ConfigLoad load = config_file.load();
  uint64_t keep = network_capabilities();
  if (load.config && load.config->namespaces.scan == NamespaceScope::Mode::kAll) keep |= namespace_capabilities();
  auto caps = drop_capabilities(keep, user);
  if (!caps && caps.error().errnum() == EPERM && !(keep & namespace_capabilities())) {
    // systemd with the all-namespaces drop-in but scan: host: the unit's
    // filter refuses capset, and a refusal here would be a restart loop.
    // The two are kept unused (nothing here calls setns) and said so.
    const Error refused = caps.error();
    caps = drop_capabilities(keep | namespace_capabilities(), user);
    if (caps && (caps->has(CAP_SYS_ADMIN) || caps->has(CAP_SYS_PTRACE)))
      log.log(EventLog::Priority::kWarning,
              "namespaces.scan is host, but CAP_SYS_ADMIN and CAP_SYS_PTRACE were granted and cannot be dropped (" +
                  refused.message() + "): held unused; remove the all-namespaces drop-in, or set namespaces.scan: all");
  }
  if (!caps) {
    log.log(EventLog::Priority::kError, "cannot start: " + caps.error().message());
    return exit_code::kFailure;
  }
  Daemon daemon(options, std::move(config_file), std::move(load), log, *caps);
  return daemon.run();
}

}  // namespace tcpreap
