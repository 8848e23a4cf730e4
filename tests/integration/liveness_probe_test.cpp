// Liveness probes on the real kernel. A server namespace holds connections
// from one client host: some peers are dead (the client host silently drops
// exactly their ports), others are alive but completely idle (no traffic, no
// keepalive) - from the very same client address. Silence cannot tell them
// apart; a probe can:
//  - the prober alone: a live idle peer answers (kAnswered) and the socket's
//    last_ack_recv is refreshed; a dead one does not (kSent); a peer that
//    rebooted answers RST and the kernel closes the socket; an on-link peer
//    whose neighbour entry FAILED is probed through a temporary entry and
//    counts as unanswered, never as an error;
//  - the whole cycle (scan, decide, probe, reap) every second: under a policy
//    with `verify` every dead connection is reaped within silent_for +
//    probes x interval + 2 scans and no live one is touched; under the same
//    policy without `verify` the live idle ones are reaped too - which is why
//    `verify` exists.

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "config/config_loader.h"
#include "cycle/reap_cycle.h"
#include "support/command.h"
#include "support/netns.h"
#include "support/peer_hosts.h"
#include "support/privileges.h"
#include "support/scan.h"
#include "support/tcp.h"
#include "support/temp_file.h"
#include "verify/liveness_prober.h"

#ifndef TCPREAP_BIN
#error "TCPREAP_BIN (the path of the built tcpreap) must be defined"
#endif

namespace tcpreap::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Conn = PeerConn;


class LivenessTest : public PeerHostsTest {
 protected:
  // The peers of `conns` reboot: their sockets vanish without a word (the
  // RST of the abortive close is dropped), then the host answers again -
  // with an RST to anything of those connections.
  void reboot_peers(std::vector<Conn*> conns) {
    std::string ports;
    for (Conn* c : conns) ports += (ports.empty() ? "" : ", ") + std::to_string(c->client_port);
    hosts_->client_ns().nft("table inet trpboot {\n"
                            "  chain out { type filter hook output priority -300; tcp sport { " + ports + " } drop; }\n"
                            "}\n");
    for (Conn* c : conns) c->client.reset();  // SO_LINGER 0: an RST, dropped
    hosts_->client_ns().nft("delete table inet trpboot\n");
  }

  TcpSocket dumped(const Conn& c) {
    ScopedNetns in(hosts_->server());
    return socket_of(*scanner_, c.server.get());
  }

  std::vector<ProbeOutcome> probe(const std::vector<const Conn*>& conns) {
    std::vector<TcpSocket> sockets;
    for (const Conn* c : conns) sockets.push_back(dumped(*c));
    ScopedNetns in(hosts_->server());
    auto prober = LivenessProber::open();
    if (!prober) throw std::runtime_error(prober.error().message());
    return prober->probe(sockets);
  }

  Config config(const std::string& yaml) {
    ConfigLoad load = load_config_text(yaml, "test.yaml");
    if (!load.config) {
      std::string errors;
      for (const auto& e : load.errors) errors += e.to_string() + "\n";
      throw std::runtime_error("config: " + errors);
    }
    return std::move(*load.config);
  }

  std::string neighbour_of_client(bool v6) const {
    return run_checked({"ip", "-n", hosts_->server(), "neigh", "show", v6 ? TestHosts::kClient6 : TestHosts::kClient4,
                        "dev", hosts_->server()})
        .out;
  }

};

TEST_F(LivenessTest, LiveIdlePeerAnswersDeadOneDoesNot) {
  Conn live4 = connect(false), live6 = connect(true), dead4 = connect(false), dead6 = connect(true);
  kill_peers({&dead4, &dead6});
  std::this_thread::sleep_for(1500ms);  // long enough silence to see last_ack_recv fall
  const uint32_t silent_before = dumped(live4).info->last_ack_recv_ms.value_or(0);
  ASSERT_GE(silent_before, 1000u);

  auto outcomes = probe({&live4, &live6, &dead4, &dead6});
  ASSERT_EQ(outcomes.size(), 4u);
  for (size_t i = 0; i < 2; ++i)
    EXPECT_EQ(outcomes[i].result, ProbeResult::kAnswered) << i << ": " << outcomes[i].detail;
  for (size_t i = 2; i < 4; ++i)
    EXPECT_EQ(outcomes[i].result, ProbeResult::kSent) << i << ": " << outcomes[i].detail;
  // The answer reached the socket as kernel keepalive's would.
  EXPECT_LT(dumped(live4).info->last_ack_recv_ms.value_or(UINT32_MAX), silent_before);
  EXPECT_LT(dumped(live6).info->last_ack_recv_ms.value_or(UINT32_MAX), silent_before);
  EXPECT_GE(dumped(dead4).info->last_ack_recv_ms.value_or(0), silent_before);
  // Probing touched nobody.
  for (Conn* c : {&live4, &live6, &dead4, &dead6}) EXPECT_TRUE(present(*c));
  expect_untouched(live4);
  expect_untouched(live6);
}

TEST_F(LivenessTest, RebootedPeerIsCleanedUpByItsOwnRstAfterOneProbe) {
  Conn boot4 = connect(false), boot6 = connect(true), live = connect(false);
  reboot_peers({&boot4, &boot6});
  ASSERT_TRUE(present(boot4));
  ASSERT_TRUE(present(boot6));

  auto outcomes = probe({&boot4, &boot6, &live});
  ASSERT_EQ(outcomes.size(), 3u);
  for (size_t i = 0; i < 2; ++i)
    EXPECT_EQ(outcomes[i].result, ProbeResult::kPeerReset) << i << ": " << outcomes[i].detail;
  EXPECT_EQ(outcomes[2].result, ProbeResult::kAnswered) << outcomes[2].detail;
  EXPECT_FALSE(present(boot4));
  EXPECT_FALSE(present(boot6));
  EXPECT_EQ(next_recv(boot4.server.get()), ECONNRESET);
  expect_untouched(live);
}

// The client host vanished and the server's neighbour entry for it FAILED:
// nothing reaches a device any more, the challenge ACK included. The prober
// pins a temporary entry, learns the sequence numbers, sends the probe (to
// nobody): unanswered, not an error; the entry is gone afterwards.
TEST_F(LivenessTest, OnLinkPeerWithFailedNeighbourCountsAsUnanswered) {
  for (const char* proto : {"ipv4", "ipv6"}) {
    const std::string parms = std::string("net.") + proto + ".neigh." + hosts_->server() + ".";
    run_checked({"ip", "netns", "exec", hosts_->server(), "sysctl", "-q", "-w", parms + "base_reachable_time_ms=500",
                 parms + "delay_first_probe_time=1", parms + "retrans_time_ms=200"});
  }
  Conn c4 = connect(false), c6 = connect(true);
  hosts_->make_client_vanish();
  // Something must want the neighbour for it to be probed and fail.
  const auto deadline = Clock::now() + 60s;  // bounds a broken kernel only
  for (bool v6 : {false, true}) {
    std::string neigh;
    while (Clock::now() < deadline && (neigh = neighbour_of_client(v6)).find("FAILED") == std::string::npos) {
      (void)run_command({"ip", "netns", "exec", hosts_->server(), "ping", "-c", "1", "-W", "1",
                         v6 ? TestHosts::kClient6 : TestHosts::kClient4});
    }
    ASSERT_NE(neigh.find("FAILED"), std::string::npos) << "neighbour entry never failed: " << neigh;
  }
  auto outcomes = probe({&c4, &c6});
  ASSERT_EQ(outcomes.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(outcomes[i].result, ProbeResult::kSent) << i << ": " << outcomes[i].detail;
    EXPECT_NE(outcomes[i].detail.find("pinned"), std::string::npos) << outcomes[i].detail;
  }
  EXPECT_TRUE(present(c4));
  EXPECT_TRUE(present(c6));
  for (bool v6 : {false, true}) {
    const std::string neigh = neighbour_of_client(v6);
    EXPECT_EQ(neigh.find("PERMANENT"), std::string::npos) << "the temporary entry is still there: " << neigh;
  }
}

// The acceptance scenario. Port 0: a policy that verifies; port 1: the same
// policy without `verify`. On each: dead and live idle peers of both
// families, the live ones from the same client address as the dead.
TEST_F(LivenessTest, VerifiedPolicyReapsOnlyTheDeadUnverifiedOneReapsTheIdleLiveToo) {
  constexpr int kSilentFor = 10, kProbes = 3, kInterval = 2;  // seconds
  // silent_for + probes x interval + 2 scan intervals, in 1 s scans.
  constexpr int kBoundScans = kSilentFor + kProbes * kInterval + 2;

  std::vector<Conn> conns;
  for (int which : {0, 1})
    for (bool v6 : {false, false, true})
      for (int dead = 0; dead < 2; ++dead) conns.push_back(connect(v6, which));
  // conns[i]: port i / 6, dead when i is odd.
  auto is_dead = [](size_t i) { return i % 2 == 1; };
  auto verified = [](size_t i) { return i < 6; };
  std::vector<Conn*> dead;
  for (size_t i = 0; i < conns.size(); ++i)
    if (is_dead(i)) dead.push_back(&conns[i]);
  kill_peers(dead);
  const std::string p0 = std::to_string(port_[0]), p1 = std::to_string(port_[1]);
  Config cfg = config(
      "scan: { interval: 1s }\n"
      "reap: { method: destroy }\n"
      "policies:\n"
      "  - name: verified\n"
      "    match: { local_ports: [" + p0 + "] }\n"
      "    dead_when: { silent_for: " + std::to_string(kSilentFor) + "s }\n"
      "    verify: { probes: " + std::to_string(kProbes) + ", interval: " + std::to_string(kInterval) + "s }\n"
      "  - name: unverified\n"
      "    match: { local_ports: [" + p1 + "] }\n"
      "    dead_when: { silent_for: " + std::to_string(kSilentFor) + "s }\n");

  std::optional<ReapCycle> cycle;
  {
    ScopedNetns in(hosts_->server());
    auto c = ReapCycle::open(std::move(cfg), {});
    ASSERT_TRUE(c) << c.error().message();
    cycle.emplace(std::move(*c));
  }
  std::map<uint64_t, int> reaped_at;             // cookie -> scan
  std::map<uint64_t, std::set<ProbeResult>> probed;  // cookie -> outcomes seen
  int scan = 0;
  for (; scan <= kBoundScans + 3; ++scan) {
    const auto started = Clock::now();
    auto result = cycle->run();
    ASSERT_TRUE(result) << result.error().message();
    for (const auto& p : result->probes) probed[(*result->entries)[p.entry].socket.cookie].insert(p.outcome.result);
    for (const auto& r : result->reaps) {
      EXPECT_EQ(r.outcome.result, ReapResult::kDone) << r.outcome.detail;
      reaped_at.emplace((*result->entries)[r.entry].socket.cookie, scan);
    }
    size_t settled = 0;
    for (size_t i = 0; i < conns.size(); ++i) settled += reaped_at.contains(conns[i].cookie) ? 1 : 0;
    if (settled == conns.size() - 3) break;  // all but the verified live ones
    std::this_thread::sleep_until(started + 1s);
  }
  std::printf("settled after %d scans (bound %d)\n", scan, kBoundScans);

  for (size_t i = 0; i < conns.size(); ++i) {
    Conn& c = conns[i];
    SCOPED_TRACE("connection " + std::to_string(i) + (c.v6 ? " IPv6" : " IPv4") + (is_dead(i) ? " dead" : " live") +
                 (verified(i) ? " verified" : " unverified"));
    if (is_dead(i) || !verified(i)) {
      ASSERT_TRUE(reaped_at.contains(c.cookie)) << "not reaped";
      EXPECT_LE(reaped_at[c.cookie], kBoundScans);
      EXPECT_FALSE(present(c));
      EXPECT_EQ(next_recv(c.server.get()), ECONNABORTED);
      if (verified(i)) {
        EXPECT_EQ(probed[c.cookie], std::set<ProbeResult>{ProbeResult::kSent}) << "every probe went unanswered";
      }
    } else {
      EXPECT_FALSE(reaped_at.contains(c.cookie)) << "a live connection was reaped";
      EXPECT_TRUE(present(c));
      EXPECT_TRUE(probed[c.cookie].contains(ProbeResult::kAnswered)) << "it was probed and answered";
      expect_untouched(c);
    }
  }
  const auto& counters = cycle->engine().probe_counters();
  std::printf("probes: sent %llu answered %llu unanswered %llu failed %llu\n",
              static_cast<unsigned long long>(counters.sent), static_cast<unsigned long long>(counters.answered),
              static_cast<unsigned long long>(counters.unanswered), static_cast<unsigned long long>(counters.failed));
  EXPECT_EQ(counters.failed, 0u);
  EXPECT_EQ(counters.peer_reset, 0u);
  EXPECT_EQ(counters.unanswered, 3u * kProbes);  // 3 dead under the verified policy, every probe
  EXPECT_GE(counters.answered, 3u);              // each live one at least once
  EXPECT_EQ(counters.sent, counters.unanswered + counters.answered);
}

// The operator's one-shot commands on the same kind of host: `list` shows
// where verification stands without sending anything; `reap --dry-run`
// probes and says what it would reap; `reap` probes, waits for the verdicts
// and reaps only the peers that never answered.
TEST_F(LivenessTest, OneShotCommandsVerifyBeforeReaping) {
  Conn live = connect(false), dead4 = connect(false), dead6 = connect(true);
  kill_peers({&dead4, &dead6});
  const TempFile cfg("reap: { method: destroy }\n"
                     "policies:\n"
                     "  - name: verified\n"
                     "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                     "    dead_when: { silent_for: 1s }\n"
                     "    verify: { probes: 2, interval: 1s }\n");
  std::this_thread::sleep_for(1500ms);
  auto tcpreap = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"ip", "netns", "exec", hosts_->server(), TCPREAP_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  };

  CommandResult list = tcpreap({"list", "--config", cfg.path(), "--only-matched"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  size_t verifying = 0;
  for (size_t at = 0; (at = list.out.find("verifying 0/2", at)) != std::string::npos; ++at) ++verifying;
  EXPECT_EQ(verifying, 3u) << list.out;
  EXPECT_NE(list.out.find("probe due"), std::string::npos) << list.out;

  CommandResult dry = tcpreap({"reap", "--config", cfg.path(), "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_NE(dry.out.find("answered: alive"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("dry run: 2 dead, would reap 2"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("2 probes unanswered"), std::string::npos) << dry.out;
  for (Conn* c : {&live, &dead4, &dead6}) EXPECT_TRUE(present(*c)) << "a dry run touched something";

  CommandResult reap = tcpreap({"reap", "--config", cfg.path()});
  EXPECT_EQ(reap.exit_code, 0) << reap.out << reap.err;
  std::printf("%s", reap.out.c_str());
  EXPECT_NE(reap.out.find("2 dead: 2 reaped (destroy 2, rst 0)"), std::string::npos) << reap.out;
  EXPECT_NE(reap.out.find("answered a probe (alive)"), std::string::npos) << reap.out;
  EXPECT_FALSE(present(dead4));
  EXPECT_FALSE(present(dead6));
  EXPECT_TRUE(present(live));
  expect_untouched(live);
}

}  // namespace
}  // namespace tcpreap::test
