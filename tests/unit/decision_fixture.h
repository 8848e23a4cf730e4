#pragma once
// What the decision tests build their cases from: Sock, a socket as a dump
// would show it (dead_rules_test, decision_engine_test,
// decision_engine_verify_test); policies and configs in a line; and Engine,
// a DecisionEngine driven in whole scans on a clock of its own.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "decide/decision_engine.h"

namespace tcpreap::testing {

// A socket as a dump would show it; times in ms.
struct Sock {
  uint64_t cookie = 1;
  const char* remote = "10.0.0.2";
  uint16_t local_port = 2181;
  uint16_t remote_port = 40000;
  TcpState state = TcpState::kEstablished;
  uint32_t last_data_recv = 100;
  uint32_t last_ack_recv = 100;
  uint32_t last_data_sent = 100;
  uint32_t unacked = 0;
  uint8_t probes = 0;
  uint8_t retransmits = 0;
  uint8_t backoff = 0;
  uint32_t rto_us = 204'000;
  bool info = true;

  TcpSocket make() const {
    TcpSocket s;
    s.remote = *IpAddress::parse(remote);
    s.family = s.remote.family;
    s.local = s.family == Family::kIPv4 ? *IpAddress::parse("10.0.0.1") : *IpAddress::parse("fd00::1");
    s.local_port = local_port;
    s.remote_port = remote_port;
    s.state = static_cast<uint8_t>(state);
    s.cookie = cookie;
    if (info) {
      TcpInfo ti;
      ti.last_data_recv_ms = last_data_recv;
      ti.last_ack_recv_ms = last_ack_recv;
      ti.last_data_sent_ms = last_data_sent;
      ti.unacked = unacked;
      ti.probes = probes;
      ti.retransmits = retransmits;
      ti.backoff = backoff;
      ti.rto_us = rto_us;
      s.info = ti;
    }
    return s;
  }
};

inline Policy policy(std::string name, DeadWhen dw, uint32_t confirm = 1) {
  Policy p;
  p.name = std::move(name);
  p.match.local_ports = {{2181, 2181}};
  p.match.states = StateSet::of(TcpState::kEstablished) | StateSet::of(TcpState::kCloseWait);
  p.dead_when = std::move(dw);
  p.confirm = confirm;
  return p;
}

inline DeadWhen silent(Duration d) {
  DeadWhen dw;
  dw.silent_for = d;
  return dw;
}

inline Config config_of(std::vector<Policy> policies) {
  Config c;
  c.policies = std::move(policies);
  return c;
}

// A DecisionEngine driven in whole scans, at times since a t0 of its own.
// A twin engine with Retain::kActionable (the daemon's) takes every scan,
// probe and reload too, and must decide the same: each case of the tests
// that use Engine checks both retentions.
class Engine {
 public:
  explicit Engine(Config c) : engine_(c), lean_(std::move(c)) { lean_.set_retain(DecisionEngine::Retain::kActionable); }
  // One scan at t0 + `at`; returns every socket's decision in input order.
  std::vector<Decision> scan(Duration at, const std::vector<Sock>& socks) {
    engine_.begin_scan(t0_ + at);
    lean_.begin_scan(t0_ + at);
    std::vector<std::optional<Decision>> now;
    for (const auto& s : socks) {
      now.push_back(engine_.observe(s.make()));
      EXPECT_EQ(lean_.observe(s.make()), now.back()) << "cookie " << s.cookie;
    }
    const auto& kept = engine_.finish_scan();
    std::vector<Decision> out;
    size_t k = 0;
    for (auto& d : now) out.push_back(d ? *d : kept.at(k++).decision);
    EXPECT_EQ(k, kept.size());
    expect_lean_agrees(kept);
    return out;
  }
  // What probing `cookie`'s peer gave, at t0 + `at`.
  void record(uint64_t cookie, ProbeResult r, Duration at) {
    engine_.record_probe(cookie, ProbeOutcome{r, 0, {}}, t0_ + at);
    lean_.record_probe(cookie, ProbeOutcome{r, 0, {}}, t0_ + at);
  }
  void reload(Config c) {
    engine_.reload(c);
    lean_.reload(std::move(c));
  }
  void override_confirm(std::optional<uint32_t> scans) {
    engine_.override_confirm(scans);
    lean_.override_confirm(scans);
  }
  // next_verify_due(), since t0.
  std::optional<Duration> due() const {
    auto t = engine_.next_verify_due();
    EXPECT_EQ(t, lean_.next_verify_due());
    if (!t) return std::nullopt;
    return std::chrono::duration_cast<Duration>(*t - t0_);
  }
  // The Retain::kAll engine; driving it directly leaves the twin behind.
  DecisionEngine& engine() { return engine_; }

 private:
  // The twin kept exactly the entries it must - every one that is not
  // alive, and every one of a policy with a per-peer limit - with the same
  // decisions, and remembers and counts the same.
  void expect_lean_agrees(const std::vector<DecisionEngine::Entry>& all) {
    const auto& lean = lean_.finish_scan();
    size_t k = 0;
    for (const auto& e : all) {
      const bool needed = e.decision.verdict != Verdict::kAlive ||
                          engine_.config().policies[static_cast<size_t>(e.decision.policy)].per_peer_limit;
      if (k < lean.size() && lean[k].socket.cookie == e.socket.cookie) {
        EXPECT_EQ(lean[k].decision, e.decision) << "cookie " << e.socket.cookie;
        ++k;
      } else {
        EXPECT_FALSE(needed) << "the lean engine dropped cookie " << e.socket.cookie;
      }
    }
    EXPECT_EQ(k, lean.size()) << "the lean engine kept entries the full one does not have";
    EXPECT_EQ(lean_.remembered(), engine_.remembered());
    const ProbeCounters& a = engine_.probe_counters();
    const ProbeCounters& b = lean_.probe_counters();
    EXPECT_EQ(std::tie(a.sent, a.answered, a.unanswered, a.peer_reset, a.failed),
              std::tie(b.sent, b.answered, b.unanswered, b.peer_reset, b.failed));
  }

  DecisionEngine engine_;
  DecisionEngine lean_;
  DecisionEngine::Clock::time_point t0_ = DecisionEngine::Clock::time_point() + std::chrono::hours(1);
};

// Nothing received for 200 s.
inline const Sock kSilent{.last_data_recv = 200'000, .last_ack_recv = 200'000};

// Silent for `ms`: nothing received, data or ACK.
inline Sock silent_since(uint64_t cookie, const char* remote, uint32_t ms) {
  return Sock{.cookie = cookie, .remote = remote, .last_data_recv = ms, .last_ack_recv = ms};
}

}  // namespace tcpreap::testing
