// The daemon's log: choosing journald, finding a socket's process, rate
// limits, and the exact stderr lines and journald fields of each kind of
// message. Journald itself is replaced by a recorder (EventLogSeams).

#include "log/event_log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "log/log_target.h"
#include "log/rate_limiter.h"
#include "diag/socket_owner.h"
#include "core/unique_fd.h"

namespace tcpreap {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- log target

TEST(JournalStream, MatchesOnlyTheExactDeviceAndInode) {
  EXPECT_TRUE(journal_stream_matches("8:1234", 8, 1234));
  EXPECT_TRUE(journal_stream_matches("0:18446744073709551615", 0, static_cast<ino_t>(18446744073709551615ull)));
  EXPECT_FALSE(journal_stream_matches("8:1234", 8, 1235));
  EXPECT_FALSE(journal_stream_matches("8:1234", 9, 1234));
  EXPECT_FALSE(journal_stream_matches("1234:8", 8, 1234));
}

TEST(JournalStream, MalformedValuesMatchNothing) {
  for (const char* env : {"", ":", "8:", ":1234", "8", "8:1234x", "8:1234 ", " 8:1234", "+8:1234", "-8:1234",
                          "8:+1234", "0x8:1234", "8:1234:5", "8;1234", "18446744073709551616:1234"}) {
    EXPECT_FALSE(journal_stream_matches(env, 8, 1234)) << '"' << env << '"';
  }
  EXPECT_FALSE(journal_stream_matches(nullptr, 0, 0));
}

TEST(JournalStream, DetectComparesWithStderr) {
  const char* saved = std::getenv("JOURNAL_STREAM");
  const std::string old = saved ? saved : "";
  struct stat st {};
  ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
  EXPECT_EQ(detect_log_target(), LogTarget::kJournal);
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  ::setenv("JOURNAL_STREAM", other.c_str(), 1);
  EXPECT_EQ(detect_log_target(), LogTarget::kStderr);
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_EQ(detect_log_target(), LogTarget::kStderr);
  if (saved) ::setenv("JOURNAL_STREAM", old.c_str(), 1);
}

// -------------------------------------------------------------- rate limiter

const Clock::time_point t0 = Clock::time_point() + 1000h;

TEST(RateLimiter, BurstThenSuppressedThenCountedWhenTheWindowEnds) {
  RateLimiter limiter(60s, 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.check("k", t0 + i * 1s), (RateLimiter::Verdict{true, 0})) << i;
  for (int i = 3; i < 10; ++i) EXPECT_EQ(limiter.check("k", t0 + i * 1s), (RateLimiter::Verdict{false, 0})) << i;
  // Still the first window one tick before its end.
  EXPECT_EQ(limiter.check("k", t0 + 60s - 1ns), (RateLimiter::Verdict{false, 0}));
  // The window opened at the first message: 60 s later a new one begins,
  // and its first message carries the 8 suppressed.
  EXPECT_EQ(limiter.check("k", t0 + 60s), (RateLimiter::Verdict{true, 8}));
  // The count was reported once; the new window has its own burst.
  EXPECT_EQ(limiter.check("k", t0 + 61s), (RateLimiter::Verdict{true, 0}));
  EXPECT_EQ(limiter.check("k", t0 + 62s), (RateLimiter::Verdict{true, 0}));
  EXPECT_EQ(limiter.check("k", t0 + 63s), (RateLimiter::Verdict{false, 0}));
  // Nothing suppressed in a window: the next one reports none.
  EXPECT_EQ(limiter.check("k", t0 + 200s), (RateLimiter::Verdict{true, 1}));
  EXPECT_EQ(limiter.check("k", t0 + 300s), (RateLimiter::Verdict{true, 0}));
}

TEST(RateLimiter, KeysAreIndependent) {
  RateLimiter limiter(60s, 1);
  EXPECT_TRUE(limiter.check("reap:rst:no-answer", t0).log);
  EXPECT_FALSE(limiter.check("reap:rst:no-answer", t0).log);
  EXPECT_TRUE(limiter.check("reap:destroy:not-permitted", t0).log);
  EXPECT_TRUE(limiter.check("scan", t0).log);
  EXPECT_FALSE(limiter.check("scan", t0 + 1s).log);
  EXPECT_EQ(limiter.keys(), 3u);
}

TEST(RateLimiter, DefaultsAreFivePerMinute) {
  RateLimiter limiter;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.check("k", t0).log) << i;
  EXPECT_FALSE(limiter.check("k", t0 + 59s).log);
  EXPECT_EQ(limiter.check("k", t0 + 60s), (RateLimiter::Verdict{true, 1}));
}

TEST(RateLimiter, ZeroBurstStillLogsTheFirst) {
  RateLimiter limiter(60s, 0);
  EXPECT_TRUE(limiter.check("k", t0).log);
  EXPECT_FALSE(limiter.check("k", t0).log);
}

TEST(RateLimiter, ANewKeyAtTheBoundEvictsTheOldestWindow) {
  RateLimiter limiter(100s, 1, 3);
  EXPECT_TRUE(limiter.check("b", t0).log);
  EXPECT_TRUE(limiter.check("z", t0 + 1s).log);
  EXPECT_TRUE(limiter.check("c", t0 + 2s).log);
  EXPECT_FALSE(limiter.check("z", t0 + 3s).log);
  EXPECT_TRUE(limiter.check("b", t0 + 100s).log);  // a new window: "z" now has the oldest
  EXPECT_TRUE(limiter.check("d", t0 + 101s).log);  // evicts "z", neither the first key seen nor the least
  EXPECT_EQ(limiter.keys(), 3u);
  EXPECT_FALSE(limiter.check("b", t0 + 101s).log);  // still limited
  EXPECT_FALSE(limiter.check("c", t0 + 101s).log);
  // "z" was forgotten, its suppressed count with it: a fresh key.
  EXPECT_EQ(limiter.check("z", t0 + 101s), (RateLimiter::Verdict{true, 0}));
  EXPECT_EQ(limiter.keys(), 3u);
}

TEST(RateLimiter, TheDefaultBoundIs1024Keys) {
  RateLimiter limiter;
  for (int i = 0; i < 1500; ++i) (void)limiter.check("key" + std::to_string(i), t0 + i * 1ms);
  EXPECT_EQ(limiter.keys(), RateLimiter::kMaxKeys);
  EXPECT_EQ(RateLimiter::kMaxKeys, 1024u);
}

// ------------------------------------------------------------- socket owner

// A directory tree in /tmp, removed with the object.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/event_log_test.XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    EXPECT_NE(made, nullptr);
    path_ = made ? made : "/nonexistent";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

  void link(const std::string& rel, const std::string& target) const {
    std::filesystem::create_directories(std::filesystem::path(path_ + "/" + rel).parent_path());
    std::filesystem::create_symlink(target, path_ + "/" + rel);
  }
  void file(const std::string& rel, const std::string& content) const {
    std::filesystem::create_directories(std::filesystem::path(path_ + "/" + rel).parent_path());
    std::ofstream(path_ + "/" + rel) << content;
  }
  void dir(const std::string& rel) const { std::filesystem::create_directories(path_ + "/" + rel); }

 private:
  std::string path_;
};

TEST(SocketOwner, FindsTheProcessInAFakeProcTree) {
  TempDir proc;
  proc.link("self", "200");
  proc.file("sys/fd/1", "");            // not a process
  proc.link("net/fd/1", "socket:[12345]");  // not a process either, though it looks like one inside
  proc.dir("77");                       // a process gone mid-walk: no fd directory
  proc.link("100/fd/0", "/dev/null");
  proc.link("100/fd/3", "socket:[123450]");  // a longer inode with the same prefix
  proc.link("100/fd/4", "socket:[1234]");
  proc.file("100/comm", "nginx\n");
  proc.link("200/fd/0", "/dev/null");
  proc.link("200/fd/1", "pipe:[12345]");
  proc.link("200/fd/4", "socket:[12345]");
  proc.file("200/comm", "zookeeper\n");
  proc.link("300/fd/9", "socket:[999]");  // no comm: the process went before it could be read
  proc.link("400/fd/9", "socket:[0]");

  EXPECT_EQ(find_socket_owner(12345, proc.path()), (SocketOwner{200, "zookeeper"}));
  EXPECT_EQ(find_socket_owner(123450, proc.path()), (SocketOwner{100, "nginx"}));
  EXPECT_EQ(find_socket_owner(1234, proc.path()), (SocketOwner{100, "nginx"}));
  EXPECT_EQ(find_socket_owner(999, proc.path()), (SocketOwner{300, ""}));
  EXPECT_EQ(find_socket_owner(12346, proc.path()), std::nullopt);
  EXPECT_EQ(find_socket_owner(0, proc.path()), std::nullopt);  // inode 0 is no socket
  EXPECT_EQ(find_socket_owner(12345, proc.path() + "/missing"), std::nullopt);
}

TEST(SocketOwner, FindsManyInOneWalkAndStopsAtTheDeadline) {
  TempDir proc;
  proc.link("100/fd/3", "socket:[11]");
  proc.link("100/fd/4", "socket:[12]");
  proc.file("100/comm", "nginx\n");
  proc.link("200/fd/4", "socket:[21]");
  proc.file("200/comm", "zookeeper\n");
  const uint64_t inodes[] = {11, 21, 12, 99, 0, 11};
  const auto later = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  const auto found = find_socket_owners(inodes, later, proc.path());
  EXPECT_EQ(found.size(), 3u);
  EXPECT_EQ(found.at(11), (SocketOwner{100, "nginx"}));
  EXPECT_EQ(found.at(12), (SocketOwner{100, "nginx"}));
  EXPECT_EQ(found.at(21), (SocketOwner{200, "zookeeper"}));
  EXPECT_FALSE(found.contains(99));
  // A deadline already past: no walk at all, nothing found.
  EXPECT_TRUE(find_socket_owners(inodes, std::chrono::steady_clock::now(), proc.path()).empty());
}

TEST(SocketOwner, FindsThisProcessForItsOwnSocket) {
  UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sock) << std::strerror(errno);
  struct stat st {};
  ASSERT_EQ(::fstat(sock.get(), &st), 0);
  ASSERT_NE(st.st_ino, 0u);
  // TASK_COMM_LEN keeps 15 characters; this binary's name is shorter.
  EXPECT_EQ(find_socket_owner(st.st_ino), (SocketOwner{::getpid(), "event_log_test"}));
  const ino_t inode = st.st_ino;
  sock.reset();
  EXPECT_EQ(find_socket_owner(inode), std::nullopt);
}

// ------------------------------------------------------------------ event log

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
  ASSERT_EQ(h.journal.size(), 2u);
  EXPECT_THAT(h.journal[0],
              ElementsAre("MESSAGE=probe 3/3     [fd00::1]:2181 <- [fd00::2]:40000                 "
                          "zookeeper-clients: silent 31.0s >= 30s: answered: alive",
                          "PRIORITY=6", "SYSLOG_IDENTIFIER=tcpreapd", "TCPREAP_ACTION=probe",
                          "TCPREAP_POLICY=zookeeper-clients", "TCPREAP_REASON=silent", "TCPREAP_LOCAL=[fd00::1]:2181",
                          "TCPREAP_REMOTE=[fd00::2]:40000", "TCPREAP_PROBE=3/3", "TCPREAP_OUTCOME=answered",
                          "TCPREAP_LAST_RECV_MS=31000", "TCPREAP_UNACKED=0", "TCPREAP_RETRANSMITS=0",
                          "TCPREAP_THRESHOLD_MS=30000", "TCPREAP_COOKIE=18446744073709551615"));
  EXPECT_THAT(h.journal[1],
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
