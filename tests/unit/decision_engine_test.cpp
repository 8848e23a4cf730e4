#include "decide/decision_engine.h"

#include <gtest/gtest.h>

#include "decide/dead_rules.h"
#include "unit/allocation_counter.h"

namespace tcpreap {
namespace {

using namespace std::chrono_literals;
using Clock = DecisionEngine::Clock;

// A socket as a dump would show it; times in ms.
struct Sock {
  uint64_t cookie = 1;
  const char* remote = "10.0.0.2";
  uint16_t local_port = 2181;
  uint16_t remote_port = 40000;
  TcpState state = TcpState::kEstablished;
  uint32_t last_data_recv = 100;
  uint32_t last_ack_recv = 100;
  uint32_t last_data_sent = 100;
  uint32_t unacked = 0;
  uint8_t probes = 0;
  uint8_t retransmits = 0;
  uint8_t backoff = 0;
  uint32_t rto_us = 204'000;
  bool info = true;

  TcpSocket make() const {
    TcpSocket s;
    s.remote = *IpAddress::parse(remote);
    s.family = s.remote.family;
    s.local = s.family == Family::kIPv4 ? *IpAddress::parse("10.0.0.1") : *IpAddress::parse("fd00::1");
    s.local_port = local_port;
    s.remote_port = remote_port;
    s.state = static_cast<uint8_t>(state);
    s.cookie = cookie;
    if (info) {
      TcpInfo ti;
      ti.last_data_recv_ms = last_data_recv;
      ti.last_ack_recv_ms = last_ack_recv;
      ti.last_data_sent_ms = last_data_sent;
      ti.unacked = unacked;
      ti.probes = probes;
      ti.retransmits = retransmits;
      ti.backoff = backoff;
      ti.rto_us = rto_us;
      s.info = ti;
    }
    return s;
  }
};

Policy policy(std::string name, DeadWhen dw, uint32_t confirm = 1) {
  Policy p;
  p.name = std::move(name);
  p.match.local_ports = {{2181, 2181}};
  p.match.states = StateSet::of(TcpState::kEstablished) | StateSet::of(TcpState::kCloseWait);
  p.dead_when = std::move(dw);
  p.confirm = confirm;
  return p;
}

DeadWhen silent(Duration d) {
  DeadWhen dw;
  dw.silent_for = d;
  return dw;
}

Config config_of(std::vector<Policy> policies) {
  Config c;
  c.policies = std::move(policies);
  return c;
}

// ---- the per-socket rules, table-driven ----

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

// ---- the engine ----

class Engine {
 public:
  explicit Engine(Config c) : engine_(std::move(c)) {}
  // One scan at t0 + `at`; returns every socket's decision in input order.
  std::vector<Decision> scan(Duration at, const std::vector<Sock>& socks) {
    engine_.begin_scan(t0_ + at);
    std::vector<std::optional<Decision>> now;
    for (const auto& s : socks) now.push_back(engine_.observe(s.make()));
    const auto& kept = engine_.finish_scan();
    std::vector<Decision> out;
    size_t k = 0;
    for (auto& d : now) out.push_back(d ? *d : kept.at(k++).decision);
    EXPECT_EQ(k, kept.size());
    return out;
  }
  // What probing `cookie`'s peer gave, at t0 + `at`.
  void record(uint64_t cookie, ProbeResult r, Duration at) {
    engine_.record_probe(cookie, ProbeOutcome{r, 0, {}}, t0_ + at);
  }
  // next_verify_due(), since t0.
  std::optional<Duration> due() const {
    auto t = engine_.next_verify_due();
    if (!t) return std::nullopt;
    return std::chrono::duration_cast<Duration>(*t - t0_);
  }
  DecisionEngine& engine() { return engine_; }

 private:
  DecisionEngine engine_;
  Clock::time_point t0_ = Clock::time_point() + 1h;
};

const Sock kSilent{.last_data_recv = 200'000, .last_ack_recv = 200'000};

TEST(DecisionEngine, OutOfScopeWhenNoPolicyMatches) {
  Engine e(config_of({policy("zk", silent(60s))}));
  auto d = e.scan(0s, {{.local_port = 22, .last_data_recv = 900'000, .last_ack_recv = 900'000}});
  EXPECT_EQ(d[0].verdict, Verdict::kOutOfScope);
  EXPECT_EQ(d[0].policy, -1);
  EXPECT_EQ(e.engine().remembered(), 0u);
}

TEST(DecisionEngine, TheFirstMatchingPolicyDecides) {
  Policy narrow = policy("narrow", silent(10min));
  narrow.match.remote = {*Cidr::parse("10.0.0.0/24")};
  Engine e(config_of({narrow, policy("wide", silent(60s))}));
  auto d = e.scan(0s, {{.cookie = 1, .remote = "10.0.0.9", .last_data_recv = 200'000, .last_ack_recv = 200'000},
                       {.cookie = 2, .remote = "10.1.0.9", .last_data_recv = 200'000, .last_ack_recv = 200'000}});
  EXPECT_EQ(d[0].policy, 0);
  EXPECT_EQ(d[0].verdict, Verdict::kAlive);  // 200 s < 10 min
  EXPECT_EQ(d[1].policy, 1);
  EXPECT_EQ(d[1].verdict, Verdict::kDead);
  EXPECT_EQ(d[1].reason, DeadReason::kSilent);
  EXPECT_EQ(d[1].threshold, 60s);
  EXPECT_EQ(d[1].figures.last_recv_ms, 200'000u);
}

TEST(DecisionEngine, ProtectionWinsOverEveryPolicy) {
  Config c = config_of({policy("zk", silent(60s))});
  Match keep;
  keep.remote = {*Cidr::parse("10.0.0.2/32")};
  keep.states = StateSet::all();
  c.protect = {keep};
  Engine e(c);
  auto d = e.scan(0s, {kSilent, {.cookie = 2, .remote = "10.0.0.3", .last_data_recv = 200'000,
                                 .last_ack_recv = 200'000}});
  EXPECT_EQ(d[0].verdict, Verdict::kProtected);
  EXPECT_EQ(d[0].policy, 0);
  EXPECT_EQ(d[1].verdict, Verdict::kDead);
}

TEST(DecisionEngine, ConfirmNeedsConsecutiveScans) {
  Engine e(config_of({policy("zk", silent(60s), 3)}));
  auto d1 = e.scan(0s, {kSilent});
  EXPECT_EQ(d1[0].verdict, Verdict::kSuspect);
  EXPECT_EQ(d1[0].dead_scans, 1u);
  EXPECT_EQ(d1[0].confirm, 3u);
  auto d2 = e.scan(10s, {kSilent});
  EXPECT_EQ(d2[0].verdict, Verdict::kSuspect);
  EXPECT_EQ(d2[0].dead_scans, 2u);
  // Something arrived: the count starts over.
  auto d3 = e.scan(20s, {{.last_data_recv = 5, .last_ack_recv = 5}});
  EXPECT_EQ(d3[0].verdict, Verdict::kAlive);
  EXPECT_EQ(d3[0].dead_scans, 0u);
  e.scan(30s, {kSilent});
  e.scan(40s, {kSilent});
  auto d6 = e.scan(50s, {kSilent});
  EXPECT_EQ(d6[0].verdict, Verdict::kDead);
  EXPECT_EQ(d6[0].dead_scans, 3u);
}

TEST(DecisionEngine, ConfirmOverrideLetsOneScanStandForAll) {
  Engine e(config_of({policy("zk", silent(60s), 3)}));
  e.engine().override_confirm(1);
  auto d = e.scan(0s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kDead);
  EXPECT_EQ(d[0].confirm, 1u);
}

TEST(DecisionEngine, ARecycledFourTupleIsANewSocket) {
  Engine e(config_of({policy("zk", silent(60s), 2)}));
  EXPECT_EQ(e.scan(0s, {kSilent})[0].dead_scans, 1u);
  Sock reused = kSilent;
  reused.cookie = 99;  // same addresses and ports, another socket
  auto d = e.scan(10s, {reused});
  EXPECT_EQ(d[0].dead_scans, 1u);
  EXPECT_EQ(d[0].verdict, Verdict::kSuspect);
}

TEST(DecisionEngine, ForgetsSocketsThatDisappear) {
  Engine e(config_of({policy("zk", silent(60s), 2)}));
  e.scan(0s, {kSilent, {.cookie = 2}, {.cookie = 3}});
  EXPECT_EQ(e.engine().remembered(), 3u);
  e.scan(10s, {{.cookie = 3}});
  EXPECT_EQ(e.engine().remembered(), 1u);
  // Cookie 1 comes back (it cannot, really): it starts from nothing.
  EXPECT_EQ(e.scan(20s, {kSilent})[0].dead_scans, 1u);
}

TEST(DecisionEngine, TimeInStateIsObservedAcrossScans) {
  DeadWhen dw;
  dw.in_state_for = {{static_cast<uint8_t>(TcpState::kEstablished), 30s}};
  Engine e(config_of({policy("zk", dw)}));
  EXPECT_EQ(e.scan(0s, {{}})[0].verdict, Verdict::kAlive);
  EXPECT_EQ(e.scan(20s, {{}})[0].figures.in_state_ms, 20'000u);
  auto d = e.scan(30s, {{}});
  EXPECT_EQ(d[0].verdict, Verdict::kDead);
  EXPECT_EQ(d[0].reason, DeadReason::kStateTimeout);
  // A change of state restarts the clock.
  EXPECT_EQ(e.scan(40s, {{.state = TcpState::kCloseWait}})[0].figures.in_state_ms, 100u);  // last_recv bound
}

TEST(DecisionEngine, OutstandingDataIsTimedAcrossScans) {
  DeadWhen dw;
  dw.unacked_for = 30s;
  Engine e(config_of({policy("zk", dw)}));
  // One retransmission so far: tcp_info alone bounds the wait at one RTO.
  auto d1 = e.scan(0s, {{.last_ack_recv = 1'000, .unacked = 2, .retransmits = 1, .backoff = 1, .rto_us = 408'000}});
  EXPECT_EQ(d1[0].verdict, Verdict::kAlive);
  EXPECT_EQ(d1[0].figures.unacked_for_ms, 204u);
  // 35 s later it is still outstanding and no ACK came: outstanding >= 35 s.
  auto d2 = e.scan(35s, {{.last_ack_recv = 36'000, .unacked = 2, .retransmits = 1, .backoff = 1, .rto_us = 408'000}});
  EXPECT_EQ(d2[0].verdict, Verdict::kDead);
  EXPECT_EQ(d2[0].reason, DeadReason::kUnacked);
  EXPECT_EQ(d2[0].figures.unacked_for_ms, 35'000u);
  // Delivered at last: the clock stops, and starts again from scratch.
  EXPECT_EQ(e.scan(40s, {{.last_ack_recv = 10}})[0].figures.unacked_for_ms, 0u);
  auto d4 = e.scan(80s, {{.last_ack_recv = 40'000, .unacked = 1, .retransmits = 1, .backoff = 1, .rto_us = 408'000}});
  EXPECT_EQ(d4[0].figures.unacked_for_ms, 204u);
}

TEST(DecisionEngine, PerPeerLimitReapsThePeersLongestSilentFirst) {
  Policy p = policy("zk", silent(1h));
  p.per_peer_limit = PerPeerLimit{2, 60s};
  Engine e(config_of({p}));
  auto d = e.scan(0s, {
                          {.cookie = 1, .remote = "10.0.0.2", .last_data_recv = 70'000, .last_ack_recv = 70'000},
                          {.cookie = 2, .remote = "10.0.0.2", .last_data_recv = 900'000, .last_ack_recv = 900'000},
                          {.cookie = 3, .remote = "10.0.0.2", .last_data_recv = 10, .last_ack_recv = 10},
                          {.cookie = 4, .remote = "10.0.0.2", .last_data_recv = 80'000, .last_ack_recv = 80'000},
                          {.cookie = 5, .remote = "10.0.0.3", .last_data_recv = 900'000, .last_ack_recv = 900'000},
                      });
  // Peer 10.0.0.2 holds 4 > 2: its two longest-silent (900 s, 80 s) go.
  EXPECT_EQ(d[1].verdict, Verdict::kDead);
  EXPECT_EQ(d[1].reason, DeadReason::kPerPeerLimit);
  EXPECT_EQ(d[1].figures.peer_connections, 4u);
  EXPECT_EQ(d[3].verdict, Verdict::kDead);
  EXPECT_EQ(d[0].verdict, Verdict::kAlive);
  EXPECT_EQ(d[2].verdict, Verdict::kAlive);
  // The other peer is within its limit.
  EXPECT_EQ(d[4].verdict, Verdict::kAlive);
  EXPECT_EQ(d[4].figures.peer_connections, 1u);
}

TEST(DecisionEngine, PerPeerLimitSparesTheRecentlyHeard) {
  Policy p = policy("zk", silent(1h));
  p.per_peer_limit = PerPeerLimit{1, 60s};
  Engine e(config_of({p}));
  auto d = e.scan(0s, {{.cookie = 1, .last_data_recv = 30'000, .last_ack_recv = 30'000},
                       {.cookie = 2, .last_data_recv = 20'000, .last_ack_recv = 20'000}});
  EXPECT_EQ(d[0].verdict, Verdict::kAlive) << "over the limit, but heard from 30 s ago (< min_silent 60 s)";
  EXPECT_EQ(d[1].verdict, Verdict::kAlive);
}

TEST(DecisionEngine, PerPeerLimitCountsV4MappedAsTheSamePeer) {
  Policy p = policy("zk", silent(1h));
  p.per_peer_limit = PerPeerLimit{1, 60s};
  Engine e(config_of({p}));
  auto d = e.scan(0s, {{.cookie = 1, .remote = "10.0.0.2", .last_data_recv = 70'000, .last_ack_recv = 70'000},
                       {.cookie = 2, .remote = "::ffff:10.0.0.2", .last_data_recv = 90'000, .last_ack_recv = 90'000}});
  EXPECT_EQ(d[0].figures.peer_connections, 2u);
  EXPECT_EQ(d[1].verdict, Verdict::kDead);
  EXPECT_EQ(d[0].verdict, Verdict::kAlive);
}

TEST(DecisionEngine, CapsHoldBackTheRestLongestSilentFirst) {
  Policy a = policy("a", silent(60s));
  a.max_per_scan = 1;
  a.match.remote = {*Cidr::parse("10.0.0.0/24")};
  Config c = config_of({a, policy("b", silent(60s))});
  c.max_per_scan = 2;
  Engine e(c);
  auto d = e.scan(0s, {
                          {.cookie = 1, .remote = "10.0.0.2", .last_data_recv = 100'000, .last_ack_recv = 100'000},
                          {.cookie = 2, .remote = "10.0.0.3", .last_data_recv = 300'000, .last_ack_recv = 300'000},
                          {.cookie = 3, .remote = "10.9.0.1", .last_data_recv = 200'000, .last_ack_recv = 200'000},
                          {.cookie = 4, .remote = "10.9.0.2", .last_data_recv = 150'000, .last_ack_recv = 150'000},
                      });
  for (const auto& x : d) EXPECT_EQ(x.verdict, Verdict::kDead);
  EXPECT_FALSE(d[1].held_back);  // a: longest silent of its policy
  EXPECT_TRUE(d[0].held_back);   // a: over a's own cap of 1
  EXPECT_FALSE(d[2].held_back);  // b: second of the global 2
  EXPECT_TRUE(d[3].held_back);   // over the global cap
  // Held back is not lost: the next scan acts on it.
  auto next = e.scan(10s, {{.cookie = 1, .remote = "10.0.0.2", .last_data_recv = 110'000, .last_ack_recv = 110'000},
                           {.cookie = 4, .remote = "10.9.0.2", .last_data_recv = 160'000, .last_ack_recv = 160'000}});
  EXPECT_FALSE(next[0].held_back);
  EXPECT_FALSE(next[1].held_back);
}

TEST(DecisionEngine, ReloadKeepsHistoryWhileThePolicyKeepsItsName) {
  Engine e(config_of({policy("zk", silent(60s), 3)}));
  e.scan(0s, {kSilent, {.cookie = 2, .remote_port = 1, .last_data_recv = 200'000, .last_ack_recv = 200'000}});
  Policy renamed = policy("other", silent(60s), 3);
  renamed.match.remote_ports = {{1, 1}};
  e.engine().reload(config_of({renamed, policy("zk", silent(60s), 3)}));
  auto d = e.scan(10s, {kSilent, {.cookie = 2, .remote_port = 1, .last_data_recv = 210'000, .last_ack_recv = 210'000}});
  EXPECT_EQ(d[0].dead_scans, 2u) << "still decided by 'zk'";
  EXPECT_EQ(d[1].dead_scans, 1u) << "now decided by 'other': starts over";
}

// ---- liveness verification (policy `verify`) ----

Policy verifying(std::string name, DeadWhen dw, uint32_t confirm = 1, uint32_t probes = 3, Duration interval = 5s) {
  Policy p = policy(std::move(name), std::move(dw), confirm);
  p.verify = Verify{probes, interval};
  return p;
}

// kSilent after its peer's ACK to a probe: data long ago, an ACK just now.
const Sock kAnswered{.last_data_recv = 200'000, .last_ack_recv = 300};

using Counters = DecisionEngine::ProbeCounters;

TEST(DecisionEngineVerify, SilentUnansweredProbesThenDead) {
  Engine e(config_of({verifying("zk", silent(60s))}));
  auto d = e.scan(0s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_EQ(d[0].reason, DeadReason::kSilent);
  EXPECT_EQ(d[0].dead_scans, 1u);
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 3, .sent = 0, .failures = 0, .due = true, .since_last_ms = 0}));
  EXPECT_EQ(e.due(), 0s) << "never probed: due at once";

  e.record(1, ProbeResult::kSent, 100ms);
  EXPECT_EQ(e.due(), 5100ms);
  d = e.scan(2s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 3, .sent = 1, .failures = 0, .due = false, .since_last_ms = 1900}));
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 1}));

  d = e.scan(5100ms, {kSilent});
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 3, .sent = 1, .failures = 0, .due = true, .since_last_ms = 5000}));
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 1, .unanswered = 1}));
  e.record(1, ProbeResult::kSent, 5200ms);
  d = e.scan(10200ms, {kSilent});
  EXPECT_TRUE(d[0].probe.due);
  e.record(1, ProbeResult::kSent, 10300ms);

  // Three sent: no more probes, one more interval of silence to wait.
  d = e.scan(12s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 3, .sent = 3, .failures = 0, .due = false, .since_last_ms = 1700}));
  EXPECT_EQ(e.due(), 15300ms) << "when the verdict is due";
  d = e.scan(15249ms, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying) << "earlier than the 50 ms of scheduling slack";

  d = e.scan(15250ms, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kDead);
  EXPECT_EQ(d[0].reason, DeadReason::kSilent);
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 3, .sent = 3, .failures = 0, .due = false, .since_last_ms = 4950}))
      << "kept for the report: 3 probes unanswered";
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 3, .unanswered = 3}));
  EXPECT_EQ(e.due(), std::nullopt) << "dead is not verifying";

  // Still there on the next scan (the reap failed): still dead, nothing counted twice.
  d = e.scan(20s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kDead);
  EXPECT_EQ(d[0].probe.sent, 3u);
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 3, .unanswered = 3}));
}

TEST(DecisionEngineVerify, AScanSeeingTheAnswerMakesItAliveAndProbingStartsOver) {
  Engine e(config_of({verifying("zk", silent(60s))}));
  e.scan(0s, {kSilent});
  e.record(1, ProbeResult::kSent, 0s);
  auto d = e.scan(1s, {kAnswered});
  EXPECT_EQ(d[0].verdict, Verdict::kAlive);
  EXPECT_EQ(d[0].probe, ProbeState{});
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 1, .answered = 1}));
  EXPECT_EQ(e.due(), std::nullopt);

  // Silent again much later: a new verification, from probe 0.
  d = e.scan(100s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 3, .sent = 0, .failures = 0, .due = true, .since_last_ms = 0}));
  EXPECT_EQ(e.due(), 100s);
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 1, .answered = 1}));
}

TEST(DecisionEngineVerify, AnAliveScanCountsNothingWhenNoProbeIsOutstanding) {
  Engine e(config_of({verifying("zk", silent(60s))}));
  e.scan(0s, {kSilent});
  e.record(1, ProbeResult::kSent, 0s);
  e.scan(5s, {kSilent});  // the probe went unanswered
  auto d = e.scan(6s, {kAnswered});
  EXPECT_EQ(d[0].verdict, Verdict::kAlive);
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 1, .unanswered = 1}));
}

TEST(DecisionEngineVerify, AnAnswerSeenDirectlyIsCountedOnce) {
  Engine e(config_of({verifying("zk", silent(60s))}));
  e.scan(0s, {kSilent});
  e.record(1, ProbeResult::kAnswered, 100ms);
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 1, .answered = 1}));
  auto d = e.scan(1s, {kAnswered});
  EXPECT_EQ(d[0].verdict, Verdict::kAlive);
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 1, .answered = 1})) << "not again by the scan";
}

TEST(DecisionEngineVerify, AnAnsweredProbeNeverCountsTowardsDead) {
  // Should a scan still find it silent after an answer, the count starts
  // over and the next probe waits an interval.
  Engine e(config_of({verifying("zk", silent(60s), 1, 1)}));
  e.scan(0s, {kSilent});
  e.record(1, ProbeResult::kAnswered, 0s);
  auto d = e.scan(1s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 1, .sent = 0, .failures = 0, .due = false, .since_last_ms = 1000}));
  EXPECT_EQ(e.due(), 5s);
  d = e.scan(5s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_TRUE(d[0].probe.due);
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 1, .answered = 1}));
}

TEST(DecisionEngineVerify, PeerReset) {
  Engine e(config_of({verifying("zk", silent(60s))}));
  e.scan(0s, {kSilent});
  e.record(1, ProbeResult::kPeerReset, 100ms);
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 1, .peer_reset = 1}));
  // The kernel closed the socket on that RST; should a scan still see it,
  // the probe counts as sent, and not again as unanswered.
  auto d = e.scan(5100ms, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_EQ(d[0].probe.sent, 1u);
  EXPECT_TRUE(d[0].probe.due);
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 1, .peer_reset = 1}));
  // Gone: forgotten.
  e.scan(6s, {});
  EXPECT_EQ(e.engine().remembered(), 0u);
  EXPECT_EQ(e.due(), std::nullopt);
}

TEST(DecisionEngineVerify, FailedAttemptsNeverMakeItDeadAndBackOff) {
  Engine e(config_of({verifying("zk", silent(60s), 1, 2)}));
  auto d = e.scan(0s, {kSilent});
  ASSERT_TRUE(d[0].probe.due);
  e.record(1, ProbeResult::kNoAnswer, 0s);
  d = e.scan(2s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 2, .sent = 0, .failures = 1, .due = false, .since_last_ms = 2000}));
  EXPECT_EQ(e.due(), 5s) << "the first retry one interval later";

  // Each failure in a row doubles the wait, up to 8 intervals; gone while
  // the scans still see the socket is a failure like the others.
  const ProbeResult failures[] = {ProbeResult::kFailed, ProbeResult::kNotEstablished, ProbeResult::kNoAnswer,
                                  ProbeResult::kGone};
  Duration at = 5s;
  for (int i = 1; i <= 30; ++i) {
    d = e.scan(at - 100ms, {kSilent});  // beyond the 50 ms of slack
    ASSERT_FALSE(d[0].probe.due) << "attempt " << i;
    d = e.scan(at, {kSilent});
    ASSERT_EQ(d[0].verdict, Verdict::kVerifying) << "attempt " << i;
    ASSERT_TRUE(d[0].probe.due) << "attempt " << i;
    ASSERT_EQ(d[0].probe.failures, i);
    e.record(1, failures[i % 4], at);
    const Duration wait = 5s * (1 << std::min(i, 3));  // 10 s, 20 s, then 40 s
    ASSERT_EQ(e.due(), at + wait) << "after " << i + 1 << " failures in a row";
    at += wait;
  }
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.failed = 31}));

  // A probe goes out at last: the backoff is over, the count goes on.
  d = e.scan(at, {kSilent});
  ASSERT_TRUE(d[0].probe.due);
  e.record(1, ProbeResult::kSent, at);
  EXPECT_EQ(e.due(), at + 5s);
  d = e.scan(at + 1s, {kSilent});
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 2, .sent = 1, .failures = 0, .due = false, .since_last_ms = 1000}));
  // A failure after a probe sent does not count towards dead either.
  d = e.scan(at + 5s, {kSilent});
  e.record(1, ProbeResult::kFailed, at + 5s);
  EXPECT_EQ(e.due(), at + 10s);
  d = e.scan(at + 10s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 2, .sent = 1, .failures = 1, .due = true, .since_last_ms = 5000}));
}

TEST(DecisionEngineVerify, GoneAndThenNotScannedCountsNothing) {
  Engine e(config_of({verifying("zk", silent(60s))}));
  e.scan(0s, {kSilent});
  e.record(1, ProbeResult::kGone, 0s);
  EXPECT_EQ(e.engine().probe_counters(), Counters{});
  EXPECT_EQ(e.due(), 5s) << "until a scan drops it, it waits as after any failed attempt";
  e.scan(1s, {});
  EXPECT_EQ(e.due(), std::nullopt);
  EXPECT_EQ(e.engine().probe_counters(), Counters{}) << "really gone: no probe failed";
}

// The spin of issue 12: `gone` for a socket the next scans still see (an
// RST answered the challenge SYN, yet the socket lives) left its probe due
// at once, forever.
TEST(DecisionEngineVerify, GoneWhileTheScansStillSeeItBacksOff) {
  Engine e(config_of({verifying("zk", silent(60s))}));
  e.scan(0s, {kSilent});
  e.record(1, ProbeResult::kGone, 100ms);
  EXPECT_EQ(e.due(), 5100ms) << "not at once";
  auto d = e.scan(1s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 3, .sent = 0, .failures = 1, .due = false, .since_last_ms = 900}));
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.failed = 1})) << "still there: the attempt failed";
  d = e.scan(5100ms, {kSilent});
  ASSERT_TRUE(d[0].probe.due);
  e.record(1, ProbeResult::kGone, 5100ms);
  EXPECT_EQ(e.due(), 15100ms) << "the second failure in a row waits two intervals";
  d = e.scan(6s, {kSilent});
  EXPECT_EQ(d[0].probe.failures, 2u);
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.failed = 2}));
}

TEST(DecisionEngineVerify, UnackedAndStateTimeoutAreDeadWithoutProbes) {
  DeadWhen dw;
  dw.silent_for = 120s;
  dw.unacked_for = 30s;
  dw.in_state_for = {{static_cast<uint8_t>(TcpState::kCloseWait), 5min}};
  Engine e(config_of({verifying("zk", dw)}));
  auto d = e.scan(0s, {{.cookie = 1,
                        .last_ack_recv = 60'000,
                        .unacked = 3,
                        .retransmits = 8,
                        .backoff = 8,
                        .rto_us = 204'000u << 8},
                       {.cookie = 2,
                        .state = TcpState::kCloseWait,
                        .last_data_recv = 10'000,
                        .last_ack_recv = 10'000}});
  EXPECT_EQ(d[0].verdict, Verdict::kDead);
  EXPECT_EQ(d[0].reason, DeadReason::kUnacked);
  EXPECT_EQ(d[0].probe, ProbeState{});
  EXPECT_EQ(d[1].verdict, Verdict::kAlive);
  d = e.scan(5min, {{.cookie = 2, .state = TcpState::kCloseWait, .last_data_recv = 10'000, .last_ack_recv = 10'000}});
  EXPECT_EQ(d[0].verdict, Verdict::kDead);
  EXPECT_EQ(d[0].reason, DeadReason::kStateTimeout);
  EXPECT_EQ(d[0].probe, ProbeState{});
  EXPECT_EQ(e.due(), std::nullopt);
  e.record(2, ProbeResult::kSent, 5min);
  EXPECT_EQ(e.engine().probe_counters(), Counters{}) << "not verifying: ignored";
}

TEST(DecisionEngineVerify, PerPeerLimitIsVerified) {
  Policy p = verifying("zk", silent(1h));
  p.per_peer_limit = PerPeerLimit{1, 60s};
  Engine e(config_of({p}));
  auto d = e.scan(0s, {{.cookie = 1, .last_data_recv = 70'000, .last_ack_recv = 70'000},
                       {.cookie = 2, .last_data_recv = 90'000, .last_ack_recv = 90'000}});
  EXPECT_EQ(d[0].verdict, Verdict::kAlive);
  EXPECT_EQ(d[1].verdict, Verdict::kVerifying);
  EXPECT_EQ(d[1].reason, DeadReason::kPerPeerLimit);
  EXPECT_TRUE(d[1].probe.due);
  e.record(2, ProbeResult::kSent, 0s);
  // It answered: alive. Now the other one is the peer's longest silent.
  d = e.scan(1s, {{.cookie = 1, .last_data_recv = 71'000, .last_ack_recv = 71'000},
                  {.cookie = 2, .last_data_recv = 91'000, .last_ack_recv = 500}});
  EXPECT_EQ(d[1].verdict, Verdict::kAlive);
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_EQ(d[0].reason, DeadReason::kPerPeerLimit);
  EXPECT_EQ(d[0].probe.sent, 0u);
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 1, .answered = 1}));
}

TEST(DecisionEngineVerify, ConfirmComesFirst) {
  Engine e(config_of({verifying("zk", silent(60s), 2)}));
  auto d = e.scan(0s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kSuspect);
  EXPECT_EQ(d[0].probe, ProbeState{});
  EXPECT_EQ(e.due(), std::nullopt);
  e.record(1, ProbeResult::kSent, 0s);
  EXPECT_EQ(e.engine().probe_counters(), Counters{}) << "a suspect is not probed";
  d = e.scan(10s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_EQ(d[0].dead_scans, 2u);
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 3, .sent = 0, .failures = 0, .due = true, .since_last_ms = 0}));
  // The confirm override of the one-shot CLI applies the same way.
  Engine once(config_of({verifying("zk", silent(60s), 3)}));
  once.engine().override_confirm(1);
  EXPECT_EQ(once.scan(0s, {kSilent})[0].verdict, Verdict::kVerifying);
}

TEST(DecisionEngineVerify, NextVerifyDueIsTheEarliest) {
  Policy slow = verifying("slow", silent(60s), 1, 3, 30s);
  slow.match.remote = {*Cidr::parse("10.9.0.0/16")};
  Engine e(config_of({slow, verifying("zk", silent(60s))}));
  const Sock a{.cookie = 1, .last_data_recv = 200'000, .last_ack_recv = 200'000};
  const Sock b{.cookie = 2, .remote = "10.0.0.3", .last_data_recv = 200'000, .last_ack_recv = 200'000};
  const Sock c{.cookie = 3, .remote = "10.9.0.1", .last_data_recv = 200'000, .last_ack_recv = 200'000};
  EXPECT_EQ(e.due(), std::nullopt) << "before any scan";
  e.scan(10s, {a, b, c, {.cookie = 4}});
  EXPECT_EQ(e.due(), 10s);
  e.record(1, ProbeResult::kSent, 10500ms);
  EXPECT_EQ(e.due(), 10s) << "b and c are still due";
  e.record(2, ProbeResult::kFailed, 10200ms);
  e.record(3, ProbeResult::kSent, 10100ms);
  EXPECT_EQ(e.due(), 15200ms) << "b's retry; c waits 30 s";
  e.record(99, ProbeResult::kSent, 10100ms);  // unknown: ignored
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 2, .failed = 1}));
  e.scan(11s, {{.cookie = 1, .last_data_recv = 200'000, .last_ack_recv = 100}, b, c});
  EXPECT_EQ(e.due(), 15200ms);
  e.scan(12s, {c});
  EXPECT_EQ(e.due(), 40100ms);
  e.scan(13s, {});
  EXPECT_EQ(e.due(), std::nullopt);
}

TEST(DecisionEngineVerify, WithoutVerifySilenceIsDeadAsBefore) {
  Engine e(config_of({policy("zk", silent(60s))}));
  auto d = e.scan(0s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kDead);
  EXPECT_EQ(d[0].probe, ProbeState{});
  EXPECT_EQ(e.due(), std::nullopt);
  e.record(1, ProbeResult::kSent, 0s);
  EXPECT_EQ(e.engine().probe_counters(), Counters{});
}

TEST(DecisionEngineVerify, CapsCountOnlyTheDead) {
  Policy v = verifying("v", silent(60s));
  v.match.remote = {*Cidr::parse("10.0.0.0/24")};
  Config c = config_of({v, policy("b", silent(60s))});
  c.max_per_scan = 1;
  Engine e(c);
  auto d = e.scan(0s, {
                          {.cookie = 1, .remote = "10.0.0.2", .last_data_recv = 300'000, .last_ack_recv = 300'000},
                          {.cookie = 2, .remote = "10.9.0.1", .last_data_recv = 200'000, .last_ack_recv = 200'000},
                          {.cookie = 3, .remote = "10.9.0.2", .last_data_recv = 100'000, .last_ack_recv = 100'000},
                      });
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_FALSE(d[0].held_back) << "the longest silent, but not dead";
  EXPECT_EQ(d[1].verdict, Verdict::kDead);
  EXPECT_FALSE(d[1].held_back);
  EXPECT_EQ(d[2].verdict, Verdict::kDead);
  EXPECT_TRUE(d[2].held_back);
}

TEST(DecisionEngineVerify, ReloadKeepsProbeCountsUnderTheNewVerify) {
  Engine e(config_of({verifying("zk", silent(60s), 1, 3, 5s)}));
  e.scan(0s, {kSilent});
  e.record(1, ProbeResult::kSent, 0s);
  e.engine().reload(config_of({verifying("zk", silent(60s), 1, 1, 10s)}));
  EXPECT_EQ(e.due(), 10s) << "the new interval";
  auto d = e.scan(6s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kVerifying);
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 1, .sent = 1, .failures = 0, .due = false, .since_last_ms = 6000}));
  d = e.scan(10s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kDead);
  EXPECT_EQ(e.engine().probe_counters(), (Counters{.sent = 1, .unanswered = 1}));

  // Verification dropped by a reload: silence is dead at once.
  Engine f(config_of({verifying("zk", silent(60s))}));
  f.scan(0s, {kSilent});
  f.engine().reload(config_of({policy("zk", silent(60s))}));
  EXPECT_EQ(f.due(), std::nullopt);
  d = f.scan(1s, {kSilent});
  EXPECT_EQ(d[0].verdict, Verdict::kDead);
  EXPECT_EQ(d[0].probe, ProbeState{});
}

TEST(DecisionEngineVerify, AnotherPolicyStartsOver) {
  Engine e(config_of({verifying("zk", silent(60s))}));
  e.scan(0s, {kSilent});
  e.record(1, ProbeResult::kSent, 0s);
  Policy other = verifying("other", silent(60s));
  e.engine().reload(config_of({other}));
  auto d = e.scan(1s, {kSilent});
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 3, .sent = 0, .failures = 0, .due = true, .since_last_ms = 0}));
}


// ---- the blast radius: probes per turn, reaps per minute ----

Sock silent_since(uint64_t cookie, const char* remote, uint32_t ms) {
  return Sock{.cookie = cookie, .remote = remote, .last_data_recv = ms, .last_ack_recv = ms};
}

TEST(DecisionEngineVerify, ProbesPerTurnAreCappedLongestSilentFirst) {
  Policy a = verifying("a", silent(60s));
  a.verify->max_per_scan = 2;
  a.match.remote = {*Cidr::parse("10.0.0.0/24")};
  Policy b = verifying("b", silent(60s));
  b.verify->max_per_scan = 1;
  Engine e(config_of({a, b}));
  auto socks = [](uint32_t later_ms) {
    return std::vector<Sock>{
        silent_since(1, "10.0.0.2", 100'000 + later_ms), silent_since(2, "10.0.0.3", 400'000 + later_ms),
        silent_since(3, "10.0.0.4", 300'000 + later_ms), silent_since(4, "10.0.0.5", 200'000 + later_ms),
        silent_since(5, "10.9.0.1", 100'000 + later_ms), silent_since(6, "10.9.0.2", 200'000 + later_ms)};
  };
  auto d = e.scan(0s, socks(0));
  for (const auto& x : d) EXPECT_EQ(x.verdict, Verdict::kVerifying);
  // a: its two longest silent are probed; the others wait.
  EXPECT_TRUE(d[1].probe.due);
  EXPECT_TRUE(d[2].probe.due);
  EXPECT_FALSE(d[1].probe.deferred);
  for (size_t i : {0, 3}) {
    EXPECT_FALSE(d[i].probe.due) << i;
    EXPECT_TRUE(d[i].probe.deferred) << i;
  }
  // b: its own cap of one.
  EXPECT_TRUE(d[5].probe.due);
  EXPECT_FALSE(d[4].probe.due);
  EXPECT_TRUE(d[4].probe.deferred);
  for (uint64_t cookie : {2, 3, 6}) e.record(cookie, ProbeResult::kSent, 100ms);
  EXPECT_EQ(e.due(), 0s) << "the deferred are due again on the next turn";

  // The next turn: the deferred go; the probed wait for their interval.
  d = e.scan(1s, socks(1'000));
  for (size_t i : {0, 3, 4}) {
    EXPECT_TRUE(d[i].probe.due) << i;
    EXPECT_FALSE(d[i].probe.deferred) << i;
  }
  for (size_t i : {1, 2, 5}) {
    EXPECT_FALSE(d[i].probe.due) << i;
    EXPECT_FALSE(d[i].probe.deferred) << i;
  }
}

TEST(DecisionEngineVerify, ProbesPerTurnDefaultToAThousand) {
  Engine e(config_of({verifying("zk", silent(60s))}));
  std::vector<Sock> socks;
  for (uint32_t i = 0; i < 1'001; ++i) socks.push_back(silent_since(i + 1, "10.0.0.2", 100'000 + i));
  const auto d = e.scan(0s, socks);
  EXPECT_EQ(std::count_if(d.begin(), d.end(), [](const Decision& x) { return x.probe.due; }), 1'000);
  EXPECT_TRUE(d[0].probe.deferred) << "the least silent waits";
}

TEST(DecisionEngine, ReapsPerMinuteHoldBackWhatTheLastMinuteHasNoRoomFor) {
  Config c = config_of({policy("zk", silent(60s))});
  c.max_per_minute = 3;
  Engine e(c);
  auto d = e.scan(0s, {silent_since(1, "10.0.0.2", 100'000), silent_since(2, "10.0.0.3", 200'000)});
  EXPECT_FALSE(d[0].held_back);
  EXPECT_FALSE(d[1].held_back);
  // Both reaped. Two more: room for one, the longest silent.
  d = e.scan(20s, {silent_since(3, "10.0.0.4", 100'000), silent_since(4, "10.0.0.5", 200'000)});
  EXPECT_EQ(d[0].verdict, Verdict::kDead);
  EXPECT_TRUE(d[0].held_back);
  EXPECT_FALSE(d[1].held_back);
  // Until the first two are a minute old.
  d = e.scan(59'900ms, {silent_since(3, "10.0.0.4", 139'900)});
  EXPECT_TRUE(d[0].held_back);
  d = e.scan(60s, {silent_since(3, "10.0.0.4", 140'000)});
  EXPECT_FALSE(d[0].held_back);
  // What max_per_scan holds back was never let through: it takes no room.
  Config per_scan = config_of({policy("zk", silent(60s))});
  per_scan.max_per_scan = 1;
  per_scan.max_per_minute = 2;
  Engine f(per_scan);
  d = f.scan(0s, {silent_since(1, "10.0.0.2", 100'000), silent_since(2, "10.0.0.3", 200'000),
                  silent_since(3, "10.0.0.4", 300'000)});
  EXPECT_EQ(std::count_if(d.begin(), d.end(), [](const Decision& x) { return x.held_back; }), 2);
  d = f.scan(1s, {silent_since(1, "10.0.0.2", 101'000), silent_since(2, "10.0.0.3", 201'000)});
  EXPECT_FALSE(d[1].held_back) << "the second of the minute";
  EXPECT_TRUE(d[0].held_back);
  d = f.scan(2s, {silent_since(1, "10.0.0.2", 102'000)});
  EXPECT_TRUE(d[0].held_back) << "the minute is full";
}

// A dry run finds its dead again every scan, and so does a real run whose
// reap failed: each connection counts once against the minute, as a real
// run that reaped it would have counted it.
TEST(DecisionEngine, ReapsPerMinuteCountEachDeadConnectionOnce) {
  Config c = config_of({policy("zk", silent(60s))});
  c.max_per_minute = 2;
  Engine e(c);
  const Sock one = silent_since(1, "10.0.0.2", 100'000), two = silent_since(2, "10.0.0.3", 200'000),
             three = silent_since(3, "10.0.0.4", 300'000);
  auto d = e.scan(0s, {one, two});
  EXPECT_FALSE(d[0].held_back);
  EXPECT_FALSE(d[1].held_back);
  d = e.scan(10s, {one, two, three});
  EXPECT_FALSE(d[0].held_back) << "counted already";
  EXPECT_FALSE(d[1].held_back) << "counted already";
  EXPECT_TRUE(d[2].held_back) << "the minute is full, though the longest silent";
  d = e.scan(60s, {one, two, three});
  EXPECT_FALSE(d[2].held_back);
  // Alive again, then dead again: counted anew. The minute holds three
  // (at 60 s): room for one more, the longest silent.
  e.scan(61s, {{.cookie = 1, .last_data_recv = 5, .last_ack_recv = 5}, two, three});
  d = e.scan(62s, {one, two, three, silent_since(4, "10.0.0.5", 400'000)});
  EXPECT_TRUE(d[0].held_back) << "dead again: it needs room again";
  EXPECT_FALSE(d[1].held_back);
  EXPECT_FALSE(d[2].held_back);
  EXPECT_FALSE(d[3].held_back);
}

// ---- a dump is not a snapshot ----

// A socket can move between hash chains while the kernel walks them and be
// listed twice: it must count once, for limits and confirm alike.
TEST(DecisionEngine, ASocketListedTwiceInOneScanCountsOnce) {
  Policy p = policy("zk", silent(1h), 2);
  p.per_peer_limit = PerPeerLimit{1, 60s};
  Config c = config_of({p});
  c.max_per_scan = 1;
  DecisionEngine engine(c);
  const Clock::time_point t0 = Clock::time_point() + 1h;
  const TcpSocket s = Sock{.last_data_recv = 90'000, .last_ack_recv = 90'000}.make();
  TcpSocket again = s;
  again.info->last_data_recv_ms = again.info->last_ack_recv_ms = 90'005;  // listed a moment later
  const TcpSocket outside = Sock{.cookie = 7, .local_port = 22}.make();

  engine.begin_scan(t0);
  EXPECT_EQ(engine.observe(s), std::nullopt);
  EXPECT_TRUE(engine.observe(outside).has_value());
  EXPECT_EQ(engine.observe(again), std::nullopt);
  EXPECT_EQ(engine.observe(outside), std::nullopt) << "a copy is ignored, not decided again";
  const auto& kept = engine.finish_scan();
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].decision.figures.peer_connections, 1u);
  EXPECT_EQ(kept[0].decision.figures.last_recv_ms, 90'000u) << "the first listing counts";
  EXPECT_EQ(kept[0].decision.verdict, Verdict::kAlive) << "one connection, within the peer's limit";

  // Over the limit with another connection: suspect on one scan, not dead
  // because it was listed twice.
  const TcpSocket other = Sock{.cookie = 2, .last_data_recv = 80'000, .last_ack_recv = 80'000}.make();
  engine.begin_scan(t0 + 10s);
  for (const TcpSocket& x : {s, other, again, s}) EXPECT_EQ(engine.observe(x), std::nullopt);
  const auto& next = engine.finish_scan();
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].decision.verdict, Verdict::kSuspect);
  EXPECT_EQ(next[0].decision.dead_scans, 1u);
  EXPECT_EQ(next[0].decision.figures.peer_connections, 2u);

  // A new scan: the cookie is new to it.
  engine.begin_scan(t0 + 20s);
  EXPECT_TRUE(engine.observe(outside).has_value());
  EXPECT_EQ(engine.observe(s), std::nullopt);
  EXPECT_EQ(engine.finish_scan().size(), 1u);
}

// Telling the copies apart takes no allocation per socket: once a scan of
// as many sockets has been made, observing allocates nothing.
TEST(DecisionEngine, ObservingAllocatesNothingOnceWarm) {
  Engine e(config_of({policy("zk", silent(60s))}));
  std::vector<TcpSocket> socks;
  size_t in_scope = 0;
  for (uint64_t i = 0; i < 20'000; ++i) {
    Sock s = silent_since(0x10000 + i * 0x10001, i % 2 ? "10.0.0.2" : "10.0.0.3", 1'000);
    s.local_port = i % 3 ? 2181 : 22;  // in scope and out of it
    in_scope += s.local_port == 2181;
    socks.push_back(s.make());
  }
  DecisionEngine& engine = e.engine();
  uint64_t allocations = 0;
  for (int round = 0; round < 2; ++round) {
    engine.begin_scan(Clock::time_point() + 1h + round * 10s);
    const uint64_t before = test::allocations();
    for (const TcpSocket& s : socks) (void)engine.observe(s);
    for (size_t i = 0; i < socks.size(); i += 7) (void)engine.observe(socks[i]);  // copies
    allocations = test::allocations() - before;
    engine.finish_scan();
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(engine.remembered(), in_scope);
}

}  // namespace
}  // namespace tcpreap
