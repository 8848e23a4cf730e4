#include "config/edit_distance.h"

#include <gtest/gtest.h>

#include <optional>
#include <string_view>

namespace tcpreap {
namespace {

TEST(EditDistance, CountsEditsAndSuggestsOnlyNearKeys) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("intervall", "interval"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  const std::string_view keys[] = {"dry_run", "method", "max_per_scan", "protect"};
  EXPECT_EQ(nearest_within_reach("dryrun", keys), std::optional<std::string_view>("dry_run"));
  EXPECT_EQ(nearest_within_reach("max_per_scna", keys), std::optional<std::string_view>("max_per_scan"));
  EXPECT_EQ(nearest_within_reach("kill_everything", keys), std::nullopt);
  EXPECT_EQ(nearest_within_reach("", keys), std::nullopt);
  EXPECT_EQ(nearest_within_reach("dryrun", {}), std::nullopt);
}

TEST(EditDistance, TiesGoToTheEarlierCandidate) {
  const std::string_view keys[] = {"port", "ports", "sort"};
  // "xort" is one edit from both "port" and "sort".
  EXPECT_EQ(nearest_within_reach("xort", keys), std::optional<std::string_view>("port"));
  const std::string_view reversed[] = {"sort", "port"};
  EXPECT_EQ(nearest_within_reach("xort", reversed), std::optional<std::string_view>("sort"));
}

}  // namespace
}  // namespace tcpreap
