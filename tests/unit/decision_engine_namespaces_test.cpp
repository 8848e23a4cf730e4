// DecisionEngine over the namespaces of one scan (begin_namespace,
// abandon_namespace): per-peer limits per (namespace, peer), policies that
// apply in some namespaces only, caps over the whole scan, and a namespace
// whose dump is abandoned.

#include <gtest/gtest.h>

#include "decision_fixture.h"

namespace tcpreap::testing {
namespace {

using namespace std::chrono_literals;
using Clock = DecisionEngine::Clock;

const Clock::time_point kT0 = Clock::time_point() + std::chrono::hours(1);

// The entry of `cookie` in the last finish_scan(), or null.
const DecisionEngine::Entry* entry_of(const std::vector<DecisionEngine::Entry>& entries, uint64_t cookie) {
  for (const auto& e : entries)
    if (e.socket.cookie == cookie) return &e;
  return nullptr;
}

TEST(DecisionEngineNamespaces, PerPeerLimitCountsEachNamespacesPeerApart) {
  Policy p = policy("zk", silent(1h));
  p.per_peer_limit = PerPeerLimit{1, 60s};
  DecisionEngine e(config_of({p}));
  e.begin_scan(kT0);
  // The same address holds one connection in each of two namespaces: two
  // peers within their limit, not one peer over it.
  e.begin_namespace(0);
  e.observe(silent_since(1, "10.0.0.2", 90'000).make());
  e.begin_namespace(1);
  e.observe(silent_since(2, "10.0.0.2", 80'000).make());
  const auto& kept = e.finish_scan();
  ASSERT_EQ(kept.size(), 2u);
  for (const auto& en : kept) {
    EXPECT_EQ(en.decision.verdict, Verdict::kAlive) << en.socket.cookie;
    EXPECT_EQ(en.decision.figures.peer_connections, 1u);
  }
  EXPECT_EQ(entry_of(kept, 1)->netns, 0u);
  EXPECT_EQ(entry_of(kept, 2)->netns, 1u);

  // Both in namespace 1: one peer over its limit.
  e.begin_scan(kT0 + 1s);
  e.begin_namespace(1);
  e.observe(silent_since(1, "10.0.0.2", 90'000).make());
  e.observe(silent_since(2, "10.0.0.2", 80'000).make());
  const auto& again = e.finish_scan();
  EXPECT_EQ(entry_of(again, 1)->decision.verdict, Verdict::kDead);
  EXPECT_EQ(entry_of(again, 1)->decision.reason, DeadReason::kPerPeerLimit);
  EXPECT_EQ(entry_of(again, 2)->decision.verdict, Verdict::kAlive);
}

TEST(DecisionEngineNamespaces, APolicyFlaggedOffDecidesNothingThere) {
  // "pods" applies in namespace 1 only; "all" everywhere after it.
  Policy pods = policy("pods", silent(60s));
  Policy all = policy("all", silent(1h));
  DecisionEngine e(config_of({pods, all}));
  const std::vector<uint8_t> host_flags{0, 1}, pod_flags{1, 1};
  e.begin_scan(kT0);
  e.begin_namespace(0, host_flags);
  e.observe(silent_since(1, "10.0.0.2", 90'000).make());
  e.begin_namespace(1, pod_flags);
  e.observe(silent_since(2, "10.0.0.2", 90'000).make());
  const auto& kept = e.finish_scan();
  const auto* host = entry_of(kept, 1);
  const auto* pod = entry_of(kept, 2);
  ASSERT_TRUE(host && pod);
  EXPECT_EQ(host->decision.policy, 1) << "decided by the next policy that applies";
  EXPECT_EQ(host->decision.verdict, Verdict::kAlive);
  EXPECT_EQ(pod->decision.policy, 0);
  EXPECT_EQ(pod->decision.verdict, Verdict::kDead);
}

TEST(DecisionEngineNamespaces, NoPolicyFlaggedLeavesEverySocketOutOfScope) {
  DecisionEngine e(config_of({policy("zk", silent(60s))}));
  const std::vector<uint8_t> none{0};
  e.begin_scan(kT0);
  e.begin_namespace(0, none);
  auto d = e.observe(silent_since(1, "10.0.0.2", 90'000).make());
  ASSERT_TRUE(d.has_value()) << "decided at once, as out of scope";
  EXPECT_EQ(d->policy, -1);
  EXPECT_TRUE(e.finish_scan().empty());
}

TEST(DecisionEngineNamespaces, CapsCountOverEveryNamespaceOfTheScan) {
  Config c = config_of({policy("zk", silent(60s))});
  c.max_per_scan = 1;
  DecisionEngine e(c);
  e.begin_scan(kT0);
  e.begin_namespace(0);
  e.observe(silent_since(1, "10.0.0.2", 90'000).make());
  e.begin_namespace(1);
  e.observe(silent_since(2, "10.0.0.2", 300'000).make());
  const auto& kept = e.finish_scan();
  // One namespace each, but one scan: the longest-silent goes, the other waits.
  EXPECT_FALSE(entry_of(kept, 2)->decision.held_back);
  EXPECT_TRUE(entry_of(kept, 1)->decision.held_back);
}

TEST(DecisionEngineNamespaces, AnAbandonedNamespaceLeavesTheOthersAndCanBeListedAgain) {
  DecisionEngine e(config_of({policy("zk", silent(60s))}));
  e.begin_scan(kT0);
  e.begin_namespace(0);
  e.observe(silent_since(1, "10.0.0.2", 90'000).make());
  e.begin_namespace(1);
  e.observe(silent_since(2, "10.0.0.3", 90'000).make());
  e.observe(silent_since(3, "10.0.0.4", 90'000).make());
  // Its dump restarted: what it listed so far goes, namespace 0's stays,
  // and the restarted dump's listings count (they are not duplicates).
  e.abandon_namespace();
  EXPECT_FALSE(e.observe(silent_since(3, "10.0.0.4", 90'000).make()).has_value());
  const auto& kept = e.finish_scan();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_NE(entry_of(kept, 1), nullptr);
  EXPECT_EQ(entry_of(kept, 2), nullptr);
  ASSERT_NE(entry_of(kept, 3), nullptr);
  EXPECT_EQ(entry_of(kept, 3)->netns, 1u);
  EXPECT_EQ(e.remembered(), 2u) << "socket 2, abandoned and not listed again, has no history";
  // A cookie of namespace 0 listed again is still a duplicate.
  e.begin_scan(kT0 + 1s);
  e.observe(silent_since(1, "10.0.0.2", 90'000).make());
  e.begin_namespace(1);
  e.abandon_namespace();
  EXPECT_FALSE(e.observe(silent_since(1, "10.0.0.2", 90'000).make()).has_value());
  EXPECT_EQ(e.finish_scan().size(), 1u);
}

}  // namespace
}  // namespace tcpreap::testing
