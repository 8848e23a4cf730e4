// `tcpreap list --config`, the operator's dry run, against real connections:
// a half-open connection silent longer than `silent_for` is dead, a live one
// that talks every half second is alive, and listing touches neither. Also
// `tcpreap check` on a good and a broken file.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "decide/decision_engine.h"
#include "diag/socket_scanner.h"
#include "support/command.h"
#include "support/busy_connection.h"
#include "support/netns.h"
#include "support/privileges.h"
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

TEST(ListVerdicts, SilentHalfOpenIsDeadTalkingPeerAliveAndNothingIsTouched) {
  TCPREAP_REQUIRE_ROOT();
  TestHosts hosts;
  // The dead peer is the client host, which vanishes; the live peer talks
  // over loopback inside the server's namespace, untouched by the vanishing.
  UniqueFd listener, dead_client, loop_client;
  std::optional<SocketScanner> scanner;
  {
    ScopedNetns in(hosts.server());
    listener = tcp_listen("0.0.0.0");
    scanner.emplace(open_scanner());
  }
  const uint16_t port = local_endpoint(listener.get()).port;
  {
    ScopedNetns in(hosts.client());
    dead_client = tcp_connect(TestHosts::kServer4, port);
  }
  UniqueFd dead_server = tcp_accept(listener.get());
  write_all(dead_client.get(), "hi");
  ASSERT_EQ(read_exact(dead_server.get(), 2), "hi");
  const uint16_t dead_port = remote_endpoint(dead_server.get()).port;
  {
    ScopedNetns in(hosts.server());
    loop_client = tcp_connect("127.0.0.1", port);
  }
  UniqueFd loop_server = tcp_accept(listener.get());

  hosts.make_client_vanish();
  dead_client.reset();  // its RST is dropped with everything else

  BusyConnection live(std::move(loop_client), std::move(loop_server), 500ms);

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
  auto before = scan_sockets(*scanner, query);
  ASSERT_EQ(before.size(), 2u) << "the half-open server end and the loopback server end";

  std::this_thread::sleep_for(2500ms);

  const std::vector<std::string> argv = {"ip", "netns", "exec", hosts.server(), TCPREAP_BIN, "list",
                                         "--config", config.path(), "--json", "--sport", std::to_string(port)};
  CommandResult r = run_command(argv);
  ASSERT_EQ(r.exit_code, 0) << r.describe(argv);
  std::map<std::string, std::string> verdict_by_remote, reason_by_remote;
  for (const auto& line : lines_of(r.out)) {
    const std::string remote = field(line, "remote_address");
    verdict_by_remote[remote] = field(line, "verdict");
    reason_by_remote[remote] = field(line, "reason");
    EXPECT_EQ(field(line, "policy"), "test-clients") << line;
  }
  EXPECT_EQ(verdict_by_remote[TestHosts::kClient4], "dead") << r.out;
  EXPECT_EQ(reason_by_remote[TestHosts::kClient4], "silent") << r.out;
  EXPECT_EQ(verdict_by_remote["127.0.0.1"], "alive") << r.out;
  EXPECT_EQ(reason_by_remote["127.0.0.1"], "null") << r.out;

  // --only-dead shows just the half-open one; the table says why.
  const std::vector<std::string> only_dead = {"ip", "netns", "exec", hosts.server(), TCPREAP_BIN, "list",
                                              "--config", config.path(), "--only-dead"};
  CommandResult table = run_command(only_dead);
  ASSERT_EQ(table.exit_code, 0) << table.describe(only_dead);
  auto rows = lines_of(table.out);
  ASSERT_EQ(rows.size(), 2u) << table.out;
  EXPECT_NE(rows[1].find(std::string(TestHosts::kClient4) + ":" + std::to_string(dead_port)), std::string::npos)
      << table.out;
  EXPECT_NE(rows[1].find("test-clients"), std::string::npos) << table.out;
  EXPECT_NE(rows[1].find("dead"), std::string::npos) << table.out;
  EXPECT_NE(rows[1].find("silent"), std::string::npos) << table.out;
  EXPECT_NE(rows[1].find(">= 2s"), std::string::npos) << table.out;

  // Two real scans a second apart: confirm 2 is met the honest way.
  const std::vector<std::string> confirmed = {"ip", "netns", "exec", hosts.server(), TCPREAP_BIN, "list",
                                              "--config", config.path(), "--only-dead", "--confirm-scans", "2",
                                              "--count"};
  CommandResult c2 = run_command(confirmed);
  ASSERT_EQ(c2.exit_code, 0) << c2.describe(confirmed);
  EXPECT_EQ(c2.out, "1\n");

  // Nothing was touched: both sockets are there with their cookies, the
  // live one still talks, and the half-open server end has no error.
  auto after = scan_sockets(*scanner, query);
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
  char b;
  EXPECT_EQ(::recv(dead_server.get(), &b, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN) << "the half-open server end saw no error and no EOF";
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

}  // namespace
}  // namespace tcpreap::test

namespace tcpreap::test {
namespace {

// Data sent into a vanished peer: the engine finds it unacknowledged once the
// retransmission timeouts alone prove it waited `unacked_for` - while a busy
// live connection under the same policy never even looks suspect.
TEST(EngineOnTheKernel, DataRetransmittedIntoAVanishedPeerIsUnackedLiveDataIsNot) {
  TCPREAP_REQUIRE_ROOT();
  TestHosts hosts;
  UniqueFd listener, dead_client, loop_client;
  std::optional<SocketScanner> scanner;
  {
    ScopedNetns in(hosts.server());
    listener = tcp_listen("0.0.0.0");
    scanner.emplace(open_scanner());
  }
  const uint16_t port = local_endpoint(listener.get()).port;
  {
    ScopedNetns in(hosts.client());
    dead_client = tcp_connect(TestHosts::kServer4, port);
  }
  UniqueFd dead_server = tcp_accept(listener.get());
  {
    ScopedNetns in(hosts.server());
    loop_client = tcp_connect("127.0.0.1", port);
  }
  UniqueFd loop_server = tcp_accept(listener.get());
  hosts.make_client_vanish();
  dead_client.reset();
  write_all(dead_server.get(), std::string(1000, 'x'));  // retransmitted into the void from now on

  Config config;
  Policy p;
  p.name = "test";
  p.match.local_ports = {{port, port}};
  p.match.states = StateSet::of(TcpState::kEstablished);
  p.dead_when.unacked_for = std::chrono::seconds(5);
  config.policies = {p};
  DecisionEngine engine(config);
  const ScanQuery query = compile_query(config.scan_filter());

  std::optional<Decision> dead_verdict;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 40s && !dead_verdict) {
    // The live connection: a request and its answer between scans.
    write_all(loop_client.get(), "ping");
    ASSERT_EQ(read_exact(loop_server.get(), 4), "ping");
    write_all(loop_server.get(), "pong");
    ASSERT_EQ(read_exact(loop_client.get(), 4), "pong");

    engine.begin_scan(DecisionEngine::Clock::now());
    for (const auto& s : scan_sockets(*scanner, query)) {
      if (auto d = engine.observe(s)) ADD_FAILURE() << "decided at once: " << verdict_name(d->verdict);
    }
    for (const auto& e : engine.finish_scan()) {
      if (e.socket.remote.to_string() == "127.0.0.1") {
        EXPECT_EQ(e.decision.verdict, Verdict::kAlive) << "the live connection, " << reason_name(e.decision.reason);
      } else if (e.decision.verdict == Verdict::kDead) {
        dead_verdict = e.decision;
      }
    }
    std::this_thread::sleep_for(500ms);
  }
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(dead_verdict) << "the half-open connection was never found dead";
  EXPECT_EQ(dead_verdict->reason, DeadReason::kUnacked);
  EXPECT_GE(dead_verdict->figures.unacked_for_ms, 5'000u);
  EXPECT_GT(dead_verdict->figures.retransmits, 0);
  // Never before the data had really waited that long.
  EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count(), 5'000);
}

}  // namespace
}  // namespace tcpreap::test
