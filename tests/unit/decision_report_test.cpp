#include "report/decision_report.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

// Heap allocations, counted with a global operator new in this test binary
// only: a warm report appends without any.
#include "unit/allocation_counter.h"

using tcpreap::test::g_allocations;

namespace tcpreap {
namespace {

using namespace std::chrono_literals;

Config one_policy() {
  Config c;
  Policy p;
  p.name = "zookeeper-clients";
  c.policies = {p};
  return c;
}

std::string columns(const Decision& d) {
  std::string out = "ROW\n";
  append_decision_columns(d, one_policy(), out);
  return out;
}

TEST(DecisionReport, DeadSaysWhyWithTheFigureAndTheLimit) {
  Decision d;
  d.verdict = Verdict::kDead;
  d.policy = 0;
  d.reason = DeadReason::kSilent;
  d.threshold = 2min;
  d.figures.last_recv_ms = 252'000;
  d.dead_scans = 2;
  d.confirm = 2;
  EXPECT_EQ(columns(d), "ROW zookeeper-clients  dead         silent 4m12s >= 2m\n");
  d.held_back = true;
  EXPECT_EQ(columns(d), "ROW zookeeper-clients  dead         silent 4m12s >= 2m (held back: max_per_scan)\n");
}

TEST(DecisionReport, SuspectCountsScansAndOtherReasonsShowTheirFigure) {
  Decision d;
  d.verdict = Verdict::kSuspect;
  d.policy = 0;
  d.reason = DeadReason::kUnacked;
  d.threshold = 30s;
  d.figures.unacked_for_ms = 31'500;
  d.dead_scans = 1;
  d.confirm = 3;
  EXPECT_EQ(columns(d), "ROW zookeeper-clients  suspect 1/3  unacked 31.5s >= 30s\n");
  d.reason = DeadReason::kPerPeerLimit;
  d.threshold = 60s;
  d.figures.last_recv_ms = 61'000;
  d.figures.peer_connections = 57;
  EXPECT_EQ(columns(d), "ROW zookeeper-clients  suspect 1/3  per-peer-limit 1m01s >= 1m, 57 from this peer\n");
}

TEST(DecisionReport, AliveAndOutOfScopeSayNoMore) {
  Decision alive;
  alive.verdict = Verdict::kAlive;
  alive.policy = 0;
  EXPECT_EQ(columns(alive), "ROW zookeeper-clients  alive\n");
  EXPECT_EQ(columns(Decision{}), "ROW -                  out-of-scope\n");
}

TEST(DecisionReport, JsonFields) {
  Decision d;
  d.verdict = Verdict::kDead;
  d.policy = 0;
  d.reason = DeadReason::kStateTimeout;
  d.threshold = 10min;
  d.figures.in_state_ms = 700'000;
  d.dead_scans = 1;
  std::string out;
  append_decision_json(d, one_policy(), out);
  EXPECT_EQ(out,
            ",\"policy\":\"zookeeper-clients\",\"verdict\":\"dead\",\"reason\":\"state-timeout\","
            "\"threshold_ms\":600000,\"dead_scans\":1,\"confirm\":1,\"held_back\":false,\"unacked_for_ms\":0,"
            "\"in_state_ms\":700000,\"peer_connections\":0,\"probes_sent\":0,\"probes_wanted\":0,"
            "\"probe_due\":false,\"probe_failures\":0");
  std::string none;
  append_decision_json(Decision{}, one_policy(), none);
  EXPECT_EQ(none.rfind(",\"policy\":null,\"verdict\":\"out-of-scope\",\"reason\":null,\"threshold_ms\":null", 0), 0u);
}

// A socket its policy verifies: silent 4m12s >= 2m.
Decision verifying(ProbeState probe) {
  Decision d;
  d.verdict = Verdict::kVerifying;
  d.policy = 0;
  d.reason = DeadReason::kSilent;
  d.threshold = 2min;
  d.figures.last_recv_ms = 252'000;
  d.dead_scans = 1;
  d.probe = probe;
  return d;
}

TEST(DecisionReport, VerifyingCountsProbesAndSaysWhereItStands) {
  EXPECT_EQ(columns(verifying({.wanted = 3, .due = true})),
            "ROW zookeeper-clients  verifying 0/3 silent 4m12s >= 2m, probe due\n");
  EXPECT_EQ(columns(verifying({.wanted = 3, .sent = 1, .since_last_ms = 2'100})),
            "ROW zookeeper-clients  verifying 1/3 silent 4m12s >= 2m, probe 1/3 sent 2.1s ago\n");
  EXPECT_EQ(columns(verifying({.wanted = 3, .sent = 2, .due = true, .since_last_ms = 5'000})),
            "ROW zookeeper-clients  verifying 2/3 silent 4m12s >= 2m, probe due\n");
  EXPECT_EQ(columns(verifying({.wanted = 3, .sent = 3, .since_last_ms = 850})),
            "ROW zookeeper-clients  verifying 3/3 silent 4m12s >= 2m, probe 3/3 sent 850ms ago\n");
  EXPECT_EQ(columns(verifying({.wanted = 3, .failures = 2, .since_last_ms = 1'000})),
            "ROW zookeeper-clients  verifying 0/3 silent 4m12s >= 2m, 2 probe attempts failed\n");
  EXPECT_EQ(columns(verifying({.wanted = 3, .sent = 1, .failures = 1, .due = true, .since_last_ms = 5'000})),
            "ROW zookeeper-clients  verifying 1/3 silent 4m12s >= 2m, probe due, 1 probe attempt failed\n");
  Decision per_peer = verifying({.wanted = 10, .sent = 10, .since_last_ms = 1'000});
  per_peer.reason = DeadReason::kPerPeerLimit;
  per_peer.threshold = 60s;
  per_peer.figures.peer_connections = 57;
  EXPECT_EQ(columns(per_peer),
            "ROW zookeeper-clients  verifying 10/10 per-peer-limit 4m12s >= 1m, 57 from this peer, "
            "probe 10/10 sent 1.0s ago\n");
}

TEST(DecisionReport, DeadAfterVerificationSaysTheProbesWentUnanswered) {
  Decision d = verifying({.wanted = 3, .sent = 3, .since_last_ms = 5'000});
  d.verdict = Verdict::kDead;
  EXPECT_EQ(columns(d), "ROW zookeeper-clients  dead         silent 4m12s >= 2m, 3 probes unanswered\n");
  d.held_back = true;
  EXPECT_EQ(columns(d),
            "ROW zookeeper-clients  dead         silent 4m12s >= 2m, 3 probes unanswered (held back: max_per_scan)\n");
  d = verifying({.wanted = 1, .sent = 1, .since_last_ms = 5'000});
  d.verdict = Verdict::kDead;
  EXPECT_EQ(columns(d), "ROW zookeeper-clients  dead         silent 4m12s >= 2m, 1 probe unanswered\n");
}

TEST(DecisionReport, JsonProbeFields) {
  std::string out;
  append_decision_json(verifying({.wanted = 3, .sent = 1, .failures = 2, .due = true, .since_last_ms = 5'000}),
                       one_policy(), out);
  EXPECT_EQ(out,
            ",\"policy\":\"zookeeper-clients\",\"verdict\":\"verifying\",\"reason\":\"silent\","
            "\"threshold_ms\":120000,\"dead_scans\":1,\"confirm\":1,\"held_back\":false,\"unacked_for_ms\":0,"
            "\"in_state_ms\":0,\"peer_connections\":0,\"probes_sent\":1,\"probes_wanted\":3,\"probe_due\":true,"
            "\"probe_failures\":2");
  Decision dead = verifying({.wanted = 3, .sent = 3, .since_last_ms = 5'000});
  dead.verdict = Verdict::kDead;
  out.clear();
  append_decision_json(dead, one_policy(), out);
  EXPECT_EQ(out,
            ",\"policy\":\"zookeeper-clients\",\"verdict\":\"dead\",\"reason\":\"silent\","
            "\"threshold_ms\":120000,\"dead_scans\":1,\"confirm\":1,\"held_back\":false,\"unacked_for_ms\":0,"
            "\"in_state_ms\":0,\"peer_connections\":0,\"probes_sent\":3,\"probes_wanted\":3,\"probe_due\":false,"
            "\"probe_failures\":0");
}

TEST(DecisionReport, NoAllocationOnceWarm) {
  const Config c = one_policy();
  Decision dead = verifying({.wanted = 3, .sent = 3, .since_last_ms = 5'000});
  dead.verdict = Verdict::kDead;
  const Decision decisions[] = {
      verifying({.wanted = 3, .sent = 1, .failures = 2, .due = true, .since_last_ms = 5'000}),
      verifying({.wanted = 3, .sent = 1, .since_last_ms = 2'100}),
      dead,
  };
  std::string out;
  const uint64_t cold = g_allocations;
  append_decision_json(dead, c, out);
  ASSERT_GT(g_allocations - cold, 0u) << "the counter counts: a cold string grows";
  out.reserve(4096);
  const uint64_t before = g_allocations;
  for (const Decision& d : decisions) {
    out.clear();
    append_decision_json(d, c, out);
    out.clear();
    out += "ROW\n";
    append_decision_columns(d, c, out);
  }
  EXPECT_EQ(g_allocations - before, 0u);
}

}  // namespace
}  // namespace tcpreap
