#pragma once
// What the config loader's tests build their files from (config_loader_test,
// config_loader_rejects_test, config_file_test): the README's example and
// exactly the Config it loads into, one valid policy to complete a file whose
// point is elsewhere, and a load's diagnostics as text.

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_loader.h"

namespace tcpreap::testing {

// The README's example (with close-wait among the match's states, which
// its in_state_for needs).
inline constexpr const char* kExample = R"(scan:
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
inline constexpr const char* kPolicy = R"(policies:
  - name: a
    match: { local_port: 1 }
    dead_when: { silent_for: 1m }
)";

// The diagnostics of a load that must fail, as "file:line:column: message".
inline std::vector<std::string> errors_of(std::string_view yaml) {
  ConfigLoad l = load_config_text(yaml, "t.yaml");
  EXPECT_FALSE(l.config.has_value()) << "loaded:\n" << yaml;
  std::vector<std::string> out;
  for (const ConfigDiagnostic& d : l.errors) out.push_back(d.to_string());
  return out;
}

inline Config load_ok(std::string_view yaml) {
  ConfigLoad l = load_config_text(yaml, "t.yaml");
  for (const ConfigDiagnostic& d : l.errors) ADD_FAILURE() << d.to_string();
  EXPECT_TRUE(l.config.has_value());
  return l.config ? *l.config : Config{};
}

inline Cidr cidr(const char* text) { return *Cidr::parse(text); }

inline void expect_example(const Config& c, const std::string& source, int first_line) {
  using namespace std::chrono_literals;
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

// Appends a valid policies section after `head`.
inline std::string with_policy(const char* head) { return std::string(head) + kPolicy; }

// A single policy made of `body` (indented 4).
inline std::string policy(const char* body) { return std::string("policies:\n  - name: p\n") + body; }

}  // namespace tcpreap::testing
