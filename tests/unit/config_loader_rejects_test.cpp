// The loader against files whose point is one mistake: exactly the
// diagnostics it gives for each (the rest of its cases: config_loader_test).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config_loader.h"
#include "unit/config_loader_fixture.h"

namespace tcpreap {
namespace {

using testing::errors_of;
using testing::policy;
using testing::with_policy;

// A file whose point is one mistake, and exactly what the loader says.
struct BadFile {
  const char* name;
  std::string yaml;
  std::vector<std::string> errors;
};

class ConfigLoaderRejects : public ::testing::TestWithParam<BadFile> {};

TEST_P(ConfigLoaderRejects, WithExactDiagnostics) { EXPECT_EQ(errors_of(GetParam().yaml), GetParam().errors); }

const BadFile kBadFiles[] = {
    // Syntax, and the shape of the document.
    {"syntax_unclosed_flow", "policies: [\n  - a\n", {"t.yaml:2:3: invalid YAML: illegal block entry"}},
    {"syntax_bad_indent", "a: 1\n  b: 2\n", {"t.yaml:2:4: invalid YAML: illegal map value"}},
    {"empty_file", "", {"t.yaml: the config is empty; 'policies' is required"}},
    {"only_comments", "# nothing yet\n", {"t.yaml: the config is empty; 'policies' is required"}},
    {"top_level_list", "- a\n", {"t.yaml:1:1: expected a map of scan, namespaces, reap, metrics and policies, got a list"}},
    {"top_level_scalar",
     "hello\n",
     {"t.yaml:1:1: expected a map of scan, namespaces, reap, metrics and policies, got 'hello'"}},
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
    {"unreachable_after_catch_all_of_every_namespace",
     "namespaces: { scan: all }\npolicies:\n  - name: all\n    match: { states: all }\n    dead_when: { silent_for: 1h }\n"
     "  - name: zk\n    match: { local_port: 2181, namespaces: \"pod:*\" }\n    dead_when: { silent_for: 1m }\n",
     {"t.yaml:6:5: policy 'zk' can never decide: policy 'all' (line 3) matches every socket it does"}},
    {"unreachable_in_the_same_namespaces",
     "namespaces: { scan: all }\npolicies:\n  - name: a\n    match: { namespaces: [blue, \"pod:*\"] }\n"
     "    dead_when: { silent_for: 1h }\n"
     "  - name: b\n    match: { local_port: 22, namespaces: [\"pod:*\", blue, blue] }\n"
     "    dead_when: { silent_for: 1m }\n",
     {"t.yaml:6:5: policy 'b' can never decide: policy 'a' (line 3) matches every socket it does"}},
    {"unreachable_after_catch_all",
     "policies:\n  - name: all\n    match: { states: all }\n    dead_when: { silent_for: 1h }\n"
     "  - name: zk\n    match: { local_port: 2181, states: [established, close-wait] }\n"
     "    dead_when: { silent_for: 1m }\n",
     {"t.yaml:5:5: policy 'zk' can never decide: policy 'all' (line 2) matches every socket it does"}},

    // Network namespaces: the `namespaces` section.
    {"namespaces_not_a_map",
     with_policy("namespaces: all\n"),
     {"t.yaml:1:13: namespaces: expected a map, got 'all'"}},
    {"namespaces_unknown_key_near",
     with_policy("namespaces:\n  exclued: [blue]\n"),
     {"t.yaml:2:3: unknown key 'exclued' in namespaces (did you mean 'exclude'?)"}},
    {"namespaces_unknown_key_far",
     with_policy("namespaces:\n  only: [blue]\n"),
     {"t.yaml:2:3: unknown key 'only' in namespaces (known: scan, exclude, discover_every)"}},
    {"namespaces_unknown_top_level_near",
     with_policy("namespace:\n  scan: all\n"),
     {"t.yaml:1:1: unknown key 'namespace' at the top level (did you mean 'namespaces'?)"}},
    {"namespaces_scan_near",
     with_policy("namespaces:\n  scan: hosts\n"),
     {"t.yaml:2:9: namespaces.scan: unknown namespace scope 'hosts' (did you mean 'host'?)"}},
    {"namespaces_scan_near_all",
     with_policy("namespaces:\n  scan: al\n"),
     {"t.yaml:2:9: namespaces.scan: unknown namespace scope 'al' (did you mean 'all'?)"}},
    {"namespaces_scan_far",
     with_policy("namespaces:\n  scan: everything\n"),
     {"t.yaml:2:9: namespaces.scan: unknown namespace scope 'everything' (known: host, all)"}},
    {"namespaces_scan_case",
     with_policy("namespaces:\n  scan: All\n"),
     {"t.yaml:2:9: namespaces.scan: unknown namespace scope 'All' (did you mean 'all'?)"}},
    {"namespaces_scan_list",
     with_policy("namespaces:\n  scan: [host, all]\n"),
     {"t.yaml:2:9: namespaces.scan: expected host or all, got a list"}},
    {"namespaces_scan_empty",
     with_policy("namespaces:\n  scan:\n"),
     {"t.yaml:2:3: namespaces.scan: expected host or all, got nothing"}},
    {"namespaces_exclude_map",
     with_policy("namespaces:\n  scan: all\n  exclude: { blue: 1 }\n"),
     {"t.yaml:3:12: namespaces.exclude: expected a namespace name or glob (host, \"cni-*\", \"pod:*\") or a list "
      "of them, got a map"}},
    {"namespaces_exclude_item_list",
     with_policy("namespaces:\n  scan: all\n  exclude: [blue, [red]]\n"),
     {"t.yaml:3:19: namespaces.exclude[1]: expected a namespace name or glob (host, \"cni-*\", \"pod:*\"), got a "
      "list"}},
    {"namespaces_exclude_empty_name",
     with_policy("namespaces:\n  scan: all\n  exclude: [blue, \"\"]\n"),
     {"t.yaml:3:19: namespaces.exclude[1]: an empty name matches no namespace"}},
    {"namespaces_exclude_host_with_scan_host",
     with_policy("namespaces:\n  scan: host\n  exclude: [blue, \"h*\"]\n"),
     {"t.yaml:3:19: namespaces.exclude[1]: 'h*' excludes the host namespace, the only one scanned with "
      "namespaces.scan: host; nothing would be scanned"}},
    {"namespaces_exclude_host_with_scan_by_default",
     with_policy("namespaces:\n  exclude: host\n"),
     {"t.yaml:2:12: namespaces.exclude: 'host' excludes the host namespace, the only one scanned with "
      "namespaces.scan: host; nothing would be scanned"}},
    {"namespaces_exclude_host_after_a_bad_scan",
     with_policy("namespaces:\n  scan: every\n  exclude: [host]\n"),
     {"t.yaml:2:9: namespaces.scan: unknown namespace scope 'every' (known: host, all)"}},
    {"namespaces_discover_every_too_short",
     with_policy("namespaces:\n  discover_every: 999ms\n"),
     {"t.yaml:2:19: namespaces.discover_every: '999ms' is too short (at least 1s)"}},
    {"namespaces_discover_every_zero",
     with_policy("namespaces:\n  discover_every: 0s\n"),
     {"t.yaml:2:19: namespaces.discover_every: '0s' is too short (at least 1s)"}},
    {"namespaces_discover_every_too_long",
     with_policy("namespaces:\n  discover_every: 1h1s\n"),
     {"t.yaml:2:19: namespaces.discover_every: '1h1s' is too long (at most 1h)"}},
    {"namespaces_discover_every_no_unit",
     with_policy("namespaces:\n  discover_every: 10\n"),
     {"t.yaml:2:19: namespaces.discover_every: '10' has no unit; say the unit: 10s"}},
    {"namespaces_duplicate_section",
     with_policy("namespaces: {}\nnamespaces: {}\n"),
     {"t.yaml:2:1: duplicate key 'namespaces' (first at line 1:1)"}},

    // Network namespaces: match.namespaces.
    {"match_namespaces_empty_list",
     "namespaces: { scan: all }\n" + policy("    match: { namespaces: [] }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:4:26: policies[0].match.namespaces: [] matches nothing"}},
    {"match_namespaces_empty_name",
     "namespaces: { scan: all }\n" + policy("    match: { namespaces: [\"\"] }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:4:27: policies[0].match.namespaces[0]: an empty name matches no namespace"}},
    {"match_namespaces_map",
     "namespaces: { scan: all }\n" + policy("    match: { namespaces: { blue: 1 } }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:4:26: policies[0].match.namespaces: expected a namespace name or glob (host, \"cni-*\", \"pod:*\") or a "
      "list of them, got a map"}},
    {"match_namespaces_null",
     "namespaces: { scan: all }\n" + policy("    match:\n      namespaces:\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:5:7: policies[0].match.namespaces: expected a namespace name or glob (host, \"cni-*\", \"pod:*\") or a "
      "list of them, got nothing"}},
    {"match_namespaces_misspelt",
     policy("    match: { namespace: blue }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:14: unknown key 'namespace' in policies[0].match (did you mean 'namespaces'?)"}},
    {"match_namespaces_never_apply_with_scan_host",
     policy("    match: { namespaces: [blue, \"cni-*\"] }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:26: policies[0].match.namespaces: policy 'p' would never apply: only the host namespace is scanned "
      "(namespaces.scan: host), and no name here matches 'host'"}},
    {"match_namespaces_never_apply_unnamed",
     "namespaces: { scan: host }\npolicies:\n  - name: Bad\n    match: { namespaces: \"pod:*\" }\n"
     "    dead_when: { silent_for: 1m }\n",
     {"t.yaml:3:11: policies[0].name: 'Bad' is not a valid policy name: use lowercase letters, digits, '_', '.' and "
      "'-', starting with a letter or digit",
      "t.yaml:4:26: policies[0].match.namespaces: the policy would never apply: only the host namespace is scanned "
      "(namespaces.scan: host), and no name here matches 'host'"}},
    {"match_namespaces_not_on_an_identity_mistyped",
     policy("    match: { namespaces: \"ent:[4026531840]\" }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:26: policies[0].match.namespaces: policy 'p' would never apply: only the host namespace is scanned "
      "(namespaces.scan: host), and no name here matches 'host'"}},
    {"match_namespaces_bad_item_with_scan_host",
     policy("    match: { namespaces: [blue, \"\"] }\n    dead_when: { silent_for: 1m }\n"),
     {"t.yaml:3:33: policies[0].match.namespaces[1]: an empty name matches no namespace"}},
    {"protect_with_namespaces",
     with_policy("namespaces: { scan: all }\nreap:\n  protect:\n    - { local_port: 22, namespaces: [blue] }\n"),
     {"t.yaml:4:37: reap.protect[0].namespaces: protect applies in every namespace; a protect rule names no "
      "namespaces"}},
    {"protect_of_only_namespaces",
     with_policy("reap:\n  protect:\n    - namespaces: host\n"),
     {"t.yaml:3:19: reap.protect[0].namespaces: protect applies in every namespace; a protect rule names no "
      "namespaces"}},
};

INSTANTIATE_TEST_SUITE_P(BadFiles, ConfigLoaderRejects, ::testing::ValuesIn(kBadFiles),
                         [](const ::testing::TestParamInfo<BadFile>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace tcpreap
