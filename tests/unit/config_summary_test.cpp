#include "config/config_summary.h"

#include <gtest/gtest.h>

#include "config/config_loader.h"

namespace tcpreap {
namespace {

using namespace std::chrono_literals;

Config load(std::string_view yaml) {
  ConfigLoad l = load_config_text(yaml, "t.yaml");
  for (const ConfigDiagnostic& d : l.errors) ADD_FAILURE() << d.to_string();
  return l.config ? *l.config : Config{};
}

TEST(ConfigSummary, DescribesTheExample) {
  // The README's example, kept in one place: the loader test's fixture.
  ConfigLoad example = load_config_file(std::string(TCPREAP_CONFIG_FIXTURES) + "/example.yaml");
  ASSERT_TRUE(example.config.has_value());
  const Config& c = *example.config;
  EXPECT_EQ(describe(c),
            "Every 10s tcpreap scans TCP sockets and reaps dead connections with method auto (SOCK_DESTROY, or an "
            "injected RST where the kernel cannot destroy), at most 100 per scan and 1000 per minute. It never touches "
            "sockets with local port 22. Policy 'zookeeper-clients' decides for established or close-wait sockets with "
            "local port 2181 and remote address in 10.0.0.0/8 or fd00::/8: a connection is dead once it has been "
            "silent for 2m, its data has gone unacknowledged for 30s or it has been in state close-wait for 5m, and is "
            "reaped once it has looked dead on 2 consecutive scans, at most 20 per scan; when one peer holds more than "
            "50 of its connections, the longest silent among them (silent at least 1m) are dead too; a connection dead "
            "by silence is verified first: its peer is probed up to 3 times, 5s apart, and an answer keeps the "
            "connection alive; at most 1000 of its probes go out per scan.");
}

TEST(ConfigSummary, DescribesADryRunWithSeveralPolicies) {
  const Config c = load(R"(scan:
  interval: 1s500ms
reap:
  dry_run: true
  method: destroy
  max_per_scan: 5
policies:
  - name: zk
    match:
      local_ports: [2181, "30000-32767", 9000]
      ports: 80
      local: 10.1.0.0/16
      states: [synchronized]
    dead_when: { unacked_for: 90s }
  - name: listeners
    match: { states: [listen, close-wait] }
    dead_when: { in_state_for: { listen: 1d, close-wait: 10m } }
  - name: anything
    match: { states: all, remote_port: 443 }
    dead_when: { silent_for: 1h }
    per_peer_limit: { max: 1, min_silent: 500ms }
)");
  EXPECT_EQ(describe(c),
            "Every 1s500ms tcpreap scans TCP sockets and reports the dead connections it would reap with method "
            "destroy (SOCK_DESTROY only), at most 5 per scan and 1000 per minute, but reaps none (dry run). Nothing is "
            "protected. Policies are tried in order; the first whose match fits a socket decides. Policy 'zk' decides "
            "for synchronized sockets with local port 2181, 30000-32767 or 9000, port 80 at either end and local "
            "address in 10.1.0.0/16: a connection is dead once its data has gone unacknowledged for 1m30s, and would "
            "be reaped on the first scan it looks dead. Policy 'listeners' decides for close-wait or listening "
            "sockets: a connection is dead once it has been in state listening for 1d or it has been in state "
            "close-wait for 10m, and would be reaped on the first scan it looks dead. Policy 'anything' decides for "
            "sockets with remote port 443: a connection is dead once it has been silent for 1h, and would be reaped on "
            "the first scan it looks dead; when one peer holds more than 1 of its connections, the longest silent "
            "among them (silent at least 500ms) are dead too.");
}

TEST(ConfigSummary, DescribesVerification) {
  const Config c = load(R"(reap:
  dry_run: true
policies:
  - name: once
    match: { local_port: 1 }
    dead_when: { unacked_for: 1m }
    per_peer_limit: { max: 10, min_silent: 30s }
    verify: { probes: 1, interval: 1m30s }
  - name: many
    match: { local_port: 2 }
    dead_when: { silent_for: 20s }
    confirm: 3
    verify: { probes: 10, interval: 1s }
)");
  EXPECT_EQ(describe(c),
            "Every 10s tcpreap scans TCP sockets and reports the dead connections it would reap with method auto "
            "(SOCK_DESTROY, or an injected RST where the kernel cannot destroy), at most 100 per scan and 1000 per "
            "minute, but reaps none (dry run). Nothing is protected. Policies are tried in order; the first whose "
            "match fits a socket decides. Policy 'once' decides for established sockets with local port 1: a "
            "connection is dead once its data has gone unacknowledged for 1m, and would be reaped on the first scan it "
            "looks dead; when one peer holds more than 10 of its connections, the longest silent among them (silent at "
            "least 30s) are dead too; a connection dead by silence is verified first: its peer is probed once, with "
            "1m30s to answer, and an answer keeps the connection alive; at most 1000 of its probes go out per scan. "
            "Policy 'many' decides for established sockets with local port 2: a connection is dead once it has been "
            "silent for 20s, and would be reaped once it has looked dead on 3 consecutive scans; a connection dead by "
            "silence is verified first: its peer is probed up to 10 times, 1s apart, and an answer keeps the "
            "connection alive; at most 1000 of its probes go out per scan.");
}

TEST(ConfigSummary, ListsSeveralProtectRules) {
  const Config c = load(R"(reap:
  method: rst
  protect:
    - { states: [time-wait, closed] }
    - { remote: ["::1", 127.0.0.0/8], port: 22 }
    - { states: connected, local_port: 1 }
policies:
  - name: a
    match: { states: all }
    dead_when: { silent_for: 1m }
)");
  EXPECT_EQ(describe(c),
            "Every 10s tcpreap scans TCP sockets and reaps dead connections with method rst (an injected RST), at most "
            "100 per scan and 1000 per minute. It never touches these: time-wait or closed sockets; sockets with port "
            "22 at either end and remote address in ::1/128 or 127.0.0.0/8; connected sockets with local port 1. "
            "Policy 'a' decides for every socket: a connection is dead once it has been silent for 1m, and is reaped "
            "on the first scan it looks dead.");
}

TEST(ConfigSummary, DescribesTheCapsOnProbesAndReapsPerMinute) {
  const Config c = load(R"(scan:
  interval: 1s
reap:
  max_per_scan: 20
  max_per_minute: 60
policies:
  - name: v
    match: { local_port: 1 }
    dead_when: { silent_for: 1m }
    verify: { probes: 2, interval: 2s, max_per_scan: 1 }
)");
  EXPECT_EQ(describe(c),
            "Every 1s tcpreap scans TCP sockets and reaps dead connections with method auto (SOCK_DESTROY, or an "
            "injected RST where the kernel cannot destroy), at most 20 per scan and 60 per minute. Nothing is "
            "protected. Policy 'v' decides for established sockets with local port 1: a connection is dead once it has "
            "been silent for 1m, and is reaped on the first scan it looks dead; a connection dead by silence is "
            "verified first: its peer is probed up to 2 times, 2s apart, and an answer keeps the connection alive; at "
            "most 1 of its probes goes out per scan.");
}

TEST(ConfigSummary, SaysWhichNamespacesAreScannedWhenEveryOneIs) {
  const Config c = load(R"(namespaces:
  scan: all
  exclude: ["cni-*", blue]
  discover_every: 30s
reap:
  protect:
    - { local_port: 22 }
policies:
  - name: pods
    match: { local_port: 2181, namespaces: ["pod:*", "net:[4026532174]"] }
    dead_when: { silent_for: 1m }
  - name: rest
    match: { local_port: 2181 }
    dead_when: { silent_for: 1h }
)");
  EXPECT_EQ(describe(c),
            "Every 10s tcpreap scans TCP sockets and reaps dead connections with method auto (SOCK_DESTROY, or an "
            "injected RST where the kernel cannot destroy), at most 100 per scan and 1000 per minute. It scans every "
            "network namespace on the host but those matching 'cni-*' or 'blue', a new one within 30s; the caps count "
            "across them all, per-peer limits within each, and protect rules apply in every one. It never touches "
            "sockets with local port 22. Policies are tried in order; the first whose match fits a socket decides. "
            "Policy 'pods' decides, in the namespaces matching 'pod:*' or 'net:[4026532174]', for established sockets "
            "with local port 2181: a connection is dead once it has been silent for 1m, and is reaped on the first "
            "scan it looks dead. Policy 'rest' decides for established sockets with local port 2181: a connection is "
            "dead once it has been silent for 1h, and is reaped on the first scan it looks dead.");
}

TEST(ConfigSummary, SaysNothingOfNamespacesWhenOnlyTheHostIsScanned) {
  const Config c = load(R"(namespaces:
  scan: host
  exclude: ["cni-*"]
  discover_every: 1m
policies:
  - name: a
    match: { namespaces: host }
    dead_when: { silent_for: 1m }
)");
  EXPECT_EQ(describe(c),
            "Every 10s tcpreap scans TCP sockets and reaps dead connections with method auto (SOCK_DESTROY, or an "
            "injected RST where the kernel cannot destroy), at most 100 per scan and 1000 per minute. Nothing is "
            "protected. Policy 'a' decides, in the namespaces matching 'host', for established sockets: a connection is "
            "dead once it has been silent for 1m, and is reaped on the first scan it looks dead.");
}

TEST(ConfigSummary, SaysEveryNamespaceWhenNoneIsExcluded) {
  const Config c = load("namespaces: { scan: all }\npolicies:\n  - { name: a, match: {}, dead_when: { silent_for: 1m } }\n");
  EXPECT_EQ(describe(c),
            "Every 10s tcpreap scans TCP sockets and reaps dead connections with method auto (SOCK_DESTROY, or an "
            "injected RST where the kernel cannot destroy), at most 100 per scan and 1000 per minute. It scans every "
            "network namespace on the host, a new one within 10s; the caps count across them all, per-peer limits "
            "within each, and protect rules apply in every one. Nothing is protected. Policy 'a' decides for "
            "established sockets: a connection is dead once it has been silent for 1m, and is reaped on the first "
            "scan it looks dead.");
}

}  // namespace
}  // namespace tcpreap
