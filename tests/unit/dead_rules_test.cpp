// The per-socket rules (decide/dead_rules): a pure function of one socket's
// figures and one policy's dead_when, table-driven.

#include "decide/dead_rules.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "unit/decision_fixture.h"

namespace tcpreap {
namespace {

using namespace std::chrono_literals;
using testing::Sock;

struct RuleCase {
  const char* name;
  Sock sock;
  DeadWhen dead_when;
  Observed observed;
  std::optional<DeadFinding> expected;
};

TEST(DeadRules, Table) {
  DeadWhen both;
  both.silent_for = 120s;
  both.unacked_for = 30s;
  DeadWhen close_wait;
  close_wait.in_state_for = {{static_cast<uint8_t>(TcpState::kCloseWait), 5min}};
  DeadWhen fin_wait_1;
  fin_wait_1.in_state_for = {{static_cast<uint8_t>(TcpState::kFinWait1), 1min}};
  // A dead peer's RTO doubles from ~204 ms: 8 timeouts took at least
  // 204 ms * (2^8 - 1) = 52 s, 3 timeouts at least 1.4 s.
  const uint32_t rto8 = 204'000u << 8;
  const std::vector<RuleCase> cases = {
      {"fresh", {}, both, {}, std::nullopt},
      {"silent exactly at the limit", {.last_data_recv = 120'000, .last_ack_recv = 120'000}, both, {},
       DeadFinding{DeadReason::kSilent, 120s}},
      {"silent just below", {.last_data_recv = 119'999, .last_ack_recv = 119'999}, both, {}, std::nullopt},
      {"an ACK is something received", {.last_data_recv = 500'000, .last_ack_recv = 1'000}, both, {}, std::nullopt},
      {"unacked after 8 timeouts, no ACK for 60 s",
       {.last_ack_recv = 60'000, .unacked = 3, .retransmits = 8, .backoff = 8, .rto_us = rto8}, both, {},
       DeadFinding{DeadReason::kUnacked, 30s}},
      {"unacked after 3 timeouts: outstanding only >= 1.4 s so far",
       {.last_ack_recv = 60'000, .unacked = 3, .retransmits = 3, .backoff = 3, .rto_us = 204'000u << 3}, both, {},
       std::nullopt},
      {"data just sent after an hour idle: no timeout yet",
       {.last_data_recv = 100, .last_ack_recv = 3'600'000, .last_data_sent = 5, .unacked = 1}, both, {},
       std::nullopt},
      {"earlier scans saw it outstanding for 40 s, no ACK for 45 s",
       {.last_ack_recv = 45'000, .unacked = 2, .retransmits = 1, .backoff = 1}, both, {.outstanding_ms = 40'000},
       DeadFinding{DeadReason::kUnacked, 30s}},
      {"outstanding 40 s by earlier scans, but an ACK 5 s ago",
       {.last_ack_recv = 5'000, .unacked = 2, .retransmits = 1, .backoff = 1}, both, {.outstanding_ms = 40'000},
       std::nullopt},
      {"no data outstanding, old ACK", {.last_data_recv = 50, .last_ack_recv = 40'000}, both, {}, std::nullopt},
      {"zero-window probes unanswered 8 times",
       {.last_data_recv = 50, .last_ack_recv = 60'000, .probes = 8, .backoff = 8, .rto_us = rto8}, both, {},
       DeadFinding{DeadReason::kUnacked, 30s}},
      {"a live zero-window reader ACKs its probes",
       {.last_data_recv = 50, .last_ack_recv = 200, .probes = 1, .backoff = 9, .rto_us = 204'000u << 9}, both,
       {.outstanding_ms = 600'000}, std::nullopt},
      {"silent wins over unacked",
       {.last_data_recv = 200'000, .last_ack_recv = 200'000, .unacked = 2, .retransmits = 8, .backoff = 8,
        .rto_us = rto8},
       both, {}, DeadFinding{DeadReason::kSilent, 120s}},
      {"close-wait since the peer's FIN",
       {.state = TcpState::kCloseWait, .last_data_recv = 301'000, .last_ack_recv = 300'000}, close_wait, {},
       DeadFinding{DeadReason::kStateTimeout, 5min}},
      {"close-wait not yet", {.state = TcpState::kCloseWait, .last_data_recv = 10'000, .last_ack_recv = 10'000},
       close_wait, {}, std::nullopt},
      {"fin-wait-1 needs observed time",
       {.state = TcpState::kFinWait1, .last_data_recv = 900'000, .last_ack_recv = 900'000}, fin_wait_1, {},
       std::nullopt},
      {"fin-wait-1 observed long enough", {.state = TcpState::kFinWait1}, fin_wait_1, {.in_state_ms = 60'000},
       DeadFinding{DeadReason::kStateTimeout, 1min}},
      {"the timeout is for another state", {.state = TcpState::kEstablished}, fin_wait_1, {.in_state_ms = 900'000},
       std::nullopt},
      {"no tcp_info (TIME-WAIT, request)", {.info = false}, both, {}, std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const TcpSocket s = c.sock.make();
    EXPECT_EQ(find_dead(figures_of(s, c.observed), s.state, c.dead_when), c.expected);
  }
}

TEST(DeadRules, TimeoutsFloorFollowsTheBackoff) {
  EXPECT_EQ(timeouts_floor_ms(204'000u << 6, 6, 6), 204u * 63);
  EXPECT_EQ(timeouts_floor_ms(204'000, 0, 0), 0u);
  // The backoff stalled at 4 (ICMP host unreachable reverts it, RFC 6069)
  // while 7 retransmissions went out: 1+2+4+8+16+16+16 bases.
  EXPECT_EQ(timeouts_floor_ms(204'000u << 4, 4, 7), 204u * 63);
  // The RTO reached TCP_RTO_MAX (120 s) at backoff 4: 7.5 + 15 + 30 + 60 s,
  // then 120 s for each of the 6 others.
  EXPECT_EQ(timeouts_floor_ms(120'000'000, 4, 10), 832'500u);
  EXPECT_EQ(timeouts_floor_ms(0, 3, 3), 0u) << "no RTO known, no bound";
}

TEST(DeadRules, OnlySilenceIsVerifiable) {
  EXPECT_TRUE(verifiable(DeadReason::kSilent));
  EXPECT_TRUE(verifiable(DeadReason::kPerPeerLimit));
  EXPECT_FALSE(verifiable(DeadReason::kUnacked));
  EXPECT_FALSE(verifiable(DeadReason::kStateTimeout));
  EXPECT_FALSE(verifiable(DeadReason::kNone));
}

}  // namespace
}  // namespace tcpreap
