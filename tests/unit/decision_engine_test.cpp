// The decision engine over whole scans: which policy decides, protection,
// confirm, history across scans and reloads, per-peer limits, the caps, and
// a dump that lists a socket twice. Liveness verification (policy `verify`):
// decision_engine_verify_test. The per-socket rules: dead_rules_test.

#include "decide/decision_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "unit/allocation_counter.h"
#include "unit/decision_fixture.h"

namespace tcpreap {
namespace {

using namespace std::chrono_literals;
using Clock = DecisionEngine::Clock;
using testing::config_of;
using testing::Engine;
using testing::kSilent;
using testing::policy;
using testing::silent;
using testing::silent_since;
using testing::Sock;

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
  e.override_confirm(1);
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
  e.reload(config_of({renamed, policy("zk", silent(60s), 3)}));
  auto d = e.scan(10s, {kSilent, {.cookie = 2, .remote_port = 1, .last_data_recv = 210'000, .last_ack_recv = 210'000}});
  EXPECT_EQ(d[0].dead_scans, 2u) << "still decided by 'zk'";
  EXPECT_EQ(d[1].dead_scans, 1u) << "now decided by 'other': starts over";
}

// ---- the blast radius: reaps per minute ----

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
// as many sockets has been made, observing allocates nothing. The first,
// cold scan is the canary: its growth must be counted, or a zero proves
// nothing.
// The daemon's retention: the alive are not kept, unless a per-peer limit
// needs them to rank a peer's connections; the rest are, in order. (Every
// case that drives Engine also compares the two retentions' decisions.)
TEST(DecisionEngine, RetainActionableKeepsOnlyWhatMayBeActedOnOrRanked) {
  Policy limited = policy("limited", silent(60s));
  limited.match.local_ports = {{2888, 2888}};
  limited.per_peer_limit = PerPeerLimit{5, 60s};
  const Config c = config_of({policy("zk", silent(60s), 2), limited});
  const std::vector<Sock> socks = {{.cookie = 1},                                                // zk, alive
                                   {.cookie = 2, .last_data_recv = 200'000, .last_ack_recv = 200'000},  // zk, suspect
                                   {.cookie = 3, .local_port = 2888},                           // limited, alive
                                   {.cookie = 4, .local_port = 22}};                            // out of scope
  for (auto retain : {DecisionEngine::Retain::kAll, DecisionEngine::Retain::kActionable}) {
    DecisionEngine engine(c);
    engine.set_retain(retain);
    engine.begin_scan(Clock::time_point() + 1h);
    for (const Sock& s : socks) (void)engine.observe(s.make());
    const auto& kept = engine.finish_scan();
    std::vector<uint64_t> cookies;
    for (const auto& e : kept) cookies.push_back(e.socket.cookie);
    const std::vector<uint64_t> expected =
        retain == DecisionEngine::Retain::kAll ? std::vector<uint64_t>{1, 2, 3} : std::vector<uint64_t>{2, 3};
    EXPECT_EQ(cookies, expected);
    EXPECT_EQ(engine.remembered(), 3u) << "the alive are remembered all the same";
  }
}

TEST(DecisionEngine, ObservingAllocatesNothingOnceWarm) {
  for (auto retain : {DecisionEngine::Retain::kAll, DecisionEngine::Retain::kActionable}) {
  SCOPED_TRACE(retain == DecisionEngine::Retain::kAll ? "all" : "actionable");
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
  engine.set_retain(retain);
  uint64_t allocations[2] = {0, 0};
  for (int round = 0; round < 2; ++round) {
    engine.begin_scan(Clock::time_point() + 1h + round * 10s);
    const uint64_t before = test::allocations();
    for (const TcpSocket& s : socks) (void)engine.observe(s);
    for (size_t i = 0; i < socks.size(); i += 7) (void)engine.observe(socks[i]);  // copies
    allocations[round] = test::allocations() - before;
    engine.finish_scan();
  }
  EXPECT_GT(allocations[0], 0u) << "the cold scan grows the engine's memory, yet nothing was counted";
  EXPECT_EQ(allocations[1], 0u);
  EXPECT_EQ(engine.remembered(), in_scope);
  }
}

}  // namespace
}  // namespace tcpreap
