#include "config/config_loader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "config/duration.h"
#include "config/edit_distance.h"

#ifndef TCPREAP_CONFIG_FIXTURES
#error "TCPREAP_CONFIG_FIXTURES must be defined"
#endif

namespace tcpreap {
namespace {

using namespace std::chrono_literals;

// The README's example (with close-wait among the match's states, which
// its in_state_for needs).
constexpr const char* kExample = R"(scan:
  interval: 10s
reap:
  dry_run: false
  method: auto
  max_per_scan: 100
  protect:
    - { local_port: 22 }
metrics:
  listen: 127.0.0.1:10126
policies:
  - name: zookeeper-clients
    match:
      local_ports: [2181]
      remote: [10.0.0.0/8, "fd00::/8"]
      states: [established, close-wait]
    dead_when:
      silent_for: 2m
      unacked_for: 30s
      in_state_for: { close-wait: 5m }
    confirm: 2
    max_per_scan: 20
    per_peer_limit:
      max: 50
      min_silent: 60s
    verify:
      probes: 3
      interval: 5s
)";

// One valid policy, to complete files whose point is elsewhere (lines 1-4
// when it comes first).
constexpr const char* kPolicy = R"(policies:
  - name: a
    match: { local_port: 1 }
    dead_when: { silent_for: 1m }
)";

std::vector<std::string> errors_of(std::string_view yaml) {
  ConfigLoad l = load_config_text(yaml, "t.yaml");
  EXPECT_FALSE(l.config.has_value()) << "loaded:\n" << yaml;
  std::vector<std::string> out;
  for (const ConfigDiagnostic& d : l.errors) out.push_back(d.to_string());
  return out;
}

Config load_ok(std::string_view yaml) {
  ConfigLoad l = load_config_text(yaml, "t.yaml");
  for (const ConfigDiagnostic& d : l.errors) ADD_FAILURE() << d.to_string();
  EXPECT_TRUE(l.config.has_value());
  return l.config ? *l.config : Config{};
}

Cidr cidr(const char* text) { return *Cidr::parse(text); }

void expect_example(const Config& c, const std::string& source, int first_line) {
  EXPECT_EQ(c.source, source);
  EXPECT_EQ(c.scan_interval, 10s);
  EXPECT_FALSE(c.dry_run);
  EXPECT_EQ(c.method, ReapMethod::kAuto);
  EXPECT_EQ(c.max_per_scan, 100u);
  Match ssh;
  ssh.local_ports = {{22, 22}};
  ssh.states = StateSet::all();
  EXPECT_EQ(c.protect, std::vector<Match>{ssh});
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:10126");

  ASSERT_EQ(c.policies.size(), 1u);
  const Policy& p = c.policies[0];
  EXPECT_EQ(p.name, "zookeeper-clients");
  Match m;
  m.local_ports = {{2181, 2181}};
  m.remote = {cidr("10.0.0.0/8"), cidr("fd00::/8")};
  m.states = StateSet::of(TcpState::kEstablished) | StateSet::of(TcpState::kCloseWait);
  EXPECT_EQ(p.match, m);
  DeadWhen d;
  d.silent_for = 2min;
  d.unacked_for = 30s;
  d.in_state_for = {StateTimeout{static_cast<uint8_t>(TcpState::kCloseWait), 5min}};
  EXPECT_EQ(p.dead_when, d);
  EXPECT_EQ(p.confirm, 2u);
  EXPECT_EQ(p.max_per_scan, std::optional<uint32_t>(20));
  EXPECT_EQ(p.per_peer_limit, (std::optional<PerPeerLimit>(PerPeerLimit{50, 60s})));
  EXPECT_EQ(p.verify, (std::optional<Verify>(Verify{3, 5s})));
  EXPECT_EQ(p.mark, (SourceMark{first_line + 11, 5}));
}

TEST(ConfigLoader, TheExampleLoadsIntoExactlyItsConfig) {
  ConfigLoad l = load_config_text(kExample, "example.yaml");
  ASSERT_TRUE(l.config.has_value());
  EXPECT_TRUE(l.errors.empty());
  expect_example(*l.config, "example.yaml", 1);
}

TEST(ConfigLoader, LoadsTheExampleFromAFile) {
  const std::string path = std::string(TCPREAP_CONFIG_FIXTURES) + "/example.yaml";
  ConfigLoad l = load_config_file(path);
  for (const ConfigDiagnostic& d : l.errors) ADD_FAILURE() << d.to_string();
  ASSERT_TRUE(l.config.has_value());
  expect_example(*l.config, path, 2);  // after a comment line
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
  EXPECT_EQ(p.mark, (SourceMark{2, 5}));
}

TEST(ConfigLoader, EmptySectionsAreAbsentOnes) {
  const Config c = load_ok(std::string("scan:\nreap:\n  protect:\nmetrics: {}\n") + kPolicy);
  EXPECT_EQ(c.scan_interval, 10s);
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

// A file whose point is one mistake, and exactly what the loader says.
struct BadFile {
  const char* name;
  std::string yaml;
  std::vector<std::string> errors;
};

class ConfigLoaderRejects : public ::testing::TestWithParam<BadFile> {};

TEST_P(ConfigLoaderRejects, WithExactDiagnostics) { EXPECT_EQ(errors_of(GetParam().yaml), GetParam().errors); }

// Appends a valid policies section after `head`.
std::string with_policy(const char* head) { return std::string(head) + kPolicy; }

// A single policy made of `body` (indented 4).
std::string policy(const char* body) { return std::string("policies:\n  - name: p\n") + body; }

const BadFile kBadFiles[] = {
    // Syntax, and the shape of the document.
    {"syntax_unclosed_flow", "policies: [\n  - a\n", {"t.yaml:2:3: invalid YAML: illegal block entry"}},
    {"syntax_bad_indent", "a: 1\n  b: 2\n", {"t.yaml:2:4: invalid YAML: illegal map value"}},
    {"empty_file", "", {"t.yaml: the config is empty; 'policies' is required"}},
    {"only_comments", "# nothing yet\n", {"t.yaml: the config is empty; 'policies' is required"}},
    {"top_level_list", "- a\n", {"t.yaml:1:1: expected a map of scan, reap, metrics and policies, got a list"}},
    {"top_level_scalar", "hello\n", {"t.yaml:1:1: expected a map of scan, reap, metrics and policies, got 'hello'"}},
    {"second_document",
     with_policy("") + "---\nscan: {}\n",
     {"t.yaml:6:1: a second YAML document; the config is one document"}},
    {"control_character",
     "policies:\n  - name: a\x01\n",
     {"t.yaml:2:12: control character 0x01 in the file; a config is text"}},
    {"nul_byte", std::string("scan:\0", 6), {"t.yaml:1:6: control character 0x00 in the file; a config is text"}},
    // Found by the fuzzer: on this, yaml-cpp's LoadAll returned empty documents until memory ran out.
    {"fuzz_nul_documents",
     std::string("\0,\0\0\n t nU", 9),
     {"t.yaml:1:1: control character 0x00 in the file; a config is text"}},

    // Unknown and repeated keys.
    {"unknown_key_near",
     with_policy("scan:\n  intervall: 10s\n"),
     {"t.yaml:2:3: unknown key 'intervall' in scan (did you mean 'interval'?)"}},
    {"unknown_key_far",
     with_policy("reap:\n  kill_everything: true\n"),
     {"t.yaml:2:3: unknown key 'kill_everything' in reap (known: dry_run, method, max_per_scan, max_per_minute, "
      "protect)"}},
    {"unknown_top_level_key",
     "polices: []\n",
     {"t.yaml:1:1: unknown key 'polices' at the top level (did you mean 'policies'?)",
      "t.yaml:1:1: missing 'policies' (at least one policy is required)"}},
    {"unknown_policy_key",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    probe_first: true\n"),
     {"t.yaml:5:5: unknown key 'probe_first' in policies[0] (known: name, match, dead_when, confirm, max_per_scan, "
      "per_peer_limit, verify)"}},
    {"verify_misspelled",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verfy: {}\n"),
     {"t.yaml:5:5: unknown key 'verfy' in policies[0] (did you mean 'verify'?)"}},
    {"unknown_verify_key_near",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { probe: true }\n"),
     {"t.yaml:5:15: unknown key 'probe' in policies[0].verify (did you mean 'probes'?)"}},
    {"unknown_verify_key_far",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify:\n      probes: 3\n      timeout: 5s\n"),
     {"t.yaml:7:7: unknown key 'timeout' in policies[0].verify (known: probes, interval, max_per_scan)"}},
    {"unknown_match_key",
     policy("    match: { local_prot: 1 }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:14: unknown key 'local_prot' in policies[0].match (did you mean 'local_port'?)"}},
    {"duplicate_key",
     policy("    match: {}\n    dead_when:\n      silent_for: 1m\n      silent_for: 2m\n"),
     {"t.yaml:6:7: duplicate key 'silent_for' (first at line 5:7)"}},
    {"duplicate_alias",
     policy("    match: { local_port: 1, local_ports: [2] }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:29: duplicate key 'local_ports' ('local_port' is the same key, first at line 3:14)"}},
    {"duplicate_verify_key",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify:\n      probes: 3\n      probes: 4\n"),
     {"t.yaml:7:7: duplicate key 'probes' (first at line 6:7)"}},
    {"duplicate_verify",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: {}\n    verify: { probes: 2 }\n"),
     {"t.yaml:6:5: duplicate key 'verify' (first at line 5:5)"}},
    {"duplicate_section",
     with_policy("scan: {}\nscan: {}\n"),
     {"t.yaml:2:1: duplicate key 'scan' (first at line 1:1)"}},
    {"complex_key", with_policy("? [a]\n: 1\n"), {"t.yaml:1:3: expected a key name, got a list"}},

    // Wrong types.
    {"not_a_number",
     with_policy("reap:\n  max_per_scan: lots\n"),
     {"t.yaml:2:17: reap.max_per_scan: expected a whole number, got 'lots'"}},
    {"fraction",
     with_policy("reap:\n  max_per_scan: 1.5\n"),
     {"t.yaml:2:17: reap.max_per_scan: expected a whole number, got '1.5'"}},
    {"list_for_scalar",
     with_policy("reap:\n  method: [auto]\n"),
     {"t.yaml:2:11: reap.method: expected a reap method (auto, destroy or rst), got a list"}},
    {"map_for_list",
     with_policy("reap:\n  protect: { local_port: 22 }\n"),
     {"t.yaml:2:12: reap.protect: expected a list of match blocks (- { local_port: 22 }), got a map"}},
    {"map_for_section", with_policy("scan: [10s]\n"), {"t.yaml:1:7: scan: expected a map, got a list"}},
    {"empty_value",
     with_policy("scan:\n  interval:\n"),
     {"t.yaml:2:3: scan.interval: expected a duration (500ms, 30s, 5m, 1h30m), got nothing"}},
    {"yaml11_boolean",
     with_policy("reap:\n  dry_run: yes\n"),
     {"t.yaml:2:12: reap.dry_run: write true or false, not 'yes'"}},
    {"capitalised_boolean",
     with_policy("reap:\n  dry_run: True\n"),
     {"t.yaml:2:12: reap.dry_run: write true or false, not 'True'"}},
    {"not_a_boolean",
     with_policy("reap:\n  dry_run: maybe\n"),
     {"t.yaml:2:12: reap.dry_run: expected true or false, got 'maybe'"}},
    {"unknown_method",
     with_policy("reap:\n  method: kill\n"),
     {"t.yaml:2:11: reap.method: unknown method 'kill' (known: auto, destroy, rst)"}},
    {"verify_scalar",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: true\n"),
     {"t.yaml:5:13: policies[0].verify: expected a map with probes and interval (write verify: {} for the "
      "defaults), got 'true'"}},
    {"verify_list",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: [3, 5s]\n"),
     {"t.yaml:5:13: policies[0].verify: expected a map with probes and interval (write verify: {} for the "
      "defaults), got a list"}},
    {"verify_null",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify:\n"),
     {"t.yaml:5:5: policies[0].verify: expected a map with probes and interval (write verify: {} for the "
      "defaults), got nothing"}},
    {"verify_probes_fraction",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { probes: 1.5 }\n"),
     {"t.yaml:5:23: policies[0].verify.probes: expected a whole number, got '1.5'"}},
    {"verify_probes_list",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { probes: [3] }\n"),
     {"t.yaml:5:23: policies[0].verify.probes: expected a whole number, got a list"}},
    {"verify_probes_empty",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify:\n      probes:\n      interval: 5s\n"),
     {"t.yaml:6:7: policies[0].verify.probes: expected a whole number, got nothing"}},
    {"verify_interval_map",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { interval: { s: 5 } }\n"),
     {"t.yaml:5:25: policies[0].verify.interval: expected a duration (500ms, 30s, 5m, 1h30m), got a map"}},
    {"verify_interval_no_unit",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { interval: 5 }\n"),
     {"t.yaml:5:25: policies[0].verify.interval: '5' has no unit; say the unit: 5s"}},
    {"map_for_port",
     policy("    match: { local_ports: [{ a: 1 }] }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:28: policies[0].match.local_ports[0]: expected a port or port range (2181, \"30000-32767\"), got a "
      "map"}},
    {"map_for_ports",
     policy("    match: { local_ports: { a: 1 } }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:27: policies[0].match.local_ports: expected a port or port range (2181, \"30000-32767\") or a list "
      "of them, got a map"}},
    {"long_value_is_cut",
     with_policy("reap:\n  method: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"),
     {"t.yaml:2:11: reap.method: unknown method 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' (known: auto, destroy, "
      "rst)"}},

    // Policies: present, complete, named, unique.
    {"no_policies_key", "scan: {}\n", {"t.yaml:1:1: missing 'policies' (at least one policy is required)"}},
    {"empty_policies", "policies: []\n", {"t.yaml:1:11: policies: [] holds no policy; at least one is required"}},
    {"null_policies", "policies:\n", {"t.yaml:1:1: policies: expected a list of policies, got nothing"}},
    {"policy_not_a_map",
     "policies:\n  - zk\n",
     {"t.yaml:2:5: policies[0]: expected a policy (a map with name, match and dead_when), got 'zk'"}},
    {"policy_missing_everything",
     "policies:\n  - confirm: 1\n",
     {"t.yaml:2:5: policies[0]: missing 'name'", "t.yaml:2:5: policies[0]: missing 'match'",
      "t.yaml:2:5: policies[0]: missing 'dead_when'"}},
    {"bad_name",
     "policies:\n  - name: Zoo Keeper\n    match: {}\n    dead_when: { silent_for: 1m }\n",
     {"t.yaml:2:11: policies[0].name: 'Zoo Keeper' is not a valid policy name: use lowercase letters, digits, "
      "'_', '.' and '-', starting with a letter or digit"}},
    {"name_starting_with_dash",
     "policies:\n  - name: -zk\n    match: {}\n    dead_when: { silent_for: 1m }\n",
     {"t.yaml:2:11: policies[0].name: '-zk' is not a valid policy name: use lowercase letters, digits, "
      "'_', '.' and '-', starting with a letter or digit"}},
    {"long_name",
     "policies:\n  - name: a12345678901234567890123456789012345678901234567890123456789012345\n    match: {}\n"
     "    dead_when: { silent_for: 1m }\n",
     {"t.yaml:2:11: policies[0].name: the name is 66 characters long; at most 64"}},
    {"duplicate_name",
     "policies:\n  - name: zk\n    match: { local_port: 1 }\n    dead_when: { silent_for: 1m }\n"
     "  - name: zk\n    match: { local_port: 2 }\n    dead_when: { silent_for: 1m }\n",
     {"t.yaml:5:5: duplicate policy name 'zk' (first at line 2:5)"}},
    {"null_match",
     policy("    match:\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:5: policies[0].match: expected a match block (write match: {} to match every socket in state "
      "established), got nothing"}},
    {"dead_when_empty",
     policy("    match: {}\n    dead_when: {}\n"),
     {"t.yaml:4:16: policies[0].dead_when: needs at least one condition (silent_for, unacked_for or "
      "in_state_for)"}},
    {"dead_when_null",
     policy("    match: {}\n    dead_when:\n"),
     {"t.yaml:4:5: policies[0].dead_when: needs at least one condition (silent_for, unacked_for or "
      "in_state_for)"}},

    // Impossible values.
    {"zero_duration",
     policy("    match: {}\n    dead_when: { silent_for: 0s }\n"),
     {"t.yaml:4:30: policies[0].dead_when.silent_for: must be more than 0, got '0s'"}},
    {"bare_number_duration",
     policy("    match: {}\n    dead_when: { unacked_for: 30 }\n"),
     {"t.yaml:4:31: policies[0].dead_when.unacked_for: '30' has no unit; say the unit: 30s"}},
    {"negative_duration",
     policy("    match: {}\n    dead_when: { unacked_for: -5s }\n"),
     {"t.yaml:4:31: policies[0].dead_when.unacked_for: '-5s' is negative; a duration is 0 or more"}},
    {"interval_too_short",
     with_policy("scan:\n  interval: 50ms\n"),
     {"t.yaml:2:13: scan.interval: '50ms' is too short (at least 100ms)"}},
    {"interval_zero",
     with_policy("scan:\n  interval: 0s\n"),
     {"t.yaml:2:13: scan.interval: '0s' is too short (at least 100ms)"}},
    {"duration_too_long",
     with_policy("scan:\n  interval: 366d\n"),
     {"t.yaml:2:13: scan.interval: '366d' is too long (at most 365d)"}},
    {"confirm_zero",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    confirm: 0\n"),
     {"t.yaml:5:14: policies[0].confirm: must be at least 1, got 0"}},
    {"confirm_negative",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    confirm: -2\n"),
     {"t.yaml:5:14: policies[0].confirm: must be at least 1, got -2"}},
    {"max_per_scan_zero",
     with_policy("reap:\n  max_per_scan: 0\n"),
     {"t.yaml:2:17: reap.max_per_scan: must be at least 1, got 0"}},
    {"max_per_scan_too_large",
     with_policy("reap:\n  max_per_scan: 4294967296\n"),
     {"t.yaml:2:17: reap.max_per_scan: '4294967296' is too large (at most 4294967295)"}},
    {"policy_max_per_scan_zero",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    max_per_scan: 0\n"),
     {"t.yaml:5:19: policies[0].max_per_scan: must be at least 1, got 0"}},
    {"per_peer_max_zero",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    per_peer_limit: { max: 0, min_silent: 1m }\n"),
     {"t.yaml:5:28: policies[0].per_peer_limit.max: must be at least 1, got 0"}},
    {"per_peer_min_silent_zero",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    per_peer_limit: { max: 5, min_silent: 0ms }\n"),
     {"t.yaml:5:43: policies[0].per_peer_limit.min_silent: must be more than 0, got '0ms'"}},
    {"per_peer_incomplete",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    per_peer_limit: { max: 5 }\n"),
     {"t.yaml:5:21: policies[0].per_peer_limit: missing 'min_silent'"}},
    {"confirm_overflows_64_bits",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    confirm: 99999999999999999999\n"),
     {"t.yaml:5:14: policies[0].confirm: '99999999999999999999' is too large (at most 4294967295)"}},
    {"verify_probes_zero",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { probes: 0 }\n"),
     {"t.yaml:5:23: policies[0].verify.probes: must be from 1 to 10, got 0"}},
    {"verify_probes_negative",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { probes: -3 }\n"),
     {"t.yaml:5:23: policies[0].verify.probes: must be from 1 to 10, got -3"}},
    {"verify_probes_eleven",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { probes: 11 }\n"),
     {"t.yaml:5:23: policies[0].verify.probes: must be from 1 to 10, got 11"}},
    {"verify_probes_overflow",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { probes: 99999999999999999999 }\n"),
     {"t.yaml:5:23: policies[0].verify.probes: must be from 1 to 10, got 99999999999999999999"}},
    {"verify_interval_under_the_peer_rate_limit",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { interval: 999ms }\n"),
     {"t.yaml:5:25: policies[0].verify.interval: '999ms' is too short (at least 1s: a peer answers at most one "
      "probe per 500ms, its net.ipv4.tcp_invalid_ratelimit)"}},
    {"verify_interval_zero",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { interval: 0s }\n"),
     {"t.yaml:5:25: policies[0].verify.interval: '0s' is too short (at least 1s: a peer answers at most one "
      "probe per 500ms, its net.ipv4.tcp_invalid_ratelimit)"}},
    {"verify_interval_over_an_hour",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { interval: 1h1ms }\n"),
     {"t.yaml:5:25: policies[0].verify.interval: '1h1ms' is too long (at most 1h)"}},
    {"verify_both_wrong",
     policy("    match: {}\n    dead_when: { silent_for: 1m }\n    verify: { probes: 11, interval: 100ms }\n"),
     {"t.yaml:5:23: policies[0].verify.probes: must be from 1 to 10, got 11",
      "t.yaml:5:37: policies[0].verify.interval: '100ms' is too short (at least 1s: a peer answers at most one "
      "probe per 500ms, its net.ipv4.tcp_invalid_ratelimit)"}},

    // verify needs silence to verify; only the policy's own errors when
    // its dead_when or verify cannot be read.
    {"verify_unacked_only",
     policy("    match: {}\n    dead_when: { unacked_for: 30s }\n    verify:\n      probes: 3\n"),
     {"t.yaml:5:5: policies[0].verify: only silence is verified (dead_when.silent_for or per_peer_limit), and this "
      "policy has neither; unacked data is already probed by the kernel's own retransmissions, and a state "
      "timeout needs no answer from the peer"}},
    {"verify_state_timeout_only",
     policy("    match: { states: close-wait }\n    dead_when: { in_state_for: { close-wait: 5m } }\n"
            "    verify: {}\n"),
     {"t.yaml:5:5: policies[0].verify: only silence is verified (dead_when.silent_for or per_peer_limit), and this "
      "policy has neither; unacked data is already probed by the kernel's own retransmissions, and a state "
      "timeout needs no answer from the peer"}},
    {"verify_unacked_only_and_bad_probes",
     policy("    match: {}\n    dead_when: { unacked_for: 30s }\n    verify: { probes: 0 }\n"),
     {"t.yaml:5:5: policies[0].verify: only silence is verified (dead_when.silent_for or per_peer_limit), and this "
      "policy has neither; unacked data is already probed by the kernel's own retransmissions, and a state "
      "timeout needs no answer from the peer",
      "t.yaml:5:23: policies[0].verify.probes: must be from 1 to 10, got 0"}},
    {"verify_null_and_unacked_only",
     policy("    match: {}\n    dead_when: { unacked_for: 30s }\n    verify:\n"),
     {"t.yaml:5:5: policies[0].verify: expected a map with probes and interval (write verify: {} for the "
      "defaults), got nothing"}},
    {"verify_after_a_broken_dead_when",
     policy("    match: {}\n    dead_when: { unacked_for: 30 }\n    verify: {}\n"),
     {"t.yaml:4:31: policies[0].dead_when.unacked_for: '30' has no unit; say the unit: 30s"}},
    {"verify_after_a_broken_per_peer_limit",
     policy("    match: {}\n    dead_when: { unacked_for: 1m }\n    per_peer_limit: { max: 0, min_silent: 1m }\n"
            "    verify: {}\n"),
     {"t.yaml:5:28: policies[0].per_peer_limit.max: must be at least 1, got 0"}},
    {"verify_without_dead_when",
     policy("    match: {}\n    verify: {}\n"),
     {"t.yaml:2:5: policies[0]: missing 'dead_when'"}},

    {"empty_port_list",
     policy("    match: { local_ports: [] }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:27: policies[0].match.local_ports: [] matches nothing"}},
    {"empty_state_list",
     policy("    match: { states: [] }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:22: policies[0].match.states: [] matches nothing"}},
    {"bad_port",
     policy("    match: { local_ports: [2181, 70000] }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:34: policies[0].match.local_ports[1]: '70000' is not a port or port range (0-65535, e.g. 2181 or "
      "30000-32767)"}},
    {"backwards_range",
     policy("    match: { port: 9-8 }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:20: policies[0].match.port: '9-8': the range's first port is above its last"}},
    {"bad_cidr",
     policy("    match: { remote: [10.0.0.1/8] }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:23: policies[0].match.remote[0]: '10.0.0.1/8' has host bits set; did you mean 10.0.0.0/8?"}},
    {"bad_state",
     policy("    match: { states: estab }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:22: policies[0].match.states: unknown TCP state 'estab' (known: established, syn-sent, syn-recv, "
      "fin-wait-1, fin-wait-2, time-wait, closed, close-wait, last-ack, listening, listen, closing, all, "
      "connected, synchronized)"}},
    {"in_state_for_outside_match",
     policy("    match: {}\n    dead_when: { in_state_for: { close-wait: 5m } }\n"),
     {"t.yaml:4:34: policies[0].dead_when.in_state_for: state 'close-wait' is not among the match's states "
      "(established)"}},
    {"in_state_for_group",
     policy("    match: { states: all }\n    dead_when: { in_state_for: { connected: 5m } }\n"),
     {"t.yaml:4:34: policies[0].dead_when.in_state_for: 'connected' names several states; give each its own "
      "duration"}},
    {"in_state_for_same_state_twice",
     policy("    match: { states: listen }\n    dead_when: { in_state_for: { listen: 1m, listening: 2m } }\n"),
     {"t.yaml:4:46: duplicate key 'listening' ('listen' is the same state, first at line 4:34)"}},
    {"in_state_for_empty",
     policy("    match: {}\n    dead_when: { in_state_for: {} }\n"),
     {"t.yaml:4:32: policies[0].dead_when.in_state_for: {} names no state"}},
    {"in_state_for_zero",
     policy("    match: {}\n    dead_when: { in_state_for: { established: 0s } }\n"),
     {"t.yaml:4:47: policies[0].dead_when.in_state_for.established: must be more than 0, got '0s'"}},
    {"empty_protect_rule",
     with_policy("reap:\n  protect:\n    - {}\n"),
     {"t.yaml:3:7: reap.protect[0]: an empty protect rule would protect every socket"}},
    {"protect_rule_of_all_states",
     with_policy("reap:\n  protect:\n    - states: all\n"),
     {"t.yaml:3:7: reap.protect[0]: an empty protect rule would protect every socket"}},
    {"metrics_ipv6",
     with_policy("metrics:\n  listen: \"[::1]:10126\"\n"),
     {"t.yaml:2:11: metrics.listen: '[::1]:10126': the metrics exporter cannot listen on IPv6; use an IPv4 "
      "address such as 127.0.0.1"}},
    {"metrics_no_port",
     with_policy("metrics:\n  listen: 127.0.0.1\n"),
     {"t.yaml:2:11: metrics.listen: '127.0.0.1' has no port (write it as address:port, e.g. 127.0.0.1:10126)"}},
    {"metrics_port_zero",
     with_policy("metrics:\n  listen: 127.0.0.1:0\n"),
     {"t.yaml:2:11: metrics.listen: '127.0.0.1:0': the port must be 1-65535"}},
    {"metrics_host_name",
     with_policy("metrics:\n  listen: localhost:10126\n"),
     {"t.yaml:2:11: metrics.listen: 'localhost' is not an IP address (write address:port, e.g. 127.0.0.1:10126)"}},

    // Policies no socket can reach.
    {"unreachable_policy",
     "policies:\n  - name: a\n    match: { local_ports: [1-100] }\n    dead_when: { silent_for: 1m }\n"
     "  - name: b\n    match: { local_port: 22 }\n    dead_when: { silent_for: 1m }\n",
     {"t.yaml:5:5: policy 'b' can never decide: policy 'a' (line 2) matches every socket it does"}},
    {"unreachable_after_catch_all",
     "policies:\n  - name: all\n    match: { states: all }\n    dead_when: { silent_for: 1h }\n"
     "  - name: zk\n    match: { local_port: 2181, states: [established, close-wait] }\n"
     "    dead_when: { silent_for: 1m }\n",
     {"t.yaml:5:5: policy 'zk' can never decide: policy 'all' (line 2) matches every socket it does"}},
};

INSTANTIATE_TEST_SUITE_P(BadFiles, ConfigLoaderRejects, ::testing::ValuesIn(kBadFiles),
                         [](const ::testing::TestParamInfo<BadFile>& i) { return std::string(i.param.name); });

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
            std::vector<std::string>{"t.yaml:1:1: expected a map of scan, reap, metrics and policies, got a list"});
  const std::string brackets(100, '[');
  EXPECT_EQ(errors_of("a: \"" + brackets + "\"\nb: '" + brackets + "'\nc: |\n  " + brackets + "\n# " + brackets +
                      "\npolicies: []\n"),
            (std::vector<std::string>{
                "t.yaml:1:1: unknown key 'a' at the top level (known: scan, reap, metrics, policies)",
                "t.yaml:2:1: unknown key 'b' at the top level (known: scan, reap, metrics, policies)",
                "t.yaml:3:1: unknown key 'c' at the top level (known: scan, reap, metrics, policies)",
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

TEST(ConfigLoader, RefusesAFileOverOneMebibyte) {
  std::string big = kPolicy;
  big += "# " + std::string(kMaxConfigBytes, 'x') + "\n";
  const std::vector<std::string> want{
      "t.yaml: the file is larger than 1 MiB; a config is a page of YAML (is it the right file?)"};
  EXPECT_EQ(errors_of(big), want);
  // The file loader reads no further than that.
  const std::string path = ::testing::TempDir() + "config_loader_test_big.yaml";
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fwrite(big.data(), 1, big.size(), f);
  std::fclose(f);
  ConfigLoad l = load_config_file(path);
  std::remove(path.c_str());
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0].to_string(),
            path + ": the file is larger than 1 MiB; a config is a page of YAML (is it the right file?)");
}

TEST(ConfigLoader, AMissingFileIsOneDiagnosticWithThePathAndErrno) {
  const std::string path = std::string(TCPREAP_CONFIG_FIXTURES) + "/no-such-file.yaml";
  ConfigLoad l = load_config_file(path);
  EXPECT_FALSE(l.config.has_value());
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0].to_string(), path + ": cannot read the config: No such file or directory");
}

TEST(ConfigLoader, ADirectoryIsNotAConfig) {
  ConfigLoad l = load_config_file(TCPREAP_CONFIG_FIXTURES);
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0].to_string(), std::string(TCPREAP_CONFIG_FIXTURES) + ": cannot read the config: Is a directory");
}

TEST(ConfigDiagnostic, FormatsWithAndWithoutAPlace) {
  EXPECT_EQ((ConfigDiagnostic{"a.yaml", 3, 7, "oops"}).to_string(), "a.yaml:3:7: oops");
  EXPECT_EQ((ConfigDiagnostic{"a.yaml", 0, 0, "oops"}).to_string(), "a.yaml: oops");
}

TEST(Duration, ParsesUnitsAndCompounds) {
  const std::pair<const char*, Duration> kGood[] = {
      {"500ms", 500ms},
      {"30s", 30s},
      {"5m", 5min},
      {"1h", 1h},
      {"1d", 24h},
      {"1h30m", 90min},
      {"2m30s", 150s},
      {"1s500ms", 1500ms},
      {"1d12h", 36h},
      {"90m", 90min},
      {"0s", 0ms},
      {"0ms", 0ms},
      {"007s", 7s},
      {"1d2h3m4s5ms", 24h + 2h + 3min + 4s + 5ms},
      {"106751991167d", Duration(106751991167LL * 86400000LL)},
  };
  for (const auto& [text, want] : kGood) {
    auto d = parse_duration(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.error().message();
    EXPECT_EQ(*d, want) << text;
  }
}

TEST(Duration, RejectsWithAReason) {
  const std::pair<const char*, const char*> kBad[] = {
      {"30", "'30' has no unit; say the unit: 30s"},
      {"", "an empty string is not a duration (e.g. 500ms, 30s, 5m, 1h30m)"},
      {"-5s", "'-5s' is negative; a duration is 0 or more"},
      {"+5s", "'+5s' is not a duration: drop the '+'"},
      {"5x", "'5x' has an unknown unit 'x' (use d, h, m, s or ms)"},
      {"5S", "'5S' has an unknown unit 'S' (use d, h, m, s or ms)"},
      {"5sec", "'5sec' has an unknown unit 'sec' (use d, h, m, s or ms)"},
      {"1.5s", "'1.5s' is not a duration: use whole numbers (e.g. 1s500ms)"},
      {"30s5m", "'30s5m' is not a duration: write the units from the largest to the smallest, each once (e.g. 1h30m)"},
      {"1h1h", "'1h1h' is not a duration: write the units from the largest to the smallest, each once (e.g. 1h30m)"},
      {"1h30", "'1h30' ends in a number without a unit"},
      {"ms", "'ms' is not a duration (e.g. 500ms, 30s, 5m, 1h30m)"},
      {"1h 30m", "'1h 30m' is not a duration (e.g. 500ms, 30s, 5m, 1h30m)"},
      {" 30s", "' 30s' is not a duration (e.g. 500ms, 30s, 5m, 1h30m)"},
      {"99999999999999999999s", "'99999999999999999999s' is too long a duration"},
      {"106751991168d", "'106751991168d' is too long a duration"},
      {"106751991167d16h", "'106751991167d16h' is too long a duration"},
  };
  for (const auto& [text, message] : kBad) {
    auto d = parse_duration(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_EQ(d.error().message(), message) << text;
  }
}

TEST(Duration, FormatsTheShortestExactForm) {
  const std::pair<Duration, const char*> kForms[] = {
      {0ms, "0s"},      {500ms, "500ms"},
      {2min, "2m"},     {90min, "1h30m"},
      {150s, "2m30s"},  {1500ms, "1s500ms"},
      {24h, "1d"},      {36h, "1d12h"},
      {-90s, "-1m30s"}, {Duration::min(), "-106751991167d7h12m55s808ms"},
  };
  for (const auto& [d, text] : kForms) EXPECT_EQ(format_duration(d), text);
  // What it writes, the parser reads back.
  for (Duration d : {Duration(1ms), Duration(61s), Duration(25h + 1ms), Duration::max()})
    EXPECT_EQ(*parse_duration(format_duration(d)), d);
}

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
