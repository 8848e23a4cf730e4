#pragma once
// One turn of tcpreap's work, shared by `tcpreap reap` and the daemon:
// scan, decide, probe the peers the policies want verified, reap the dead.
// The caller owns the timing: it runs a cycle every scan.interval, and
// sooner when engine().next_verify_due() says a probe or a verification
// verdict is due - but never sooner than cycle/turn_schedule.h's floor,
// since that may be "now" turn after turn.

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "decide/decided_scan.h"
#include "decide/decision_engine.h"
#include "diag/scan_query.h"
#include "diag/socket_scanner.h"
#include "reap/reap_outcome.h"
#include "reap/reaper.h"
#include "verify/liveness_prober.h"

namespace tcpreap {

struct CycleOptions {
  // Decide and probe, reap nothing. Probes are sent in a dry run: they are
  // what a keepalive sends, change nothing on either end, and without them
  // a dry run could not say which silent connections would really be reaped.
  bool dry_run = false;
  std::optional<ReapMethod> method;  // nullopt: the config's
  ProbeOptions probe;
  // When the prober cannot open (no CAP_NET_RAW): false, the cycle does not
  // open either; true, it runs without one (a service keeps reaping what it
  // can), prober_unavailable() says why, and every probe attempt is
  // `failed` - which never makes a socket dead.
  bool probes_optional = false;
};

struct CycleResult {
  // This scan's in-scope sockets with their decisions (the engine's: valid
  // until the next run). Probes and reaps refer to them by index.
  const std::vector<DecisionEngine::Entry>* entries = nullptr;
  struct Probe {
    size_t entry;
    ProbeOutcome outcome;
  };
  std::vector<Probe> probes;  // the verifying sockets whose probe was due (not the deferred)
  struct Reap {
    size_t entry;
    ReapOutcome outcome;
  };
  std::vector<Reap> reaps;          // the dead acted on (none in a dry run)
  std::vector<size_t> would_reap;   // a dry run's dead, not held back
  std::vector<size_t> held_back;    // dead, kept for a later scan by a cap (max_per_scan, max_per_minute)
};

// Not thread-safe. Opened in, and acting on, the calling thread's network
// namespace.
class ReapCycle {
 public:
  // Compiles the scan filter and opens the scanner, the reaper (unless a dry
  // run) and the prober (when some policy verifies: CAP_NET_RAW).
  static Result<ReapCycle> open(Config config, CycleOptions options);

  ReapCycle(ReapCycle&&) noexcept = default;
  ReapCycle& operator=(ReapCycle&&) noexcept = default;

  // One turn. An Error only when the scan itself failed (nothing was acted
  // on); probe and reap failures are outcomes in the result.
  Result<CycleResult> run(const DecidedScanHooks& hooks = {});

  // A new config (SIGHUP): the engine keeps its history, a prober is opened
  // if the new config is the first to verify, a reaper if it is the first
  // not to be a dry run (CycleOptions::dry_run stays in force). On error
  // nothing changed.
  Status reload(Config config);

  DecisionEngine& engine() { return engine_; }
  const DecisionEngine& engine() const { return engine_; }
  // The options' dry run, or the config's.
  bool dry_run() const { return options_.dry_run || engine_.config().dry_run; }
  // Why policies that verify cannot probe (probes_optional), or empty.
  const std::string& prober_unavailable() const { return prober_unavailable_; }
  // Whether RST injection could be used here (CAP_NET_RAW), whatever the
  // method and even in a dry run.
  bool rst_available() const;
  // Said once: what opening the reaper and the prober did worth saying
  // (neighbour entries of another tcpreap removed), and the reaper's switch
  // to RST injection, when it happens.
  std::optional<std::string> take_notice();

 private:
  ReapCycle(CycleOptions options, ScanQuery query, SocketScanner scanner, DecisionEngine engine,
            std::optional<Reaper> reaper, std::optional<LivenessProber> prober);

  CycleOptions options_;
  ScanQuery query_;
  SocketScanner scanner_;
  DecisionEngine engine_;
  std::optional<Reaper> reaper_;
  ReapMethod reaper_method_ = ReapMethod::kAuto;  // what reaper_ was opened for
  std::optional<LivenessProber> prober_;
  std::string prober_unavailable_;
  std::string prober_note_;  // LivenessProber::open_note(), until taken
};

// Whether some policy of `config` verifies its peers.
bool any_policy_verifies(const Config& config);

}  // namespace tcpreap
