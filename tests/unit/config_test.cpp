// What a loaded Config answers about network namespaces: where a policy
// applies, which namespaces are scanned, and the scope's names.

#include "config/config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tcpreap {
namespace {

const NetnsId kId{1, 4026532174, std::nullopt};  // "net:[4026532174]"

Policy restricted_to(std::vector<std::string> globs) {
  Policy p;
  p.name = "p";
  p.namespaces = std::move(globs);
  return p;
}

TEST(PolicyAppliesIn, EveryNamespaceWhenUnrestricted) {
  const Policy p = restricted_to({});
  for (const char* name : {"host", "blue", "pod:1b4e28ba", "pid:1", ""}) {
    EXPECT_TRUE(p.applies_in(name)) << name;
    EXPECT_TRUE(p.applies_in(name, kId)) << name;
  }
}

TEST(PolicyAppliesIn, OnlyTheNamespacesAGlobMatches) {
  const Policy p = restricted_to({"pod:*", "blue", "cni-?"});
  EXPECT_TRUE(p.applies_in("pod:1b4e28ba-2fa1-41d2-883f-0016d3cca427"));
  EXPECT_TRUE(p.applies_in("blue"));
  EXPECT_TRUE(p.applies_in("cni-1"));
  EXPECT_FALSE(p.applies_in("cni-12"));
  EXPECT_FALSE(p.applies_in("host"));
  EXPECT_FALSE(p.applies_in("blue2"));
  EXPECT_FALSE(p.applies_in("3f4a9c2b1d0e")) << "a container's name is its ID, not its pod";
}

TEST(PolicyAppliesIn, ByIdentityOnlyWhenGivenOne) {
  const Policy p = restricted_to({"net:[4026532174]"});
  EXPECT_TRUE(p.applies_in("blue", kId));
  EXPECT_FALSE(p.applies_in("blue", NetnsId{1, 4026532175, std::nullopt}));
  EXPECT_FALSE(p.applies_in("blue")) << "no identity, nothing for it to match";
  EXPECT_TRUE(p.applies_in("net:[4026532174]")) << "a name is matched as written";
}

TEST(NamespaceScope, HostScansTheHostWhateverIsExcluded) {
  NamespaceScope s;
  s.exclude = {"blue", "net:[4026532174]"};
  EXPECT_TRUE(s.scans("host", kId));
  EXPECT_FALSE(s.scans("blue", NetnsId{}));
  EXPECT_FALSE(s.scans("pod:1", NetnsId{}));
}

TEST(NamespaceScope, AllScansWhatNoGlobExcludesByNameOrIdentity) {
  NamespaceScope s;
  s.scan = NamespaceScope::Mode::kAll;
  EXPECT_TRUE(s.scans("host", kId));
  EXPECT_TRUE(s.scans("pod:1", kId));
  s.exclude = {"pod:*", "net:[4026532174]"};
  EXPECT_FALSE(s.scans("pod:1", NetnsId{}));
  EXPECT_FALSE(s.scans("blue", kId));
  EXPECT_TRUE(s.scans("blue", NetnsId{1, 4026532175, std::nullopt}));
  EXPECT_TRUE(s.scans("host", NetnsId{1, 4026531840, std::nullopt}));
}

TEST(NamespaceScope, ModesByName) {
  EXPECT_STREQ(namespace_mode_name(NamespaceScope::Mode::kHost), "host");
  EXPECT_STREQ(namespace_mode_name(NamespaceScope::Mode::kAll), "all");
  EXPECT_EQ(parse_namespace_mode("host"), NamespaceScope::Mode::kHost);
  EXPECT_EQ(parse_namespace_mode("all"), NamespaceScope::Mode::kAll);
  EXPECT_EQ(parse_namespace_mode("All"), std::nullopt);
  EXPECT_EQ(parse_namespace_mode(""), std::nullopt);
}

}  // namespace
}  // namespace tcpreap
