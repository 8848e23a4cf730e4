// What the daemon says about a turn: the lines on its log (as stderr shows
// them; their format is event_log_test's), the metrics a scrape reads back,
// the owner lookups it asks for, and STATUS=. Turns are built by hand as
// ReapCycle::run() would give them.

#include "log/turn_reporter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace tcpreap {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// A FILE* in memory; lines() is everything written so far.
class MemStream {
 public:
  MemStream() : file_(::open_memstream(&buf_, &len_)) {}
  ~MemStream() {
    std::fclose(file_);
    std::free(buf_);
  }
  MemStream(const MemStream&) = delete;
  MemStream& operator=(const MemStream&) = delete;
  std::FILE* file() const { return file_; }
  std::vector<std::string> lines() {
    std::fflush(file_);
    std::vector<std::string> out;
    std::istringstream in(std::string(buf_, len_));
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  // The lines since the last call.
  std::vector<std::string> new_lines() {
    auto all = lines();
    std::vector<std::string> out(all.begin() + static_cast<std::ptrdiff_t>(seen_), all.end());
    seen_ = all.size();
    return out;
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  std::FILE* file_;
  size_t seen_ = 0;
};

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

// Whether any sample (not a comment) starts with `prefix`.
bool has_sample_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty() && l[0] != '#' && l.rfind(prefix, 0) == 0) return true;
  return false;
}

// Policy 0 "web" reaps on unacked data; policy 1 "zk" on silence, verified.
Config config() {
  Config c;
  Policy web;
  web.name = "web";
  web.dead_when.unacked_for = 60s;
  Policy zk;
  zk.name = "zk";
  zk.dead_when.silent_for = 2min;
  zk.per_peer_limit = PerPeerLimit{10, 30s};
  zk.verify = Verify{};
  c.policies = {web, zk};
  return c;
}

TcpSocket socket_n(uint16_t n) {
  TcpSocket s;
  s.local = *IpAddress::parse("10.0.0.1");
  s.local_port = 2181;
  s.remote = *IpAddress::parse("10.0.0.2");
  s.remote_port = static_cast<uint16_t>(40000 + n);
  s.inode = 1000u + n;
  s.cookie = 5000u + n;
  return s;
}

Decision decision(Verdict v, int policy) {
  Decision d;
  d.verdict = v;
  d.policy = policy;
  d.reason = policy == 0 ? DeadReason::kUnacked : DeadReason::kSilent;
  d.threshold = policy == 0 ? Duration(60s) : Duration(2min);
  d.figures.last_recv_ms = 200'000;
  return d;
}

ReapOutcome outcome(ReapResult result, ReapVia via, int errnum = 0) {
  ReapOutcome o;
  o.result = result;
  o.via = via;
  o.errnum = errnum;
  return o;
}

ProbeOutcome probe(ProbeResult result, int errnum = 0) {
  ProbeOutcome o;
  o.result = result;
  o.errnum = errnum;
  return o;
}

// A TurnReporter on a log to memory (journald and the clock replaced), real
// metrics, and an owner lookup that knows socket 1's owner and records what
// it is asked.
struct Harness {
  explicit Harness(bool verbose = false)
      : log(LogTarget::kStderr, err.file(), verbose, EventLogSeams{{}, [] { return std::chrono::steady_clock::time_point(1000h); }}),
        reporter(log, metrics, [this](std::span<const uint64_t> inodes) {
          asked.emplace_back(inodes.begin(), inodes.end());
          std::unordered_map<uint64_t, SocketOwner> found;
          for (uint64_t i : inodes)
            if (i == socket_n(1).inode) found[i] = SocketOwner{4242, "zookeeper"};
          return found;
        }) {}

  // The stderr line the log writes for a reap (nullptr: would-reap) or a probe.
  std::string reap_line(const DecisionEngine::Entry& e, const ReapOutcome* o) const {
    const auto owner = e.socket.inode == socket_n(1).inode ? std::optional(SocketOwner{4242, "zookeeper"}) : std::nullopt;
    return "tcpreapd: " + EventLog::reap_record(e.socket, e.decision, cfg, o, owner).message;
  }
  std::string probe_line(const DecisionEngine::Entry& e, const ProbeOutcome& o) const {
    return "tcpreapd: " + EventLog::probe_record(e.socket, e.decision, cfg, o).message;
  }

  void turn(const CycleResult& r, uint64_t sockets = 10, double seconds = 0.012, ProbeCounters probes = {},
            std::optional<std::string> notice = std::nullopt) {
    reporter.turn_succeeded(r, cfg, probes, sockets, seconds, notice);
  }

  Config cfg = config();
  MemStream err;
  EventLog log;
  DaemonMetrics metrics{"1.2.3", "abc"};
  std::vector<std::vector<uint64_t>> asked;
  TurnReporter reporter;
};

// A dry run's turn finding `dead` (socket numbers) dead, all of policy zk.
struct DryTurn {
  explicit DryTurn(std::initializer_list<uint16_t> dead) {
    for (uint16_t n : dead) {
      result.would_reap.push_back(entries.size());
      entries.push_back({socket_n(n), decision(Verdict::kDead, 1)});
    }
    result.entries = &entries;
  }
  std::vector<DecisionEngine::Entry> entries;
  CycleResult result;
};

TEST(TurnReporter, DeclaresTheSeriesOfEachPolicysReasonsAndProbes) {
  Harness h;
  h.reporter.declare_policies(h.cfg);
  const std::string text = h.metrics.text();
  for (const char* line : {
           R"(tcpreap_reaped_connections_total{method="destroy",policy="web",reason="unacked"} 0)",
           R"(tcpreap_reaped_connections_total{method="rst",policy="web",reason="unacked"} 0)",
           R"(tcpreap_would_reap_connections_total{policy="web",reason="unacked"} 0)",
           R"(tcpreap_reaped_connections_total{method="destroy",policy="zk",reason="silent"} 0)",
           R"(tcpreap_reaped_connections_total{method="rst",policy="zk",reason="per-peer-limit"} 0)",
           R"(tcpreap_would_reap_connections_total{policy="zk",reason="per-peer-limit"} 0)",
           R"(tcpreap_probes_deferred_total{policy="zk"} 0)",
       })
    EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
  EXPECT_FALSE(has_sample_starting(text, R"(tcpreap_reaped_connections_total{method="destroy",policy="web",reason="silent"})"));
  EXPECT_FALSE(has_sample_starting(text, R"(tcpreap_would_reap_connections_total{policy="zk",reason="unacked"})"));
  EXPECT_FALSE(has_sample_starting(text, R"(tcpreap_probes_deferred_total{policy="web"})")) << "web does not verify";
  EXPECT_THAT(h.err.lines(), IsEmpty());
}

TEST(TurnReporter, EachReapIsALineWithItsOwnerAndOnlyDoneOnesCountAsReaped) {
  Harness h;
  std::vector<DecisionEngine::Entry> entries = {
      {socket_n(0), decision(Verdict::kAlive, 1)},  // not acted on: no line
      {socket_n(1), decision(Verdict::kDead, 1)},
      {socket_n(2), decision(Verdict::kDead, 1)},
      {socket_n(3), decision(Verdict::kDead, 0)},
      {socket_n(4), decision(Verdict::kDead, 0)},
  };
  CycleResult r;
  r.entries = &entries;
  r.reaps = {{1, outcome(ReapResult::kDone, ReapVia::kDestroy)},
             {2, outcome(ReapResult::kDone, ReapVia::kRst)},
             {3, outcome(ReapResult::kAlreadyGone, ReapVia::kDestroy, ENOENT)},
             {4, outcome(ReapResult::kNotPermitted, ReapVia::kDestroy, EPERM)}};
  h.turn(r);

  EXPECT_THAT(h.err.lines(), ElementsAre(h.reap_line(entries[1], &r.reaps[0].outcome),
                                         h.reap_line(entries[2], &r.reaps[1].outcome),
                                         h.reap_line(entries[3], &r.reaps[2].outcome),
                                         h.reap_line(entries[4], &r.reaps[3].outcome)));
  EXPECT_NE(h.err.lines()[0].find("(pid 4242 zookeeper)"), std::string::npos) << h.err.lines()[0];
  // The owners of every acted-on connection, in one lookup.
  EXPECT_THAT(h.asked, ElementsAre(ElementsAre(1001u, 1002u, 1003u, 1004u)));

  const std::string text = h.metrics.text();
  EXPECT_TRUE(has_line(text, R"(tcpreap_reaped_connections_total{method="destroy",policy="zk",reason="silent"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_reaped_connections_total{method="rst",policy="zk",reason="silent"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_reap_errors_total{error="not-permitted",method="destroy"} 1)")) << text;
  // Already gone is neither reaped by us nor a failure.
  EXPECT_FALSE(has_sample_starting(text, R"(tcpreap_reaped_connections_total{method="destroy",policy="web")")) << text;
  EXPECT_FALSE(has_sample_starting(text, R"(tcpreap_reap_errors_total{error="already-gone")")) << text;
  EXPECT_FALSE(has_sample_starting(text, "tcpreap_would_reap_connections_total{")) << text;
  EXPECT_EQ(h.reporter.status_line(false), "last scan: 10 sockets in 12 ms, 0 suspect, 0 verifying; 2 reaped");
}

TEST(TurnReporter, DeadHeldBackAreCountedPerPolicyButSayNothing) {
  Harness h;
  std::vector<DecisionEngine::Entry> entries = {
      {socket_n(1), decision(Verdict::kDead, 1)},
      {socket_n(2), decision(Verdict::kDead, 1)},
      {socket_n(3), decision(Verdict::kDead, 0)},
  };
  CycleResult r;
  r.entries = &entries;
  r.held_back = {0, 1, 2};
  h.turn(r);
  EXPECT_THAT(h.err.lines(), IsEmpty());
  EXPECT_THAT(h.asked, IsEmpty()) << "no owner is looked up for what is not acted on";
  const std::string text = h.metrics.text();
  EXPECT_TRUE(has_line(text, R"(tcpreap_dead_connections_held_back_total{policy="zk"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_dead_connections_held_back_total{policy="web"} 1)")) << text;
  EXPECT_FALSE(has_sample_starting(text, "tcpreap_reaped_connections_total{")) << text;
}

// Each probe is a line, but an answered one only with --verbose (debug): a
// turn that verifies 100 000 live peers writes one summary line, not 100 000.
TEST(TurnReporter, EachProbeIsALineAndTheEnginesTotalsAreExported) {
  for (bool verbose : {false, true}) {
  SCOPED_TRACE(verbose ? "verbose" : "default");
  Harness h(verbose);
  Decision deferred = decision(Verdict::kVerifying, 1);
  deferred.probe.deferred = true;
  std::vector<DecisionEngine::Entry> entries = {
      {socket_n(1), decision(Verdict::kVerifying, 1)},
      {socket_n(2), decision(Verdict::kVerifying, 1)},
      {socket_n(3), decision(Verdict::kVerifying, 1)},
      {socket_n(4), deferred},
      {socket_n(5), decision(Verdict::kSuspect, 0)},
  };
  CycleResult r;
  r.entries = &entries;
  r.probes = {{0, probe(ProbeResult::kSent)}, {1, probe(ProbeResult::kAnswered)}, {2, probe(ProbeResult::kFailed, EPERM)}};
  h.turn(r, 10, 0.012, ProbeCounters{.sent = 7, .answered = 3, .unanswered = 2, .peer_reset = 1, .failed = 4});

  std::vector<std::string> expected = {h.probe_line(entries[0], r.probes[0].outcome)};
  if (verbose) expected.push_back(h.probe_line(entries[1], r.probes[1].outcome));
  expected.push_back(h.probe_line(entries[2], r.probes[2].outcome));
  expected.push_back("tcpreapd: probed 3 peers: 1 sent, 1 answered, 1 failed");
  std::vector<std::string> lines = h.err.lines();
  if (verbose && !lines.empty()) lines.pop_back();  // the turn's debug line
  EXPECT_THAT(lines, ::testing::ElementsAreArray(expected));
  EXPECT_THAT(h.asked, IsEmpty());
  const std::string text = h.metrics.text();
  for (const char* line : {
           "tcpreap_probes_sent_total 7",
           "tcpreap_probes_answered_total 3",
           "tcpreap_probes_unanswered_total 2",
           "tcpreap_probes_peer_reset_total 1",
           "tcpreap_probe_errors_total 4",
           R"(tcpreap_probes_deferred_total{policy="zk"} 1)",
           // Every policy, 0 where it has none.
           R"(tcpreap_verifying_connections{policy="zk"} 4)",
           R"(tcpreap_verifying_connections{policy="web"} 0)",
           R"(tcpreap_suspect_connections{policy="web"} 1)",
           R"(tcpreap_suspect_connections{policy="zk"} 0)",
       })
    EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
  EXPECT_EQ(h.reporter.status_line(false), "last scan: 10 sockets in 12 ms, 1 suspect, 4 verifying; 0 reaped");
  }
}

TEST(TurnReporter, ADryRunsDeadAreSaidOnceWhileTheyStayDeadAndAgainAfterTheyRecovered) {
  Harness h;
  const auto would_reap_total = [&] {
    const std::string text = h.metrics.text();
    for (int n = 0; n < 10; ++n)
      if (has_line(text, R"(tcpreap_would_reap_connections_total{policy="zk",reason="silent"} )" + std::to_string(n)))
        return n;
    return -1;
  };

  DryTurn first{1, 2};
  h.turn(first.result);
  EXPECT_THAT(h.err.new_lines(), ElementsAre(h.reap_line(first.entries[0], nullptr), h.reap_line(first.entries[1], nullptr)));
  EXPECT_THAT(h.asked, ElementsAre(ElementsAre(1001u, 1002u)));
  EXPECT_EQ(would_reap_total(), 2);

  DryTurn again{2, 1};  // the same two, still dead
  h.turn(again.result);
  EXPECT_THAT(h.err.new_lines(), IsEmpty());
  EXPECT_EQ(h.asked.size(), 1u) << "nothing new to attribute";
  EXPECT_EQ(would_reap_total(), 2);

  h.reporter.turn_failed(Error(EIO, "dumping IPv4 sockets"), 0.001);  // a failed scan forgets nothing
  h.err.new_lines();
  DryTurn one_recovered{1, 3};  // 2 is alive again (not among the dead); 3 is new
  h.turn(one_recovered.result);
  EXPECT_THAT(h.err.new_lines(), ElementsAre(h.reap_line(one_recovered.entries[1], nullptr)));
  EXPECT_THAT(h.asked.back(), ElementsAre(1003u));
  EXPECT_EQ(would_reap_total(), 3);

  DryTurn dead_again{1, 2, 3};  // 2 died again: said, and counted, again
  h.turn(dead_again.result);
  EXPECT_THAT(h.err.new_lines(), ElementsAre(h.reap_line(dead_again.entries[1], nullptr)));
  EXPECT_EQ(would_reap_total(), 4);
  EXPECT_FALSE(has_sample_starting(h.metrics.text(), "tcpreap_reaped_connections_total{")) << "a dry run reaps nothing";
  EXPECT_EQ(h.reporter.status_line(true), "last scan: 10 sockets in 12 ms, 0 suspect, 0 verifying; 0 reaped (dry run: none)");
}

TEST(TurnReporter, AFailedScanIsARateLimitedErrorAndCounted) {
  Harness h;
  const Error eperm(EPERM, "dumping IPv4 sockets");
  h.reporter.turn_failed(eperm, 0.25);
  EXPECT_THAT(h.err.new_lines(), ElementsAre("tcpreapd: scan failed: " + eperm.message()));
  EXPECT_EQ(h.reporter.status_line(false), "last scan failed: " + eperm.message());
  std::string text = h.metrics.text();
  EXPECT_TRUE(has_line(text, "tcpreap_scans_total 1")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_scan_errors_total 1")) << text;

  // The same failure every turn: five lines a minute, then quiet (the log's
  // rate limit, keyed "scan"); each still counted.
  for (int i = 0; i < 9; ++i) h.reporter.turn_failed(eperm, 0.25);
  EXPECT_EQ(h.err.new_lines().size(), 4u);
  text = h.metrics.text();
  EXPECT_TRUE(has_line(text, "tcpreap_scan_errors_total 10")) << text;

  DryTurn ok{};
  h.turn(ok.result, 3, 0.002);
  EXPECT_EQ(h.reporter.status_line(false), "last scan: 3 sockets in 2 ms, 0 suspect, 0 verifying; 0 reaped");
  EXPECT_TRUE(has_line(h.metrics.text(), "tcpreap_sockets_scanned 3"));
}

TEST(TurnReporter, ANamespacesFailedDumpIsItsOwnErrorAndTheReapsNameTheirNamespace) {
  Harness h;
  NamespaceInfo host{{1, 100, std::nullopt}, "host", "", true};
  NamespaceInfo pod{{1, 4026532174, std::nullopt}, "cni-42", "pod:1234", false};
  NamespaceInfo gone{{1, 4026532999, std::nullopt}, "pid:77", "", false};
  std::vector<DecisionEngine::Entry> entries = {{socket_n(1), decision(Verdict::kDead, 1), 1}};
  CycleResult r;
  r.entries = &entries;
  r.reaps = {{0, outcome(ReapResult::kDone, ReapVia::kDestroy)}};
  ScanStats v4_only;  // the host dumped IPv4 only: no IPv6 socket there
  v4_only.skipped = {false, true};
  ScanStats neither;  // an empty namespace: nothing dumped
  neither.skipped = DumpFamilies::both();
  r.namespaces.push_back({0, host, NamespaceTurn::State::kScanned, std::nullopt, v4_only});
  r.namespaces.push_back({1, pod, NamespaceTurn::State::kScanned, std::nullopt, {}});
  r.namespaces.push_back({2, gone, NamespaceTurn::State::kFailed, Error(EMFILE, "opening a socket"), {}});
  r.namespaces.push_back({3, gone, NamespaceTurn::State::kEmpty, std::nullopt, neither});
  h.reporter.set_unopened_namespaces(2);
  h.turn(r);
  const auto lines = h.err.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(" in netns cni-42 net:[4026532174]"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1], "tcpreapd: scan failed: " + Error(EMFILE, "opening a socket").message());
  const std::string text = h.metrics.text();
  EXPECT_TRUE(has_line(text, R"(tcpreap_network_namespaces{state="scanned"} 3)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_network_namespaces{state="failed"} 3)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_scan_errors_by_cause_total{cause="descriptors"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_scan_dumps_skipped_total{family="ipv4"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_scan_dumps_skipped_total{family="ipv6"} 2)")) << text;
  // The turn as a whole succeeded.
  EXPECT_TRUE(has_line(text, "tcpreap_scan_errors_total 0")) << text;
  EXPECT_EQ(h.reporter.status_line(false), "last scan: 10 sockets in 4 namespaces in 12 ms, 0 suspect, 0 verifying; 1 reaped");
}

TEST(TurnReporter, SaysTheNoticeAfterTheActionsThenCountsTheTurnInADebugLine) {
  Harness h(/*verbose=*/true);
  std::vector<DecisionEngine::Entry> entries = {
      {socket_n(1), decision(Verdict::kVerifying, 1)},
      {socket_n(2), decision(Verdict::kDead, 1)},
      {socket_n(3), decision(Verdict::kDead, 1)},
  };
  CycleResult r;
  r.entries = &entries;
  r.probes = {{0, probe(ProbeResult::kSent)}};
  r.reaps = {{1, outcome(ReapResult::kDone, ReapVia::kRst)}};
  r.held_back = {2};
  h.turn(r, 42, 0.012, {}, "the kernel cannot SOCK_DESTROY: reaping by RST from now on");
  EXPECT_THAT(h.err.lines(),
              ElementsAre(h.probe_line(entries[0], r.probes[0].outcome), "tcpreapd: probed 1 peer: 1 sent",
                          h.reap_line(entries[1], &r.reaps[0].outcome),
                          "tcpreapd: the kernel cannot SOCK_DESTROY: reaping by RST from now on",
                          "tcpreapd: turn 1: 42 sockets in scope, 1 probed, 1 acted on, 1 held back"));
}

TEST(TurnReporter, StatusBeforeTheFirstTurn) {
  Harness h;
  EXPECT_EQ(h.reporter.status_line(false), "started; first scan now");
  EXPECT_EQ(h.reporter.status_line(true), "started; first scan now");
}

}  // namespace
}  // namespace tcpreap
