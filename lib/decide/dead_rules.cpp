#include "decide/dead_rules.h"

#include <algorithm>

#include "net/tcp_state.h"

namespace tcpreap {

Figures figures_of(const TcpSocket& s, uint32_t observed_in_state_ms) {
  Figures f;
  f.in_state_ms = observed_in_state_ms;
  if (!s.info) return f;
  const TcpInfo& ti = *s.info;
  f.last_recv_ms = ti.last_recv_ms().value_or(0);
  f.unacked = ti.unacked.value_or(0);
  f.retransmits = ti.retransmits.value_or(0);
  f.backoff = ti.backoff.value_or(0);
  f.probes = ti.probes.value_or(0);
  const uint32_t last_ack = ti.last_ack_recv_ms.value_or(0);
  if (f.unacked > 0) {
    // The oldest unacknowledged byte was sent no later than the newest one,
    // so the time since new data was last sent is a lower bound of how long
    // data has been outstanding. Without it, a connection idle for an hour
    // that sent a byte a millisecond ago would look an hour unacknowledged.
    f.unacked_for_ms = std::min(last_ack, ti.last_data_sent_ms.value_or(0));
  } else if (f.probes > 0) {
    // Zero-window probes (or a lost local route): no data in flight, but
    // the peer owes an answer. A live zero-window reader keeps ACKing the
    // probes, so last_ack_recv stays small; a dead peer's only grows.
    f.unacked_for_ms = last_ack;
  }
  // In CLOSE-WAIT and FIN-WAIT-2 the state began with a segment from the
  // peer (its FIN; the ACK of ours), so the time since anything arrived is
  // also a lower bound of the time in the state.
  if (s.state == static_cast<uint8_t>(TcpState::kCloseWait) || s.state == static_cast<uint8_t>(TcpState::kFinWait2))
    f.in_state_ms = std::max(f.in_state_ms, f.last_recv_ms);
  return f;
}

std::optional<DeadFinding> find_dead(const Figures& f, uint8_t state, const DeadWhen& dead_when) {
  auto crossed = [](uint32_t ms, Duration limit) { return ms >= static_cast<uint64_t>(limit.count()); };
  if (dead_when.silent_for && crossed(f.last_recv_ms, *dead_when.silent_for))
    return DeadFinding{DeadReason::kSilent, *dead_when.silent_for};
  if (dead_when.unacked_for && f.unacked_for_ms > 0 && crossed(f.unacked_for_ms, *dead_when.unacked_for))
    return DeadFinding{DeadReason::kUnacked, *dead_when.unacked_for};
  for (const StateTimeout& t : dead_when.in_state_for)
    if (t.state == state && crossed(f.in_state_ms, t.after)) return DeadFinding{DeadReason::kStateTimeout, t.after};
  return std::nullopt;
}

}  // namespace tcpreap
