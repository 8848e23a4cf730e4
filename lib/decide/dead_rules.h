#pragma once
// The per-socket half of the decision: a pure function of one socket's
// figures and one policy's dead_when. Scan-wide rules (per-peer limits,
// confirm, caps) are the engine's.

#include <optional>

#include "decide/verdict.h"

namespace tcpreap {

// The figures the rules look at. `observed_in_state_ms` is how long earlier
// scans have seen the socket in its current state (0 on first sight).
Figures figures_of(const TcpSocket& s, uint32_t observed_in_state_ms);

struct DeadFinding {
  DeadReason reason = DeadReason::kNone;
  Duration threshold{};
  bool operator==(const DeadFinding&) const = default;
};

// Why `dead_when` finds the socket dead, checked in the order silent,
// unacked, state timeout; nullopt when it does not.
std::optional<DeadFinding> find_dead(const Figures& f, uint8_t state, const DeadWhen& dead_when);

}  // namespace tcpreap
