// Aliases weighed before a config is read: a bomb of aliases and a cycle
// are refused at the alias, in no time, and ordinary aliases pass.

#include "config/alias_expansion.h"

#include <gtest/gtest.h>

#include <string>

#include "config/config_loader.h"

namespace tcpreap {
namespace {

// Ten levels of ten aliases of the level below: 10^10 nodes in 600 bytes.
std::string laughs(int levels) {
  std::string y = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < levels; ++i) {
    y += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) y += (k ? ", *a" : "*a") + std::to_string(i - 1);
    y += "]\n";
  }
  return y;
}

// A real config's shape: a protect list of many aliases of one large match.
std::string wide_protect(int ports, int aliases) {
  std::string y = "reap:\n  x: &m { local_ports: [";
  for (int i = 0; i < ports; ++i) y += i ? ", 1" : "1";
  y += "] }\n  protect: [";
  for (int i = 0; i < aliases; ++i) y += i ? ", *m" : "*m";
  y += "]\npolicies:\n  - { name: p, match: { local_ports: [1] }, dead_when: { silent_for: 1m } }\n";
  return y;
}

TEST(AliasExpansion, ABillionLaughsIsRefusedAtTheAliasThatCrossesTheLimit) {
  auto p = alias_problem(laughs(10));
  ASSERT_TRUE(p);
  // Levels 1-3 add 12 330 nodes; level 4's aliases stand for 11 111 nodes
  // each, and its eighth crosses 100 000.
  EXPECT_EQ(p->mark.line, 5);
  EXPECT_EQ(p->mark.column, 10 + 7 * 5);  // "a4: &a4 [" then "*a3, " each
  EXPECT_NE(p->message.find("more than 100000 nodes"), std::string::npos) << p->message;
}

TEST(AliasExpansion, ManyAliasesOfALargeNodeAreRefused) {
  auto p = alias_problem(wide_protect(20000, 100000));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->mark.line, 3);
}

TEST(AliasExpansion, TheLimitIsExact) {
  // The match stands for its map, its key and its list: 3 + ports nodes.
  EXPECT_TRUE(alias_problem(wide_protect(25000, 4)));   // 4 x 25 003 = 100 012
  EXPECT_FALSE(alias_problem(wide_protect(25000, 3)));  // 3 x 25 003 = 75 009
  EXPECT_TRUE(alias_problem(wide_protect(9, 3), 35));   // 3 x 12 = 36 > 35
  EXPECT_FALSE(alias_problem(wide_protect(9, 3), 36));  // 36 = 36
}

TEST(AliasExpansion, AnAliasOfAnEnclosingNodeIsACycle) {
  for (const char* y : {"a: &q [1, *q]\n", "a: &m { b: { c: *m } }\n", "&r [*r]\n"}) {
    auto p = alias_problem(y);
    ASSERT_TRUE(p) << y;
    EXPECT_NE(p->message.find("cycle"), std::string::npos) << y;
  }
}

TEST(AliasExpansion, OrdinaryAliasesAndBrokenYamlAreNotItsBusiness) {
  EXPECT_FALSE(alias_problem("ports: &p [2181, 2888]\nagain: *p\nmore: [*p, *p]\n"));
  EXPECT_FALSE(alias_problem("a: [unclosed\n"));
  EXPECT_FALSE(alias_problem("a: *undefined\n"));
  EXPECT_FALSE(alias_problem(""));
}

TEST(AliasExpansion, TheLoaderRefusesABombWithItsPlace) {
  const ConfigLoad load = load_config_text(wide_protect(20000, 100000), "bomb.yaml");
  ASSERT_FALSE(load.config);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].line, 3);
  EXPECT_GT(load.errors[0].column, 0);
  EXPECT_NE(load.errors[0].to_string().find("bomb.yaml:3:"), std::string::npos);
}

TEST(AliasExpansion, TheLoaderStillTakesAliasesThatMakeSense) {
  const ConfigLoad load = load_config_text(
      "reap:\n  protect: [*ssh]\n"
      "policies:\n"
      "  - { name: a, match: &ssh { local_ports: [22] }, dead_when: { silent_for: 1m } }\n",
      "early.yaml");
  // An alias used before its anchor is a YAML error, said with its place.
  ASSERT_FALSE(load.config);
  const ConfigLoad fine = load_config_text(
      "policies:\n"
      "  - { name: a, match: { local_ports: [2181] }, dead_when: &dw { silent_for: 1m } }\n"
      "  - { name: b, match: { local_ports: [2182] }, dead_when: *dw }\n",
      "ok.yaml");
  EXPECT_TRUE(fine.config) << (fine.errors.empty() ? "" : fine.errors[0].to_string());
}

}  // namespace
}  // namespace tcpreap
