// The globs of `exclude` and `match.namespaces` against namespace names and
// identities.

#include "netns/netns_name_match.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tcpreap {
namespace {

bool matches(std::string_view text, std::vector<std::string> globs) { return name_matches(text, globs); }

TEST(NetnsNameMatch, GlobsAsFnmatchReadsThem) {
  EXPECT_TRUE(matches("host", {"host"}));
  EXPECT_FALSE(matches("hostile", {"host"})) << "a glob matches the whole name, not a prefix";
  EXPECT_TRUE(matches("cni-1b4e28ba-2fa1", {"cni-*"}));
  EXPECT_TRUE(matches("pod:1b4e28ba-2fa1-41d2-883f-0016d3cca427", {"pod:*"}));
  EXPECT_TRUE(matches("pid:1234", {"pid:12?4"}));
  EXPECT_FALSE(matches("pid:124", {"pid:12?4"}));
  EXPECT_TRUE(matches("blue2", {"blue[0-9]"}));
  EXPECT_FALSE(matches("bluex", {"blue[0-9]"}));
  EXPECT_TRUE(matches("a/b", {"a*"})) << "no FNM_PATHNAME: '*' crosses '/'";
  EXPECT_FALSE(matches("Host", {"host"})) << "case matters";
}

TEST(NetnsNameMatch, AnyGlobOfTheListMatches) {
  EXPECT_TRUE(matches("blue", {"red", "green", "bl*"}));
  EXPECT_FALSE(matches("blue", {"red", "green"}));
  EXPECT_FALSE(matches("blue", {})) << "an empty list matches nothing";
  EXPECT_FALSE(matches("", {"x"}));
  EXPECT_TRUE(matches("", {"*"}));
}

TEST(NetnsNameMatch, AGlobEqualToTheTextMatchesBracketsAndAll) {
  // As fnmatch reads it, "[4026532174]" is a set of one character: without
  // the literal comparison an identity copied from the log would not match.
  EXPECT_TRUE(matches("net:[4026532174]", {"net:[4026532174]"}));
  EXPECT_FALSE(matches("net:[4026532175]", {"net:[4026532174]"}));
  EXPECT_TRUE(matches("net:[4026532174]", {"net:\\[4026532174\\]"})) << "escaped brackets work too";
  EXPECT_TRUE(matches("net:[4026532174]", {"net:*"}));
}

TEST(NetnsNameMatch, ANamespaceMatchesByNameOrByIdentity) {
  NetnsId id;
  id.ino = 4026532174;
  const std::vector<std::string> by_name = {"blue"};
  const std::vector<std::string> by_id = {"net:[4026532174]"};
  const std::vector<std::string> other = {"red", "net:[1]"};
  EXPECT_TRUE(netns_matches("blue", id, by_name));
  EXPECT_TRUE(netns_matches("red", id, by_id));
  EXPECT_FALSE(netns_matches("blue", id, other));
}

}  // namespace
}  // namespace tcpreap
