#pragma once
// How `tcpreap reap` and the daemon run their turns (cycle/reap_cycle.h).

#include <optional>

#include "config/config.h"
#include "decide/decision_engine.h"
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
  // Which sockets a turn's entries hold (DecisionEngine::Retain): all of
  // them for a command that prints them; the daemon needs only those it
  // may act on or count.
  DecisionEngine::Retain retain = DecisionEngine::Retain::kAll;
};

// Whether some policy of `config` verifies its peers.
bool any_policy_verifies(const Config& config);

}  // namespace tcpreap
