#include "report/decision_report.h"

#include <gtest/gtest.h>

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
            "\"in_state_ms\":700000,\"peer_connections\":0");
  std::string none;
  append_decision_json(Decision{}, one_policy(), none);
  EXPECT_EQ(none.rfind(",\"policy\":null,\"verdict\":\"out-of-scope\",\"reason\":null,\"threshold_ms\":null", 0), 0u);
}

}  // namespace
}  // namespace tcpreap
