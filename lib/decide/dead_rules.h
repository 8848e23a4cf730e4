#pragma once
// The per-socket half of the decision: a pure function of one socket's
// figures and one policy's dead_when. Scan-wide rules (per-peer limits,
// confirm, caps) are the engine's.

#include <optional>

#include "decide/verdict.h"

namespace tcpreap {

// What earlier scans saw of a socket: how long it has been in its current
// state, and how long it has had data or probes outstanding (0 on first
// sight, or when it had none).
struct Observed {
  uint32_t in_state_ms = 0;
  uint32_t outstanding_ms = 0;
};

// The figures the rules look at: tcp_info's, and lower bounds of durations
// tcp_info does not report, from tcp_info and from `observed`.
Figures figures_of(const TcpSocket& s, Observed observed);

// Whether the socket has data or zero-window probes outstanding.
bool has_outstanding(const Figures& f);

// A lower bound of the time `timeouts` consecutive expiries of the
// retransmission (or zero-window probe) timer took: the k-th waited
// base << k, capped at TCP_RTO_MAX (120 s), where base = rto >> backoff.
// Where the kernel reverted the backoff (RFC 6069) the shift stops at
// `backoff`, which keeps the bound below the truth.
uint32_t timeouts_floor_ms(uint32_t rto_us, uint8_t backoff, uint8_t timeouts);

struct DeadFinding {
  DeadReason reason = DeadReason::kNone;
  Duration threshold{};
  bool operator==(const DeadFinding&) const = default;
};

// Whether probing the peer can overturn `reason` (policy `verify`): silence
// can, whether found by silent_for or by the per-peer limit. Unacked data is
// probed by the kernel's own retransmissions already, and a state timeout is
// about the local socket, not the peer.
bool verifiable(DeadReason reason);

// Why `dead_when` finds the socket dead, checked in the order silent,
// unacked, state timeout; nullopt when it does not.
std::optional<DeadFinding> find_dead(const Figures& f, uint8_t state, const DeadWhen& dead_when);

}  // namespace tcpreap
