#pragma once
// One turn of tcpreap's work, shared by `tcpreap reap` and the daemon:
// scan, decide, probe the peers the policies want verified, reap the dead -
// in one network namespace or in many.
//
// Each namespace is a slot with tools of its own (cycle/namespace_tools.h:
// every socket made inside it) and its own kernel filter (the policies that
// apply there, match.namespaces). One DecisionEngine decides over all of
// them in one scan: history per socket cookie (unique across namespaces),
// per-peer limits per (namespace, peer), and the caps - reap.max_per_scan,
// max_per_minute, verify.max_per_scan - over the whole turn, so that a
// host's budget does not grow with its pods. A socket is probed and reaped
// only with the tools of the namespace its dump came from: two namespaces
// holding the same 4-tuple are never confused.
//
// The caller owns the timing: it runs a cycle every scan.interval, and
// sooner when engine().next_verify_due() says a probe or a verification
// verdict is due - but never sooner than cycle/turn_schedule.h's floor,
// since that may be "now" turn after turn.

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "cycle/cycle_options.h"
#include "cycle/namespace_tools.h"
#include "decide/decided_scan.h"
#include "decide/decision_engine.h"
#include "diag/scan_query.h"
#include "netns/namespace_info.h"
#include "netns/socket_maker.h"
#include "reap/reap_outcome.h"

namespace tcpreap {

struct NamespaceTurn {
  enum class State : uint8_t {
    kScanned,  // dumped
    kNoPolicy, // no policy applies here (match.namespaces): not dumped
    kEmpty,    // the kernel counts no TCP socket here that the filter could list, in
               // any family it asks for: not dumped (stats.skipped: those families)
    kFailed,   // the dump failed: nothing here was decided or acted on
  };
  uint32_t slot = 0;
  NamespaceInfo info;  // as the cycle held it this turn
  State state = State::kScanned;
  std::optional<Error> error;  // kFailed
  ScanStats stats;  // kScanned: stats.skipped, the families found empty and not dumped
};

struct CycleResult {
  // This scan's in-scope sockets with their decisions (the engine's: valid
  // until the next run). Probes and reaps refer to them by index;
  // Entry::netns is the slot of ReapCycle::namespace_info().
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
  std::vector<NamespaceTurn> namespaces;  // one per slot, in slot order
};

// Not thread-safe.
class ReapCycle {
 public:
  // A cycle over the calling thread's own namespace only (slot 0, "host"):
  // compiles the scan filter and opens its tools.
  static Result<ReapCycle> open(Config config, CycleOptions options);
  // A cycle over no namespace yet: add_namespace() each.
  static ReapCycle open_empty(Config config, CycleOptions options);

  ReapCycle(ReapCycle&&) noexcept = default;
  ReapCycle& operator=(ReapCycle&&) noexcept = default;

  // Opens the tools of one more namespace with `maker` (its sockets are made
  // in it: SocketMaker::here() for the own). On error nothing was added.
  // The new slot is the last; an id already held is refused.
  Status add_namespace(NamespaceInfo info, SocketMaker maker);
  // Drops a namespace: every socket opened in it, and the maker's hold on
  // it, is closed before this returns (AF_PACKET sockets take an RCU grace
  // period each, ~12-15 ms). The slots after it move down by one. False
  // when no slot holds `id`.
  bool remove_namespace(const NetnsId& id);
  size_t namespace_count() const { return slots_.size(); }
  const NamespaceInfo& namespace_info(uint32_t slot) const { return slots_.at(slot)->info; }
  std::optional<uint32_t> find_namespace(const NetnsId& id) const;

  // One turn over every namespace. An Error only when there were namespaces
  // and every one's scan failed (nothing was acted on); a namespace whose
  // dump fails is a kFailed NamespaceTurn, and the others go on. Probe and
  // reap failures are outcomes in the result.
  Result<CycleResult> run(const DecidedScanHooks& hooks = {});

  // A new config (SIGHUP): the engine keeps its history, a prober is opened
  // if the new config is the first to verify, a reaper if it is the first
  // not to be a dry run (CycleOptions::dry_run stays in force) - in every
  // namespace. On error nothing changed.
  Status reload(Config config);

  DecisionEngine& engine() { return engine_; }
  const DecisionEngine& engine() const { return engine_; }
  const Config& config() const { return engine_.config(); }
  // The options' dry run, or the config's.
  bool dry_run() const { return options_.dry_run || engine_.config().dry_run; }
  // Why policies that verify cannot probe (probes_optional) in the first
  // namespace that cannot, or empty.
  const std::string& prober_unavailable() const;
  // Whether RST injection could be used in the first namespace (CAP_NET_RAW).
  bool rst_available() const;
  // Said once: what opening the reapers and probers did worth saying
  // (neighbour entries of another tcpreap removed), and a reaper's switch
  // to RST injection, when it happens; prefixed by the namespace but for
  // the own.
  std::optional<std::string> take_notice();

 private:
  // What a namespace's scan asks for.
  struct Filter {
    std::vector<uint8_t> policies;           // one flag per policy: it applies here (match.namespaces)
    std::shared_ptr<const ScanQuery> query;  // null: no policy applies, nothing to dump
  };
  struct Slot {
    NamespaceInfo info;
    NamespaceTools tools;
    Filter filter;
  };
  ReapCycle(CycleOptions options, DecisionEngine engine) : options_(std::move(options)), engine_(std::move(engine)) {}
  // The filter of `info` under `config`: a query is compiled once per
  // distinct set of flags, reusing (and adding to) `known`.
  static Result<Filter> filter_for(const NamespaceInfo& info, const Config& config, std::vector<Filter>& known);
  std::vector<Filter> filters() const;

  CycleOptions options_;
  DecisionEngine engine_;
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace tcpreap
