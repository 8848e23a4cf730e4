// `tcpreap list --config`, the operator's dry run, against real connections
// from the client host of PeerHostsTest: a half-open connection whose peer
// died silently and which stayed silent longer than `silent_for` is dead, a
// live one from the same host that talks every half second is alive, and
// listing touches neither. The decision engine on the same kernel finds
// data retransmitted into a dead peer unacknowledged. Also `tcpreap check`
// on a good and a broken file.

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "decide/decision_engine.h"
#include "diag/socket_scanner.h"
#include "support/busy_connection.h"
#include "support/command.h"
#include "support/netns.h"
#include "support/peer_hosts.h"
#include "support/scan.h"
#include "support/tcp.h"
#include "support/temp_file.h"

#ifndef TCPREAP_BIN
#error "TCPREAP_BIN (the path of the built tcpreap) must be defined"
#endif

namespace tcpreap::test {
namespace {

using namespace std::chrono_literals;

// The value of "key" in one flat JSON line, as text ("dead", "2181", "null").
std::string field(const std::string& line, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  auto at = line.find(k);
  if (at == std::string::npos) return "<missing>";
  at += k.size();
  if (line[at] == '"') return line.substr(at + 1, line.find('"', at + 1) - at - 1);
  return line.substr(at, line.find_first_of(",}", at) - at);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    out.push_back(text.substr(start, end - start));
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}

class ListVerdicts : public PeerHostsTest {};

TEST_F(ListVerdicts, SilentHalfOpenIsDeadTalkingPeerAliveAndNothingIsTouched) {
  // Both from the client host to server port 0; only the dead one's peer
  // goes silent, and the live one keeps talking on a thread.
  PeerConn dead = connect(false), talking = connect(false);
  kill_peers({&dead});
  const std::string dead_port = std::to_string(dead.client_port), live_port = std::to_string(talking.client_port);
  BusyConnection live(std::move(talking.client), std::move(talking.server), 500ms);
  const uint16_t port = port_[0];

  const TempFile config(
      "scan:\n"
      "  interval: 1s\n"
      "policies:\n"
      "  - name: test-clients\n"
      "    match:\n"
      "      local_ports: [" + std::to_string(port) + "]\n"
      "    dead_when:\n"
      "      silent_for: 2s\n"
      "    confirm: 2\n");

  SocketFilter est;
  est.states = StateSet::of(TcpState::kEstablished);
  est.all_of = {{Condition::local_port({port, port})}};
  const ScanQuery query = compile_query(est);
  auto before = scan_sockets(*scanner_, query);
  ASSERT_EQ(before.size(), 2u) << "the server ends of the dead and the live connection";

  std::this_thread::sleep_for(2500ms);

  const std::vector<std::string> argv = {"ip", "netns", "exec", hosts_->server(), TCPREAP_BIN, "list",
                                         "--config", config.path(), "--json", "--sport", std::to_string(port)};
  CommandResult r = run_command(argv);
  ASSERT_EQ(r.exit_code, 0) << r.describe(argv);
  // Both connections are listed, each once, and nothing else.
  std::map<std::string, std::string> verdict_by_port, reason_by_port;
  for (const auto& line : lines_of(r.out)) {
    const std::string remote_port = field(line, "remote_port");
    EXPECT_EQ(field(line, "remote_address"), TestHosts::kClient4) << line;
    EXPECT_EQ(field(line, "policy"), "test-clients") << line;
    EXPECT_FALSE(verdict_by_port.contains(remote_port)) << "listed twice: " << line;
    verdict_by_port[remote_port] = field(line, "verdict");
    reason_by_port[remote_port] = field(line, "reason");
  }
  ASSERT_EQ(verdict_by_port.size(), 2u) << r.out;
  ASSERT_TRUE(verdict_by_port.contains(dead_port)) << "the dead connection is not listed:\n" << r.out;
  ASSERT_TRUE(verdict_by_port.contains(live_port)) << "the live connection is not listed:\n" << r.out;
  EXPECT_EQ(verdict_by_port[dead_port], "dead") << r.out;
  EXPECT_EQ(reason_by_port[dead_port], "silent") << r.out;
  EXPECT_EQ(verdict_by_port[live_port], "alive") << r.out;
  EXPECT_EQ(reason_by_port[live_port], "null") << r.out;

  // --only-dead shows just the half-open one; the table says why.
  const std::vector<std::string> only_dead = {"ip", "netns", "exec", hosts_->server(), TCPREAP_BIN, "list",
                                              "--config", config.path(), "--only-dead"};
  CommandResult table = run_command(only_dead);
  ASSERT_EQ(table.exit_code, 0) << table.describe(only_dead);
  auto rows = lines_of(table.out);
  ASSERT_EQ(rows.size(), 2u) << table.out;
  EXPECT_NE(rows[1].find(std::string(TestHosts::kClient4) + ":" + dead_port), std::string::npos) << table.out;
  EXPECT_NE(rows[1].find("test-clients"), std::string::npos) << table.out;
  EXPECT_NE(rows[1].find("dead"), std::string::npos) << table.out;
  EXPECT_NE(rows[1].find("silent"), std::string::npos) << table.out;
  EXPECT_NE(rows[1].find(">= 2s"), std::string::npos) << table.out;

  // Two real scans a second apart: confirm 2 is met the honest way.
  const std::vector<std::string> confirmed = {"ip", "netns", "exec", hosts_->server(), TCPREAP_BIN, "list",
                                              "--config", config.path(), "--only-dead", "--confirm-scans", "2",
                                              "--count"};
  CommandResult c2 = run_command(confirmed);
  ASSERT_EQ(c2.exit_code, 0) << c2.describe(confirmed);
  EXPECT_EQ(c2.out, "1\n");

  // Nothing was touched: both sockets are there with their cookies, the
  // live one still talks, and the half-open server end has no error.
  auto after = scan_sockets(*scanner_, query);
  ASSERT_EQ(after.size(), 2u);
  std::set<uint64_t> cookies_before, cookies_after;
  for (const auto& s : before) cookies_before.insert(s.cookie);
  for (const auto& s : after) cookies_after.insert(s.cookie);
  EXPECT_EQ(cookies_before, cookies_after);
  const uint64_t exchanged = live.rounds();
  std::this_thread::sleep_for(1200ms);
  EXPECT_GT(live.rounds(), exchanged) << "the live connection stopped talking";
  live.stop();
  EXPECT_EQ(live.error(), "");
  EXPECT_EQ(next_recv(dead.server.get(), 0), EAGAIN) << "the half-open server end saw no error and no EOF";
}

TEST(CheckCommand, ValidSaysWhatItWillDoInvalidExits78WithTheLocation) {
  const TempFile good(
      "policies:\n"
      "  - name: zk\n"
      "    match: { local_ports: [2181] }\n"
      "    dead_when: { silent_for: 2m }\n");
  CommandResult ok = run_command({TCPREAP_BIN, "check", "--config", good.path()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("is valid"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("zk"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("2181"), std::string::npos) << ok.out;

  const TempFile bad(
      "policies:\n"
      "  - name: zk\n"
      "    match: { local_ports: [2181] }\n"
      "    dead_when: { silent_fro: 2m }\n");
  CommandResult no = run_command({TCPREAP_BIN, "check", "--config", bad.path()});
  EXPECT_EQ(no.exit_code, 78);
  EXPECT_EQ(no.out, "");
  EXPECT_NE(no.err.find(bad.path() + ":4:18:"), std::string::npos) << no.err;
  EXPECT_NE(no.err.find("silent_for"), std::string::npos) << no.err;

  CommandResult missing = run_command({TCPREAP_BIN, "check", "--config", "/nonexistent/tcpreap.yaml"});
  EXPECT_EQ(missing.exit_code, 78);
  EXPECT_NE(missing.err.find("/nonexistent/tcpreap.yaml"), std::string::npos) << missing.err;

  // list refuses a broken config the same way, before scanning anything.
  CommandResult list = run_command({TCPREAP_BIN, "list", "--config", bad.path()});
  EXPECT_EQ(list.exit_code, 78);
  EXPECT_EQ(list.out, "");

  CommandResult usage = run_command({TCPREAP_BIN, "list", "--only-dead"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("need --config"), std::string::npos) << usage.err;
}

class EngineOnTheKernel : public PeerHostsTest {};

// Data sent into a dead peer: the engine finds it unacknowledged once the
// retransmission timeouts alone prove it waited `unacked_for` - while a busy
// live connection from the same host, under the same policy, is in every
// scan and never even looks suspect.
TEST_F(EngineOnTheKernel, DataRetransmittedIntoAVanishedPeerIsUnackedLiveDataIsNot) {
  PeerConn dead = connect(false), live = connect(false);
  kill_peers({&dead});
  write_all(dead.server.get(), std::string(1000, 'x'));  // retransmitted into the void from now on

  Config config;
  Policy p;
  p.name = "test";
  p.match.local_ports = {{port_[0], port_[0]}};
  p.match.states = StateSet::of(TcpState::kEstablished);
  p.dead_when.unacked_for = std::chrono::seconds(5);
  config.policies = {p};
  DecisionEngine engine(config);
  const ScanQuery query = compile_query(config.scan_filter());

  std::optional<Decision> dead_verdict;
  int scans = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 40s && !dead_verdict) {
    // The live connection: a request and its answer between scans.
    write_all(live.client.get(), "ping");
    ASSERT_EQ(read_exact(live.server.get(), 4), "ping");
    write_all(live.server.get(), "pong");
    ASSERT_EQ(read_exact(live.client.get(), 4), "pong");

    ++scans;
    engine.begin_scan(DecisionEngine::Clock::now());
    for (const auto& s : scan_sockets(*scanner_, query)) {
      if (auto d = engine.observe(s)) ADD_FAILURE() << "decided at once: " << verdict_name(d->verdict);
    }
    bool live_seen = false, dead_seen = false;
    for (const auto& e : engine.finish_scan()) {
      if (e.socket.cookie == live.cookie) {
        live_seen = true;
        EXPECT_EQ(e.decision.verdict, Verdict::kAlive) << "the live connection, " << reason_name(e.decision.reason);
      } else if (e.socket.cookie == dead.cookie) {
        dead_seen = true;
        if (e.decision.verdict == Verdict::kDead) dead_verdict = e.decision;
      } else {
        ADD_FAILURE() << "a socket of neither connection: " << e.socket.remote.to_string() << ":"
                      << e.socket.remote_port;
      }
    }
    ASSERT_TRUE(live_seen) << "scan " << scans << " did not list the live connection";
    ASSERT_TRUE(dead_seen) << "scan " << scans << " did not list the half-open connection";
    std::this_thread::sleep_for(500ms);
  }
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(dead_verdict) << "the half-open connection was never found dead in " << scans << " scans";
  EXPECT_EQ(dead_verdict->reason, DeadReason::kUnacked);
  EXPECT_GE(dead_verdict->figures.unacked_for_ms, 5'000u);
  EXPECT_GT(dead_verdict->figures.retransmits, 0);
  // Never before the data had really waited that long.
  EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count(), 5'000);
}

}  // namespace
}  // namespace tcpreap::test
