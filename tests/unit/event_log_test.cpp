// The daemon's log: the exact stderr lines and journald fields of each kind
// of message, and which of them rate limits hold back. Journald itself is
// replaced by a recorder, the clock by one the test moves (EventLogSeams).
// The pieces it is built from have tests of their own: log_target_test,
// rate_limiter_test, socket_owner_test.

#include "log/event_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace tcpreap {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using Clock = std::chrono::steady_clock;

const Clock::time_point t0 = Clock::time_point() + 1000h;

// A FILE* in memory; text() is everything written so far.
class MemStream {
 public:
  MemStream() : file_(::open_memstream(&buf_, &len_)) {}
  ~MemStream() {
    std::fclose(file_);
    std::free(buf_);
  }
  std::FILE* file() const { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(buf_, len_);
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  std::FILE* file_;
};

Config config() {
  Config c;
  Policy other;
  other.name = "web";
  Policy zk;
  zk.name = "zookeeper-clients";
  c.policies = {other, zk};
  return c;
}

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

TcpSocket v4_socket() {
  TcpSocket s;
  s.local = ip("10.0.0.1");
  s.local_port = 2181;
  s.remote = ip("10.0.0.2");
  s.remote_port = 40000;
  s.inode = 31337;
  s.cookie = 4096;
  return s;
}

TcpSocket v6_socket() {
  TcpSocket s;
  s.family = Family::kIPv6;
  s.local = ip("fd00::1");
  s.local_port = 2181;
  s.remote = ip("fd00::2");
  s.remote_port = 40000;
  s.cookie = 18446744073709551615ull;
  return s;
}

Decision silent_dead() {
  Decision d;
  d.verdict = Verdict::kDead;
  d.policy = 1;
  d.reason = DeadReason::kSilent;
  d.threshold = 2min;
  d.figures.last_recv_ms = 252'000;
  d.figures.unacked = 2;
  d.figures.retransmits = 1;
  return d;
}

Decision verifying() {
  Decision d;
  d.verdict = Verdict::kVerifying;
  d.policy = 1;
  d.reason = DeadReason::kSilent;
  d.threshold = 30s;
  d.figures.last_recv_ms = 31'000;
  d.probe.wanted = 3;
  d.probe.sent = 0;
  d.probe.due = true;
  return d;
}

ReapOutcome outcome(ReapResult result, ReapVia via, int errnum = 0, std::string detail = {}) {
  ReapOutcome o;
  o.result = result;
  o.via = via;
  o.errnum = errnum;
  o.detail = std::move(detail);
  return o;
}

// An EventLog with a clock the test moves and journald replaced by a list.
struct Harness {
  explicit Harness(LogTarget target, bool verbose = false)
      : log(target, err.file(), verbose,
            EventLogSeams{[this](const std::vector<std::string>& f) { journal.push_back(f); }, [this] { return now; }}) {}
  MemStream err;
  std::vector<std::vector<std::string>> journal;
  Clock::time_point now = t0;
  EventLog log;
};

TEST(EventLogStderr, PlainMessagesAreOneLineAndDebugNeedsVerbose) {
  Harness h(LogTarget::kStderr);
  h.log.log(EventLog::Priority::kNotice, "started, 2 policies", {"TCPREAP_POLICIES=2"});
  h.log.log(EventLog::Priority::kError, "invalid config /etc/tcpreap.yaml: not starting");
  h.log.log(EventLog::Priority::kDebug, "scan: 12 sockets");
  EXPECT_EQ(h.err.text(),
            "tcpreapd: started, 2 policies\n"
            "tcpreapd: invalid config /etc/tcpreap.yaml: not starting\n");
  EXPECT_TRUE(h.journal.empty());

  Harness verbose(LogTarget::kStderr, true);
  verbose.log.log(EventLog::Priority::kDebug, "scan: 12 sockets");
  EXPECT_EQ(verbose.err.text(), "tcpreapd: scan: 12 sockets\n");
}

TEST(EventLogStderr, ReapLinesAreTheReportLinesWithTheOwner) {
  Harness h(LogTarget::kStderr);
  const Config c = config();
  const TcpSocket s = v4_socket();
  const ReapOutcome done = outcome(ReapResult::kDone, ReapVia::kDestroy);
  h.log.reap(s, silent_dead(), c, &done, SocketOwner{4242, "java"});
  h.log.reap(s, silent_dead(), c, &done, SocketOwner{4242, ""});
  h.log.reap(s, silent_dead(), c, nullptr, std::nullopt);
  const ReapOutcome failed = outcome(ReapResult::kNoAnswer, ReapVia::kRst, 0, "no challenge ACK after 4 SYNs");
  h.log.reap(v6_socket(), silent_dead(), c, &failed, std::nullopt);
  EXPECT_EQ(h.err.text(),
            // 6 + 8 spaces to column 14; 31 + 19 spaces to column 50.
            "tcpreapd: reaped        10.0.0.1:2181 <- 10.0.0.2:40000                   "
            "zookeeper-clients: silent 4m12s >= 2m, via destroy (pid 4242 java)\n"
            "tcpreapd: reaped        10.0.0.1:2181 <- 10.0.0.2:40000                   "
            "zookeeper-clients: silent 4m12s >= 2m, via destroy (pid 4242)\n"
            "tcpreapd: would reap    10.0.0.1:2181 <- 10.0.0.2:40000                   "
            "zookeeper-clients: silent 4m12s >= 2m\n"
            // 33 + 17 spaces to column 50.
            "tcpreapd: FAILED        [fd00::1]:2181 <- [fd00::2]:40000                 "
            "zookeeper-clients: silent 4m12s >= 2m, via rst: no-answer: no challenge ACK after 4 SYNs\n");
}

TEST(EventLogStderr, ProbeLinesAreTheReportLines) {
  Harness h(LogTarget::kStderr);
  const Config c = config();
  ProbeOutcome sent;
  sent.result = ProbeResult::kSent;
  h.log.probe(v4_socket(), verifying(), c, sent);
  ProbeOutcome failed;
  failed.result = ProbeResult::kFailed;
  failed.errnum = EPERM;
  failed.detail = "sending: Operation not permitted";
  h.log.probe(v4_socket(), verifying(), c, failed);
  EXPECT_EQ(h.err.text(),
            "tcpreapd: probe 1/3     10.0.0.1:2181 <- 10.0.0.2:40000                   "
            "zookeeper-clients: silent 31.0s >= 30s: sent\n"
            "tcpreapd: probe FAILED  10.0.0.1:2181 <- 10.0.0.2:40000                   "
            "zookeeper-clients: silent 31.0s >= 30s: failed: sending: Operation not permitted\n");
}

TEST(EventLogStderr, RepeatedFailuresAreRateLimitedAndCounted) {
  Harness h(LogTarget::kStderr);
  for (int i = 0; i < 8; ++i) {
    h.log.failure("scan", "scan failed: dumping IPv4 sockets: Operation not permitted");
    h.now += 1s;
  }
  h.now = t0 + 60s;
  h.log.failure("scan", "scan failed: dumping IPv4 sockets: Operation not permitted");
  h.now = t0 + 120s;
  h.log.failure("scan", "scan failed: dumping IPv4 sockets: Operation not permitted");
  std::string five;
  for (int i = 0; i < 5; ++i) five += "tcpreapd: scan failed: dumping IPv4 sockets: Operation not permitted\n";
  EXPECT_EQ(h.err.text(), five +
                              "tcpreapd: scan failed: dumping IPv4 sockets: Operation not permitted "
                              "(3 similar messages suppressed)\n"
                              "tcpreapd: scan failed: dumping IPv4 sockets: Operation not permitted\n");
}

TEST(EventLogStderr, ReapFailuresAreLimitedByMethodAndResultSuccessesNever) {
  Harness h(LogTarget::kStderr);
  const Config c = config();
  const TcpSocket s = v4_socket();
  const ReapOutcome eperm = outcome(ReapResult::kNotPermitted, ReapVia::kDestroy, EPERM);
  const ReapOutcome rst = outcome(ReapResult::kNoAnswer, ReapVia::kRst);
  const ReapOutcome done = outcome(ReapResult::kDone, ReapVia::kDestroy);
  for (int i = 0; i < 7; ++i) {
    h.log.reap(s, silent_dead(), c, &eperm, std::nullopt);
    h.log.reap(s, silent_dead(), c, &rst, std::nullopt);
    h.log.reap(s, silent_dead(), c, &done, std::nullopt);
  }
  h.now += 61s;
  h.log.reap(s, silent_dead(), c, &eperm, std::nullopt);
  const std::string text = h.err.text();
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("via destroy: not-permitted"), 6u);
  EXPECT_EQ(count("via rst: no-answer"), 5u);
  EXPECT_EQ(count("tcpreapd: reaped "), 7u);
  EXPECT_EQ(count("via destroy: not-permitted (2 similar messages suppressed)\n"), 1u);
}

// ----------------------------------------------------------- journald fields

TEST(EventLogJournal, ReapFields) {
  Harness h(LogTarget::kJournal);
  const Config c = config();
  Decision d = silent_dead();
  d.probe.wanted = 3;
  d.probe.sent = 3;
  const ReapOutcome done = outcome(ReapResult::kDone, ReapVia::kDestroy);
  h.log.reap(v4_socket(), d, c, &done, SocketOwner{4242, "java"});
  ASSERT_EQ(h.journal.size(), 1u);
  EXPECT_THAT(h.journal[0],
              ElementsAre("MESSAGE=reaped        10.0.0.1:2181 <- 10.0.0.2:40000                   "
                          "zookeeper-clients: silent 4m12s >= 2m, 3 probes unanswered, via destroy (pid 4242 java)",
                          "PRIORITY=5", "SYSLOG_IDENTIFIER=tcpreapd", "TCPREAP_ACTION=reap",
                          "TCPREAP_POLICY=zookeeper-clients", "TCPREAP_REASON=silent", "TCPREAP_LOCAL=10.0.0.1:2181",
                          "TCPREAP_REMOTE=10.0.0.2:40000", "TCPREAP_METHOD=destroy", "TCPREAP_OUTCOME=done",
                          "TCPREAP_LAST_RECV_MS=252000", "TCPREAP_UNACKED=2", "TCPREAP_RETRANSMITS=1",
                          "TCPREAP_THRESHOLD_MS=120000", "TCPREAP_PROBES_UNANSWERED=3", "TCPREAP_COOKIE=4096",
                          "TCPREAP_PID=4242", "TCPREAP_PROCESS=java"));
  EXPECT_EQ(h.err.text(), "");
  // The pure builder gives the same record.
  EXPECT_EQ(EventLog::journal_fields(EventLog::reap_record(v4_socket(), d, c, &done, SocketOwner{4242, "java"})),
            h.journal[0]);
}

TEST(EventLogJournal, ANamespaceIsNamedOnTheLineAndInFieldsButTheOwnOnlyInFields) {
  const Config c = config();
  const Decision d = silent_dead();
  const ReapOutcome done = outcome(ReapResult::kDone, ReapVia::kDestroy);
  const NamespaceInfo pod{{1, 4026532174, std::nullopt}, "cni-42", "pod:1234", false};
  const auto r = EventLog::reap_record(v4_socket(), d, c, &done, std::nullopt, &pod);
  EXPECT_TRUE(r.message.ends_with(", via destroy in netns cni-42 net:[4026532174]")) << r.message;
  EXPECT_THAT(r.fields, ::testing::IsSupersetOf({"TCPREAP_NETNS=cni-42", "TCPREAP_NETNS_ID=net:[4026532174]",
                                                  "TCPREAP_CONTAINER=pod:1234"}));
  const NamespaceInfo host{{1, 4026531840, std::nullopt}, "host", "", true};
  const auto own = EventLog::reap_record(v4_socket(), d, c, &done, std::nullopt, &host);
  EXPECT_EQ(own.message, EventLog::reap_record(v4_socket(), d, c, &done, std::nullopt).message);
  EXPECT_THAT(own.fields, ::testing::IsSupersetOf({"TCPREAP_NETNS=host", "TCPREAP_NETNS_ID=net:[4026531840]"}));
  for (const auto& f : own.fields) EXPECT_FALSE(f.starts_with("TCPREAP_CONTAINER=")) << f;
  const auto probe = EventLog::probe_record(v4_socket(), d, c, ProbeOutcome{ProbeResult::kSent, 0, {}}, &pod);
  EXPECT_TRUE(probe.message.ends_with(" in netns cni-42 net:[4026532174]")) << probe.message;
  EXPECT_THAT(probe.fields, ::testing::Contains("TCPREAP_NETNS=cni-42"));
}

TEST(EventLogJournal, FailedReapFieldsOnIPv6WithErrnoAndReasonFigures) {
  const Config c = config();
  Decision d = silent_dead();
  d.reason = DeadReason::kUnacked;
  d.threshold = 30s;
  d.figures.unacked_for_ms = 31'500;
  const ReapOutcome eperm = outcome(ReapResult::kNotPermitted, ReapVia::kDestroy, EPERM, "needs CAP_NET_ADMIN");
  const EventLog::Record r = EventLog::reap_record(v6_socket(), d, c, &eperm, std::nullopt);
  EXPECT_EQ(r.priority, EventLog::Priority::kWarning);
  EXPECT_EQ(r.rate_key, "reap:destroy:not-permitted");
  EXPECT_THAT(EventLog::journal_fields(r),
              ElementsAre("MESSAGE=FAILED        [fd00::1]:2181 <- [fd00::2]:40000                 "
                          "zookeeper-clients: unacked 31.5s >= 30s, via destroy: not-permitted: needs CAP_NET_ADMIN",
                          "PRIORITY=4", "SYSLOG_IDENTIFIER=tcpreapd", "TCPREAP_ACTION=reap",
                          "TCPREAP_POLICY=zookeeper-clients", "TCPREAP_REASON=unacked",
                          "TCPREAP_LOCAL=[fd00::1]:2181", "TCPREAP_REMOTE=[fd00::2]:40000", "TCPREAP_METHOD=destroy",
                          "TCPREAP_OUTCOME=not-permitted", "TCPREAP_LAST_RECV_MS=252000", "TCPREAP_UNACKED=2",
                          "TCPREAP_RETRANSMITS=1", "TCPREAP_THRESHOLD_MS=30000", "TCPREAP_UNACKED_FOR_MS=31500",
                          "TCPREAP_COOKIE=18446744073709551615", "TCPREAP_ERRNO=1"));
}

TEST(EventLogJournal, WouldReapAndOtherOutcomesPriorities) {
  const Config c = config();
  const TcpSocket s = v4_socket();
  Decision d = silent_dead();
  d.reason = DeadReason::kPerPeerLimit;
  d.figures.peer_connections = 57;
  const EventLog::Record dry = EventLog::reap_record(s, d, c, nullptr, std::nullopt);
  EXPECT_EQ(dry.priority, EventLog::Priority::kNotice);
  EXPECT_EQ(dry.rate_key, "");
  EXPECT_THAT(dry.fields, ElementsAre("TCPREAP_ACTION=would-reap", "TCPREAP_POLICY=zookeeper-clients",
                                      "TCPREAP_REASON=per-peer-limit", "TCPREAP_LOCAL=10.0.0.1:2181",
                                      "TCPREAP_REMOTE=10.0.0.2:40000", "TCPREAP_LAST_RECV_MS=252000",
                                      "TCPREAP_UNACKED=2", "TCPREAP_RETRANSMITS=1", "TCPREAP_THRESHOLD_MS=120000",
                                      "TCPREAP_PEER_CONNECTIONS=57", "TCPREAP_COOKIE=4096"));
  d.held_back = true;
  EXPECT_EQ(EventLog::reap_record(s, d, c, nullptr, std::nullopt).fields[0], "TCPREAP_ACTION=held-back");
  EXPECT_EQ(EventLog::reap_record(s, d, c, nullptr, std::nullopt).priority, EventLog::Priority::kInfo);
  const ReapOutcome gone = outcome(ReapResult::kAlreadyGone, ReapVia::kDestroy, ENOENT);
  const EventLog::Record g = EventLog::reap_record(s, silent_dead(), c, &gone, std::nullopt);
  EXPECT_EQ(g.priority, EventLog::Priority::kInfo);
  EXPECT_EQ(g.rate_key, "");
}

TEST(EventLogJournal, ProbeFields) {
  Harness h(LogTarget::kJournal);
  const Config c = config();
  Decision d = verifying();
  d.probe.sent = 2;
  ProbeOutcome answered;
  answered.result = ProbeResult::kAnswered;
  h.log.probe(v6_socket(), d, c, answered);
  ProbeOutcome no_answer;
  no_answer.result = ProbeResult::kNoAnswer;
  no_answer.errnum = ETIMEDOUT;
  no_answer.detail = "no answer to 4 SYN(s) in 2050 ms";
  h.log.probe(v4_socket(), verifying(), c, no_answer);
  // Answered: alive, debug, written with --verbose only.
  ASSERT_EQ(h.journal.size(), 1u);
  Harness verbose(LogTarget::kJournal, true);
  verbose.log.probe(v6_socket(), d, c, answered);
  verbose.log.probe(v4_socket(), verifying(), c, no_answer);
  ASSERT_EQ(verbose.journal.size(), 2u);
  EXPECT_EQ(verbose.journal[1], h.journal[0]);
  EXPECT_THAT(verbose.journal[0],
              ElementsAre("MESSAGE=probe 3/3     [fd00::1]:2181 <- [fd00::2]:40000                 "
                          "zookeeper-clients: silent 31.0s >= 30s: answered: alive",
                          "PRIORITY=7", "SYSLOG_IDENTIFIER=tcpreapd", "TCPREAP_ACTION=probe",
                          "TCPREAP_POLICY=zookeeper-clients", "TCPREAP_REASON=silent", "TCPREAP_LOCAL=[fd00::1]:2181",
                          "TCPREAP_REMOTE=[fd00::2]:40000", "TCPREAP_PROBE=3/3", "TCPREAP_OUTCOME=answered",
                          "TCPREAP_LAST_RECV_MS=31000", "TCPREAP_UNACKED=0", "TCPREAP_RETRANSMITS=0",
                          "TCPREAP_THRESHOLD_MS=30000", "TCPREAP_COOKIE=18446744073709551615"));
  EXPECT_THAT(h.journal[0],
              ElementsAre("MESSAGE=probe FAILED  10.0.0.1:2181 <- 10.0.0.2:40000                   "
                          "zookeeper-clients: silent 31.0s >= 30s: no-answer: no answer to 4 SYN(s) in 2050 ms",
                          "PRIORITY=4", "SYSLOG_IDENTIFIER=tcpreapd", "TCPREAP_ACTION=probe",
                          "TCPREAP_POLICY=zookeeper-clients", "TCPREAP_REASON=silent", "TCPREAP_LOCAL=10.0.0.1:2181",
                          "TCPREAP_REMOTE=10.0.0.2:40000", "TCPREAP_PROBE=1/3", "TCPREAP_OUTCOME=no-answer",
                          "TCPREAP_LAST_RECV_MS=31000", "TCPREAP_UNACKED=0", "TCPREAP_RETRANSMITS=0",
                          "TCPREAP_THRESHOLD_MS=30000", "TCPREAP_COOKIE=4096", "TCPREAP_ERRNO=110"));
  EXPECT_EQ(EventLog::probe_record(v4_socket(), verifying(), c, no_answer).rate_key, "probe:no-answer");
  EXPECT_EQ(h.err.text(), "");
}

TEST(EventLogJournal, PlainMessagesKeepValidFieldsAndDebugNeedsVerbose) {
  Harness quiet(LogTarget::kJournal);
  quiet.log.log(EventLog::Priority::kDebug, "scan: 12 sockets");
  EXPECT_TRUE(quiet.journal.empty());

  Harness h(LogTarget::kJournal, true);
  h.log.log(EventLog::Priority::kNotice, "reloaded",
            {"TCPREAP_POLICIES=2", "lower=x", "_TRUSTED=x", "NOEQUALS", "=x", "MESSAGE=spoof", "PRIORITY=0",
             "SYSLOG_IDENTIFIER=other", "9LIVES=x", "TCPREAP_CONFIG=/etc/tcpreap.yaml"});
  h.log.log(EventLog::Priority::kDebug, "scan: 12 sockets");
  ASSERT_EQ(h.journal.size(), 2u);
  EXPECT_THAT(h.journal[0], ElementsAre("MESSAGE=reloaded", "PRIORITY=5", "SYSLOG_IDENTIFIER=tcpreapd",
                                        "TCPREAP_POLICIES=2", "TCPREAP_CONFIG=/etc/tcpreap.yaml"));
  EXPECT_THAT(h.journal[1], ElementsAre("MESSAGE=scan: 12 sockets", "PRIORITY=7", "SYSLOG_IDENTIFIER=tcpreapd"));
}

TEST(EventLogJournal, SuppressedCountIsAFieldToo) {
  Harness h(LogTarget::kJournal);
  for (int i = 0; i < 6; ++i) h.log.failure("scan", "scan failed: x", {"TCPREAP_SCAN=failed"});
  h.now += 60s;
  h.log.failure("scan", "scan failed: x", {"TCPREAP_SCAN=failed"});
  ASSERT_EQ(h.journal.size(), 6u);
  EXPECT_THAT(h.journal[0], ElementsAre("MESSAGE=scan failed: x", "PRIORITY=3", "SYSLOG_IDENTIFIER=tcpreapd",
                                        "TCPREAP_SCAN=failed"));
  EXPECT_THAT(h.journal[5], ElementsAre("MESSAGE=scan failed: x (1 similar message suppressed)", "PRIORITY=3",
                                        "SYSLOG_IDENTIFIER=tcpreapd", "TCPREAP_SCAN=failed", "TCPREAP_SUPPRESSED=1"));
}

}  // namespace
}  // namespace tcpreap
