#include "decide/dead_rules.h"

#include <algorithm>
#include <cstdint>

#include "net/tcp_state.h"

namespace tcpreap {

uint32_t timeouts_floor_ms(uint32_t rto_us, uint8_t backoff, uint8_t timeouts) {
  constexpr uint64_t kRtoMaxUs = 120'000'000;  // TCP_RTO_MAX
  const uint64_t base = backoff < 32 ? rto_us >> backoff : 0;
  uint64_t total_us = 0;
  for (unsigned k = 0; k < timeouts; ++k) {
    const unsigned shift = std::min<unsigned>(k, backoff);
    total_us += shift < 40 ? std::min(base << shift, kRtoMaxUs) : kRtoMaxUs;
  }
  return static_cast<uint32_t>(std::min<uint64_t>(total_us / 1000, UINT32_MAX));
}

bool verifiable(DeadReason reason) {
  return reason == DeadReason::kSilent || reason == DeadReason::kPerPeerLimit;
}

bool has_outstanding(const Figures& f) { return f.unacked > 0 || f.probes > 0; }

Figures figures_of(const TcpSocket& s, Observed observed) {
  Figures f;
  f.in_state_ms = observed.in_state_ms;
  if (!s.info) return f;
  const TcpInfo& ti = *s.info;
  f.last_recv_ms = ti.last_recv_ms().value_or(0);
  f.unacked = ti.unacked.value_or(0);
  f.retransmits = ti.retransmits.value_or(0);
  f.backoff = ti.backoff.value_or(0);
  f.probes = ti.probes.value_or(0);
  if (has_outstanding(f)) {
    // How long data (or a zero-window probe) has waited for an ACK. tcp_info
    // has no such field, and last_data_sent will not do: retransmissions
    // refresh it (tcp_event_data_sent). Two lower bounds instead: the time
    // the consecutive timeouts took (none yet: less than one RTO), and what
    // earlier scans saw. Neither may exceed the time since the last ACK - a
    // live zero-window reader ACKs every probe, so it never qualifies.
    const uint8_t timeouts = f.unacked > 0 ? f.retransmits : f.probes;
    const uint32_t floor = timeouts_floor_ms(ti.rto_us.value_or(0), f.backoff, timeouts);
    f.unacked_for_ms = std::min(ti.last_ack_recv_ms.value_or(0), std::max(floor, observed.outstanding_ms));
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
