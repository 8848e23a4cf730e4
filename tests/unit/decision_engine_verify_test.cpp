// Liveness verification in the decision engine (policy `verify`): silence
// found on `confirm` scans is verified by probing the peer before it is
// dead; probes answered, unanswered, reset, failed and backed off; the
// probes per turn. The rest of the engine: decision_engine_test.

#include "decide/decision_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "unit/decision_fixture.h"

namespace tcpreap {
namespace {

using namespace std::chrono_literals;
using testing::config_of;
using testing::Engine;
using testing::kSilent;
using testing::policy;
using testing::silent;
using testing::silent_since;
using testing::Sock;

Policy verifying(std::string name, DeadWhen dw, uint32_t confirm = 1, uint32_t probes = 3, Duration interval = 5s) {
  Policy p = policy(std::move(name), std::move(dw), confirm);
  p.verify = Verify{probes, interval};
  return p;
}

// kSilent after its peer's ACK to a probe: data long ago, an ACK just now.
const Sock kAnswered{.last_data_recv = 200'000, .last_ack_recv = 300};

using Counters = ProbeCounters;

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
  once.override_confirm(1);
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
  e.reload(config_of({verifying("zk", silent(60s), 1, 1, 10s)}));
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
  f.reload(config_of({policy("zk", silent(60s))}));
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
  e.reload(config_of({other}));
  auto d = e.scan(1s, {kSilent});
  EXPECT_EQ(d[0].probe, (ProbeState{.wanted = 3, .sent = 0, .failures = 0, .due = true, .since_last_ms = 0}));
}

// ---- the blast radius: probes per turn ----

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

}  // namespace
}  // namespace tcpreap
