// The loader on YAML text: the example and exactly the Config it makes,
// defaults, every error of a file in order, and the limits (policies,
// nesting, size). Files whose point is one mistake:
// config_loader_rejects_test; reading from disk: config_file_test.

#include "config/config_loader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "unit/config_loader_fixture.h"

namespace tcpreap {
namespace {

using namespace std::chrono_literals;
using testing::cidr;
using testing::errors_of;
using testing::expect_example;
using testing::kExample;
using testing::kPolicy;
using testing::load_ok;
using testing::policy;
using testing::with_policy;

TEST(ConfigLoader, TheExampleLoadsIntoExactlyItsConfig) {
  ConfigLoad l = load_config_text(kExample, "example.yaml");
  ASSERT_TRUE(l.config.has_value());
  EXPECT_TRUE(l.errors.empty());
  expect_example(*l.config, "example.yaml", 1);
}

TEST(ConfigLoader, EverythingButPoliciesHasADefault) {
  const Config c = load_ok(kPolicy);
  const Config defaults;
  EXPECT_EQ(c.source, "t.yaml");
  EXPECT_EQ(c.scan_interval, 10s);
  EXPECT_EQ(c.scan_interval, defaults.scan_interval);
  EXPECT_FALSE(c.dry_run);
  EXPECT_EQ(c.method, ReapMethod::kAuto);
  EXPECT_EQ(c.max_per_scan, 100u);
  EXPECT_TRUE(c.protect.empty());
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:10126");
  ASSERT_EQ(c.policies.size(), 1u);
  const Policy& p = c.policies[0];
  EXPECT_EQ(p.match.states, StateSet::of(TcpState::kEstablished));
  EXPECT_EQ(p.confirm, 1u);
  EXPECT_FALSE(p.max_per_scan);
  EXPECT_FALSE(p.per_peer_limit);
  EXPECT_FALSE(p.verify);
  EXPECT_FALSE(p.dead_when.unacked_for);
  EXPECT_TRUE(p.dead_when.in_state_for.empty());
  EXPECT_TRUE(p.namespaces.empty());
  EXPECT_EQ(p.mark, (SourceMark{2, 5}));
  EXPECT_EQ(c.namespaces, NamespaceScope{});
  EXPECT_EQ(c.namespaces.scan, NamespaceScope::Mode::kHost);
  EXPECT_TRUE(c.namespaces.exclude.empty());
  EXPECT_EQ(c.namespaces.discover_every, 10s);
}

TEST(ConfigLoader, EmptySectionsAreAbsentOnes) {
  const Config c = load_ok(std::string("scan:\nnamespaces:\nreap:\n  protect:\nmetrics: {}\n") + kPolicy);
  EXPECT_EQ(c.scan_interval, 10s);
  EXPECT_EQ(c.namespaces, NamespaceScope{});
  EXPECT_TRUE(c.protect.empty());
}

TEST(ConfigLoader, MatchListsTakeAliasesScalarsRangesAndGroups) {
  const Config c = load_ok(R"(reap:
  dry_run: true
  method: rst
  protect:
    - { port: "1-1023" }
    - { states: listen }
    - { remote: 192.0.2.0/24, states: [established] }
metrics:
  listen: 0.0.0.0:0080
policies:
  - name: every.1_x-y
    match:
      local_port: 2181
      remote_ports: ["30000-32767", 443]
      ports: 80
      local: "::1"
      remote: 10.0.0.0/8
      states: [connected, time-wait, listen]
    dead_when: { in_state_for: { fin-wait-2: 1d, listening: 1m } }
  - name: rest
    match: {}
    dead_when: { unacked_for: 1h30m }
)");
  EXPECT_TRUE(c.dry_run);
  EXPECT_EQ(c.method, ReapMethod::kRst);
  ASSERT_EQ(c.protect.size(), 3u);
  EXPECT_EQ(c.protect[0].ports, std::vector<PortRange>{(PortRange{1, 1023})});
  EXPECT_EQ(c.protect[0].states, StateSet::all());
  EXPECT_EQ(c.protect[1].states, StateSet::of(TcpState::kListen));
  EXPECT_TRUE(c.protect[1].ports.empty());
  EXPECT_EQ(c.protect[2].remote, std::vector<Cidr>{cidr("192.0.2.0/24")});
  EXPECT_EQ(c.protect[2].states, StateSet::of(TcpState::kEstablished));
  EXPECT_EQ(c.metrics_listen, "0.0.0.0:80");
  ASSERT_EQ(c.policies.size(), 2u);
  const Match& m = c.policies[0].match;
  EXPECT_EQ(m.local_ports, std::vector<PortRange>{(PortRange{2181, 2181})});
  EXPECT_EQ(m.remote_ports, (std::vector<PortRange>{{30000, 32767}, {443, 443}}));
  EXPECT_EQ(m.ports, std::vector<PortRange>{(PortRange{80, 80})});
  EXPECT_EQ(m.local, std::vector<Cidr>{cidr("::1")});
  EXPECT_EQ(m.remote, std::vector<Cidr>{cidr("10.0.0.0/8")});
  EXPECT_EQ(m.states, StateSet::connected() | StateSet::of(TcpState::kTimeWait) | StateSet::of(TcpState::kListen));
  EXPECT_EQ(c.policies[0].dead_when.in_state_for,
            (std::vector<StateTimeout>{{static_cast<uint8_t>(TcpState::kFinWait2), 24h},
                                       {static_cast<uint8_t>(TcpState::kListen), 1min}}));
  EXPECT_EQ(c.policies[1].match.states, StateSet::of(TcpState::kEstablished));
  EXPECT_TRUE(c.policies[1].match.to_groups().empty());
  EXPECT_EQ(c.policies[1].dead_when.unacked_for, std::optional<Duration>(90min));
}

TEST(ConfigLoader, VerifyTakesDefaultsAndExplicitValues) {
  const Config c = load_ok(R"(policies:
  - name: defaults
    match: { local_port: 1 }
    dead_when: { silent_for: 1m }
    verify: {}
  - name: explicit
    match: { local_port: 2 }
    dead_when: { silent_for: 30s, unacked_for: 30s }
    verify:
      probes: 10
      interval: 1h
  - name: least
    match: { local_port: 3 }
    dead_when: { silent_for: 10s }
    verify: { probes: "1", interval: 1s }
  - name: per-peer-only
    match: { local_port: 4 }
    dead_when: { unacked_for: 1m }
    per_peer_limit: { max: 5, min_silent: 1m }
    verify: { interval: 2s500ms }
  - name: unverified
    match: { local_port: 5 }
    dead_when: { silent_for: 1m }
)");
  ASSERT_EQ(c.policies.size(), 5u);
  EXPECT_EQ(c.policies[0].verify, (std::optional<Verify>(Verify{3, 5s})));
  EXPECT_EQ(c.policies[1].verify, (std::optional<Verify>(Verify{10, 1h})));
  EXPECT_EQ(c.policies[2].verify, (std::optional<Verify>(Verify{1, 1s})));
  // Only per_peer_limit's silence to verify is enough.
  EXPECT_EQ(c.policies[3].verify, (std::optional<Verify>(Verify{3, 2500ms})));
  EXPECT_FALSE(c.policies[4].verify);
}

TEST(ConfigLoader, QuotedNumbersAndBooleansReadAsWritten) {
  const Config c = load_ok(std::string("reap:\n  dry_run: \"true\"\n  max_per_scan: \"7\"\n") + kPolicy);
  EXPECT_TRUE(c.dry_run);
  EXPECT_EQ(c.max_per_scan, 7u);
}

TEST(ConfigLoader, TakesAThousandPoliciesAndNoMore) {
  std::string yaml = "policies:\n";
  for (int i = 0; i < 1000; ++i)
    yaml += "  - { name: p" + std::to_string(i) + ", match: { local_port: " + std::to_string(i + 1) +
            " }, dead_when: { silent_for: 1m } }\n";
  EXPECT_EQ(load_ok(yaml).policies.size(), 1000u);
  yaml += "  - { name: one-more, match: { local_port: 2000 }, dead_when: { silent_for: 1m } }\n";
  EXPECT_EQ(errors_of(yaml), std::vector<std::string>{"t.yaml:2:3: policies: 1001 policies; at most 1000"});
}

TEST(ConfigLoader, AReachablePolicyAfterANarrowerOneIsFine) {
  const Config c = load_ok(
      "policies:\n  - name: zk\n    match: { local_port: 2181 }\n    dead_when: { silent_for: 1m }\n"
      "  - name: rest\n    match: {}\n    dead_when: { silent_for: 1h }\n");
  EXPECT_EQ(c.policies.size(), 2u);
}

TEST(ConfigLoader, ReportsEveryErrorInTheFileInOrder) {
  const std::vector<std::string> errors = errors_of(R"(scan:
  intervall: 10
reap:
  dry_run: on
  max_per_scan: lots
  protect:
    - {}
    - local_ports: []
metrics:
  listen: "[::1]:9100"
policies:
  - name: Bad Name
    match: { local_port: 70000, states: [estab] }
    dead_when:
      silent_for: 0s
      silent_for: 30
    verify: { probes: 11 }
  - name: b
    match: {}
    dead_when: { unacked_for: 1h1h }
  - name: c
    match: { local_port: 1 }
    dead_when: { silent_for: 1m }
    per_peer_limit: { max: 0 }
)");
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "t.yaml:2:3: unknown key 'intervall' in scan (did you mean 'interval'?)",
                        "t.yaml:4:12: reap.dry_run: write true or false, not 'on'",
                        "t.yaml:5:17: reap.max_per_scan: expected a whole number, got 'lots'",
                        "t.yaml:7:7: reap.protect[0]: an empty protect rule would protect every socket",
                        "t.yaml:8:20: reap.protect[1].local_ports: [] matches nothing",
                        "t.yaml:10:11: metrics.listen: '[::1]:9100': the metrics exporter cannot listen on IPv6; use "
                        "an IPv4 address such as 127.0.0.1",
                        "t.yaml:12:11: policies[0].name: 'Bad Name' is not a valid policy name: use lowercase "
                        "letters, digits, '_', '.' and '-', starting with a letter or digit",
                        "t.yaml:13:26: policies[0].match.local_port: '70000' is not a port or port range (0-65535, "
                        "e.g. 2181 or 30000-32767)",
                        "t.yaml:13:42: policies[0].match.states[0]: unknown TCP state 'estab' (known: established, "
                        "syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait, closed, close-wait, last-ack, "
                        "listening, listen, closing, all, connected, synchronized)",
                        "t.yaml:15:19: policies[0].dead_when.silent_for: must be more than 0, got '0s'",
                        "t.yaml:16:7: duplicate key 'silent_for' (first at line 15:7)",
                        "t.yaml:17:23: policies[0].verify.probes: must be from 1 to 10, got 11",
                        "t.yaml:20:31: policies[1].dead_when.unacked_for: '1h1h' is not a duration: write the units "
                        "from the largest to the smallest, each once (e.g. 1h30m)",
                        "t.yaml:21:5: policy 'c' can never decide: policy 'b' (line 18) matches every socket it does",
                        "t.yaml:24:21: policies[2].per_peer_limit: missing 'min_silent'",
                        "t.yaml:24:28: policies[2].per_peer_limit.max: must be at least 1, got 0",
                    }));
}

TEST(ConfigLoader, RefusesDeepNestingBeforeYamlCppRecursesIntoIt) {
  EXPECT_EQ(errors_of(std::string(65, '[')), std::vector<std::string>{"t.yaml:1:65: nested deeper than 64 levels"});
  EXPECT_EQ(errors_of(std::string(100000, '[')), std::vector<std::string>{"t.yaml:1:65: nested deeper than 64 levels"});
  std::string flow_maps;
  for (int i = 0; i < 70; ++i) flow_maps += "{a: ";
  EXPECT_EQ(errors_of(flow_maps), std::vector<std::string>{"t.yaml:1:257: nested deeper than 64 levels"});
  std::string dashes;
  for (int i = 0; i < 70; ++i) dashes += "- ";
  EXPECT_EQ(errors_of(dashes + "x"), std::vector<std::string>{"t.yaml:1:129: nested deeper than 64 levels"});
  std::string keys;
  for (int i = 0; i < 70; ++i) keys += std::string(static_cast<size_t>(i), ' ') + "a:\n";
  EXPECT_EQ(errors_of(keys), std::vector<std::string>{"t.yaml:65:65: nested deeper than 64 levels"});

  // 64 levels pass the guard and reach the schema; brackets in quoted and
  // block scalars and in comments are text.
  EXPECT_EQ(errors_of(std::string(64, '[') + std::string(64, ']')),
            std::vector<std::string>{
                "t.yaml:1:1: expected a map of scan, namespaces, reap, metrics and policies, got a list"});
  const std::string brackets(100, '[');
  EXPECT_EQ(errors_of("a: \"" + brackets + "\"\nb: '" + brackets + "'\nc: |\n  " + brackets + "\n# " + brackets +
                      "\npolicies: []\n"),
            (std::vector<std::string>{
                "t.yaml:1:1: unknown key 'a' at the top level (known: scan, namespaces, reap, metrics, "
                "policies)",
                "t.yaml:2:1: unknown key 'b' at the top level (known: scan, namespaces, reap, metrics, "
                "policies)",
                "t.yaml:3:1: unknown key 'c' at the top level (known: scan, namespaces, reap, metrics, "
                "policies)",
                "t.yaml:6:11: policies: [] holds no policy; at least one is required",
            }));
}

TEST(ConfigLoader, SurvivesSelfReferenceThroughAnchors) {
  // A cycle is refused before anything is read (alias_expansion.h).
  EXPECT_EQ(errors_of("policies: &p [*p]\n"),
            std::vector<std::string>{"t.yaml:1:15: an alias of the node it is part of: a cycle no reader can finish"});
  // An alias of a whole policy is the same policy twice.
  EXPECT_EQ(errors_of("policies:\n  - &p { name: x, match: {}, dead_when: { silent_for: 1m } }\n  - *p\n"),
            std::vector<std::string>{"t.yaml:2:5: duplicate policy name 'x' (first at line 2:5)"});
}

TEST(ConfigLoader, RefusesTextOverOneMebibyte) {
  std::string big = kPolicy;
  big += "# " + std::string(kMaxConfigBytes, 'x') + "\n";
  const std::vector<std::string> want{
      "t.yaml: the file is larger than 1 MiB; a config is a page of YAML (is it the right file?)"};
  EXPECT_EQ(errors_of(big), want);
}

TEST(ConfigDiagnostic, FormatsWithAndWithoutAPlace) {
  EXPECT_EQ((ConfigDiagnostic{"a.yaml", 3, 7, "oops"}).to_string(), "a.yaml:3:7: oops");
  EXPECT_EQ((ConfigDiagnostic{"a.yaml", 0, 0, "oops"}).to_string(), "a.yaml: oops");
}

// ---- network namespaces: the `namespaces` section and match.namespaces ----

TEST(ConfigLoader, NamespacesTakesEachFormWrittenOut) {
  const Config all = load_ok(with_policy(
      "namespaces:\n  scan: all\n  exclude: [host, \"cni-*\", \"pod:*\", \"net:[4026532174]\", pid:1]\n"
      "  discover_every: 1h\n"));
  EXPECT_EQ(all.namespaces.scan, NamespaceScope::Mode::kAll);
  EXPECT_EQ(all.namespaces.exclude,
            (std::vector<std::string>{"host", "cni-*", "pod:*", "net:[4026532174]", "pid:1"}));
  EXPECT_EQ(all.namespaces.discover_every, 1h);

  const Config one = load_ok(with_policy("namespaces:\n  scan: all\n  exclude: blue\n  discover_every: 1s\n"));
  EXPECT_EQ(one.namespaces.exclude, std::vector<std::string>{"blue"}) << "one glob may stand alone";
  EXPECT_EQ(one.namespaces.discover_every, 1s);

  // An empty exclusion is the default written out, not "[] matches nothing".
  for (const char* head : {"namespaces:\n  exclude: []\n", "namespaces:\n  exclude:\n",
                           "namespaces: { scan: host, exclude: [], discover_every: 10s }\n"})
    EXPECT_EQ(load_ok(with_policy(head)).namespaces, NamespaceScope{}) << head;
  // With scan: host, globs that leave the host scanned are allowed (and unused).
  EXPECT_EQ(load_ok(with_policy("namespaces:\n  exclude: [\"cni-*\", hostile]\n")).namespaces.exclude,
            (std::vector<std::string>{"cni-*", "hostile"}));
}

TEST(ConfigLoader, MatchNamespacesIsStoredOnThePolicyNotTheMatch) {
  const Config c = load_ok(R"(namespaces:
  scan: all
policies:
  - name: pods
    match: { local_port: 2181, namespaces: ["pod:*", "cni-*"] }
    dead_when: { silent_for: 1m }
  - name: one
    match:
      local_port: 2181
      namespaces: blue
    dead_when: { silent_for: 1m }
  - name: rest
    match: { local_port: 2181 }
    dead_when: { silent_for: 1m }
)");
  ASSERT_EQ(c.policies.size(), 3u);
  EXPECT_EQ(c.policies[0].namespaces, (std::vector<std::string>{"pod:*", "cni-*"}));
  EXPECT_EQ(c.policies[1].namespaces, std::vector<std::string>{"blue"});
  EXPECT_TRUE(c.policies[2].namespaces.empty());
  // The same sockets in each: the namespaces are no part of the match.
  EXPECT_EQ(c.policies[0].match, c.policies[2].match);
  EXPECT_EQ(c.policies[1].match, c.policies[2].match);
  EXPECT_TRUE(c.policies[0].applies_in("pod:1b4e28ba-2fa1-41d2-883f-0016d3cca427"));
  EXPECT_FALSE(c.policies[0].applies_in("host"));
  EXPECT_TRUE(c.policies[1].applies_in("blue"));
  EXPECT_FALSE(c.policies[1].applies_in("blue2"));
  EXPECT_TRUE(c.policies[2].applies_in("anything"));
}

TEST(ConfigLoader, WithScanHostAPolicysNamespacesMayNameTheHost) {
  // By name, by a glob, or maybe by its identity, which only the daemon
  // knows: the loader refuses only a list that certainly misses it.
  for (const char* globs : {"host", "\"h*\"", "[blue, \"?ost\"]", "\"net:[4026531840]\"", "\"net:*\"", "\"n*\"",
                            "\"*\"", "\"[a-z]et:x\"", "\"net\\\\:[1]\""}) {
    const std::string yaml = policy("    match: { namespaces: ") + globs + " }\n    dead_when: { silent_for: 1m }\n";
    EXPECT_EQ(load_ok(yaml).policies.size(), 1u) << yaml;
  }
}

TEST(ConfigLoader, APolicyLimitedToOtherNamespacesIsNotShadowedByOneElsewhere) {
  // 'rest' matches every socket 'pods' does, but not where 'pods' applies.
  const Config c = load_ok(R"(namespaces: { scan: all }
policies:
  - name: blue
    match: { namespaces: blue }
    dead_when: { silent_for: 1h }
  - name: pods
    match: { local_port: 2181, namespaces: "pod:*" }
    dead_when: { silent_for: 1m }
  - name: overlapping-globs
    match: { local_port: 2181, namespaces: ["pod:1", blue] }
    dead_when: { silent_for: 1m }
  - name: everywhere
    match: { local_port: 2181 }
    dead_when: { silent_for: 1m }
)");
  EXPECT_EQ(c.policies.size(), 4u);
}

// ---- the blast radius: verify.max_per_scan and reap.max_per_minute ----

TEST(ConfigLoader, ProbesPerScanAndReapsPerMinuteHaveDefaults) {
  const Config defaults = load_ok(policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: {}\n"));
  EXPECT_EQ(defaults.max_per_minute, 1000u);
  ASSERT_TRUE(defaults.policies[0].verify);
  EXPECT_EQ(defaults.policies[0].verify->max_per_scan, 1000u);
  const Config set = load_ok("reap:\n  max_per_minute: 30\n" +
                             policy("    match: {}\n    dead_when: { silent_for: 1m }\n"
                                    "    verify: { max_per_scan: \"50\" }\n"));
  EXPECT_EQ(set.max_per_minute, 30u);
  EXPECT_EQ(set.policies[0].verify, (std::optional<Verify>(Verify{3, 5s, 50})));
  const Config most = load_ok(policy("    match: {}\n    dead_when: { silent_for: 1m }\n"
                                     "    verify: { max_per_scan: 100000 }\n"));
  EXPECT_EQ(most.policies[0].verify->max_per_scan, 100'000u);
}

TEST(ConfigLoader, ProbesPerScanAndReapsPerMinuteAreCheckedWhereWritten) {
  auto verify_max = [](const char* value) {
    return policy("    match: {}\n    dead_when: { silent_for: 1m }\n") + "    verify: { max_per_scan: " + value +
           " }\n";
  };
  const std::pair<std::string, std::string> cases[] = {
      {with_policy("reap:\n  max_per_minute: 0\n"), "t.yaml:2:19: reap.max_per_minute: must be at least 1, got 0"},
      {with_policy("reap:\n  max_per_minute: many\n"),
       "t.yaml:2:19: reap.max_per_minute: expected a whole number, got 'many'"},
      {with_policy("reap:\n  max_per_minute: 4294967296\n"),
       "t.yaml:2:19: reap.max_per_minute: '4294967296' is too large (at most 4294967295)"},
      {with_policy("reap:\n  max_per_minutes: 5\n"),
       "t.yaml:2:3: unknown key 'max_per_minutes' in reap (did you mean 'max_per_minute'?)"},
      {verify_max("0"), "t.yaml:5:29: policies[0].verify.max_per_scan: must be from 1 to 100000, got 0"},
      {verify_max("100001"), "t.yaml:5:29: policies[0].verify.max_per_scan: must be from 1 to 100000, got 100001"},
      {verify_max("1m"), "t.yaml:5:29: policies[0].verify.max_per_scan: expected a whole number, got '1m'"},
      {policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { max_per_scna: 5 }\n"),
       "t.yaml:5:15: unknown key 'max_per_scna' in policies[0].verify (did you mean 'max_per_scan'?)"},
  };
  for (const auto& [yaml, error] : cases) EXPECT_EQ(errors_of(yaml), std::vector<std::string>{error}) << yaml;
}

}  // namespace
}  // namespace tcpreap
