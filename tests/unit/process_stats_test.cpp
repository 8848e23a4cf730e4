// The figures of the process metrics: /proc's text parsed field by field
// (malformed and hostile lines included), a fake /proc tree read whole, and
// the real /proc/self checked against what the test itself changes.

#include "metrics/process_stats.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "scratch_dir.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/unique_fd.h"

namespace tcpreap {
namespace {

// A /proc/PID/stat line of 52 fields as Linux 6 prints them. Field k holds
// 1000 + k unless `set` says otherwise, so that a parser reading the wrong
// field reads a wrong number.
std::string stat_line(const std::string& comm, std::map<int, std::string> set = {}, int fields = 52) {
  std::string out = set.count(1) ? set[1] : "4321";
  out += " (" + comm + ")";
  for (int k = 3; k <= fields; ++k) out += " " + (set.count(k) ? set[k] : std::to_string(1000 + k));
  return out + "\n";
}

const std::map<int, std::string> kUsed = {
    {3, "S"}, {14, "250"}, {15, "75"}, {22, "123456"}, {23, "987654321"}, {24, "2048"}};

ProcStat expected_used() { return ProcStat{250, 75, 123456, 987654321, 2048}; }

TEST(ParseProcStat, ReadsTheFieldsTheMetricsUse) {
  const auto s = parse_proc_stat(stat_line("tcpreapd", kUsed));
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(*s, expected_used());
}

// The command name is whatever the process set (prctl(PR_SET_NAME), the
// executable's name): spaces, parentheses and digits included. Counting
// fields from the first ')' would read the name's tail as fields.
TEST(ParseProcStat, CountsFieldsFromTheLastParenthesis) {
  for (const std::string comm : {"a b", "x) (y", ") 1 2 3 4", "evil) S 1 2 3", "((", "))", "", "tab\there",
                                 "new\nline", "(sd-pam)"}) {
    const auto s = parse_proc_stat(stat_line(comm, kUsed));
    ASSERT_TRUE(s.ok()) << "'" << comm << "': " << s.error().message();
    EXPECT_EQ(*s, expected_used()) << "'" << comm << "'";
  }
}

TEST(ParseProcStat, FieldsBeyondTheRssMayBeMissingOrMany) {
  auto s = parse_proc_stat(stat_line("old kernel", kUsed, 24));
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(*s, expected_used());
  s = parse_proc_stat(stat_line("new kernel", kUsed, 80));
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(*s, expected_used());
  // No newline at the end, and the largest counts there are.
  auto big = kUsed;
  big[23] = "18446744073709551615";
  s = parse_proc_stat(stat_line("x", big).substr(0, stat_line("x", big).size() - 1));
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->vsize_bytes, 18446744073709551615u);
}

// Each malformed line is an Error naming what is wrong, never a value.
TEST(ParseProcStat, MalformedLinesAreErrorsThatSayWhy) {
  auto with = [](int field, const std::string& v) {
    auto set = kUsed;
    set[field] = v;
    return stat_line("tcpreapd", set);
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no command name"},
      {"4321 tcpreapd S 1 2 3\n", "no command name"},
      {"4321 (tcpreapd S 1 2 3\n", "no command name"},
      {"4321 tcpreapd) S 1 2 3\n", "no command name"},
      {")4321 (tcpreapd S 1 2 3\n", "no command name"},
      {"(tcpreapd) S 1\n", "field 1 (pid) is ''"},
      {"x1 (tcpreapd) S 1\n", "field 1 (pid) is 'x1'"},
      {"4321 (tcpreapd)\n", "2 fields, the process metrics need 24"},
      {stat_line("tcpreapd", kUsed, 23), "23 fields, the process metrics need 24"},
      {stat_line("tcpreapd", kUsed, 2), "2 fields"},
      {with(14, "abc"), "field 14 is 'abc', not a count"},
      {with(15, "-1"), "field 15 is '-1', not a count"},
      {with(22, "12x"), "field 22 is '12x', not a count"},
      {with(23, "18446744073709551616"), "field 23 is '18446744073709551616', not a count"},
      {with(24, "+5"), "field 24 is '+5', not a count"},
      {with(24, std::string(100, '9')), "field 24 is '" + std::string(40, '9') + "...', not a count"},
  };
  for (const auto& [text, why] : cases) {
    const auto s = parse_proc_stat(text);
    ASSERT_FALSE(s.ok()) << "accepted: " << text;
    EXPECT_EQ(s.error().errnum(), 0);
    EXPECT_NE(s.error().message().find(why), std::string::npos) << s.error().message() << "\nwanted: " << why;
    EXPECT_EQ(s.error().message().rfind("/proc/PID/stat: ", 0), 0u) << s.error().message();
  }
}

TEST(ParseBootTime, ReadsTheBtimeLine) {
  const std::string stat =
      "cpu  10 0 20 3000 0 0 0 0 0 0\n"
      "cpu0 10 0 20 3000 0 0 0 0 0 0\n"
      "intr 1234 0 0 5 btime 17\n"  // not the line: "btime" inside another
      "ctxt 98765\n"
      "btime 1700000000\n"
      "processes 4242\n";
  const auto b = parse_boot_time(stat);
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(*b, 1700000000u);
  EXPECT_EQ(*parse_boot_time("btime 5"), 5u);        // last line, no newline
  EXPECT_EQ(*parse_boot_time("btime   6  \n"), 6u);  // spaces around
}

TEST(ParseBootTime, AMissingOrMalformedBtimeIsAnError) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no btime line"},
      {"cpu 1 2 3\nbtimes 5\n", "no btime line"},
      {" btime 5\n", "no btime line"},
      {"btime\n", "no btime line"},
      {"btime \n", "btime is '', not a number"},
      {"btime -5\n", "btime is '-5', not a number"},
      {"btime 17e8\n", "btime is '17e8', not a number"},
      {"btime 1 2\n", "btime is '1 2', not a number"},
  };
  for (const auto& [text, why] : cases) {
    const auto b = parse_boot_time(text);
    ASSERT_FALSE(b.ok()) << "accepted: " << text;
    EXPECT_NE(b.error().message().find(why), std::string::npos) << b.error().message() << "\nwanted: " << why;
  }
}

// --- read_process_stats() on a fake /proc, then on the real one. ---

using FakeProc = testing::ScratchDir;

double ticks() { return static_cast<double>(::sysconf(_SC_CLK_TCK)); }
double page() { return static_cast<double>(::sysconf(_SC_PAGESIZE)); }
double soft_nofile() {
  rlimit l{};
  EXPECT_EQ(::getrlimit(RLIMIT_NOFILE, &l), 0);
  return static_cast<double>(l.rlim_cur);
}

TEST(ReadProcessStats, PutsAFakeProcTogether) {
  FakeProc proc;
  proc.file("self/stat", stat_line("tcpreapd", kUsed));
  proc.file("stat", "cpu 1 2 3\nbtime 1700000000\n");
  for (int fd : {0, 1, 2, 5, 9}) proc.file("self/fd/" + std::to_string(fd), "");
  const ProcessStats s = read_process_stats(proc.root(), std::nullopt);
  EXPECT_EQ(s.cpu_seconds, (250.0 + 75.0) / ticks());
  EXPECT_EQ(s.resident_bytes, 2048 * page());
  EXPECT_EQ(s.virtual_bytes, 987654321.0);
  EXPECT_EQ(s.open_fds, 5.0);
  EXPECT_EQ(s.max_fds, soft_nofile());
  EXPECT_EQ(s.start_time_seconds, 1700000000.0 + 123456.0 / ticks());

  // A boot time given is used as it is: /proc/stat is not read.
  const ProcessStats given = read_process_stats(proc.root(), 1600000000u);
  EXPECT_EQ(given.start_time_seconds, 1600000000.0 + 123456.0 / ticks());
}

TEST(ReadProcessStats, WhatCannotBeReadIsLeftOutAndTheRestStays) {
  FakeProc proc;
  proc.file("self/stat", "4321 (tcpreapd) S 1 2\n");  // cut short
  proc.file("stat", "btime 1700000000\n");
  proc.file("self/fd/0", "");
  ProcessStats s = read_process_stats(proc.root(), std::nullopt);
  EXPECT_FALSE(s.cpu_seconds);
  EXPECT_FALSE(s.resident_bytes);
  EXPECT_FALSE(s.virtual_bytes);
  EXPECT_FALSE(s.start_time_seconds);
  EXPECT_EQ(s.open_fds, 1.0);
  EXPECT_EQ(s.max_fds, soft_nofile());

  // No /proc/stat: all but the start time.
  FakeProc no_btime;
  no_btime.file("self/stat", stat_line("tcpreapd", kUsed));
  s = read_process_stats(no_btime.root(), std::nullopt);
  EXPECT_EQ(s.cpu_seconds, (250.0 + 75.0) / ticks());
  EXPECT_EQ(s.virtual_bytes, 987654321.0);
  EXPECT_FALSE(s.start_time_seconds);
  EXPECT_FALSE(s.open_fds);  // no self/fd either
  EXPECT_EQ(read_boot_time(no_btime.root()), std::nullopt);

  // Nothing at all but the limit, which is no file.
  s = read_process_stats(proc.root() + "/missing", std::nullopt);
  EXPECT_FALSE(s.cpu_seconds || s.resident_bytes || s.virtual_bytes || s.open_fds || s.start_time_seconds);
  EXPECT_EQ(s.max_fds, soft_nofile());
}

TEST(ReadProcessStats, TheRealProcSelfFollowsWhatTheProcessDoes) {
  const auto boot = read_boot_time("/proc");
  ASSERT_TRUE(boot) << "/proc/stat has no btime";
  const ProcessStats before = read_process_stats("/proc", boot);
  ASSERT_TRUE(before.cpu_seconds && before.resident_bytes && before.virtual_bytes && before.open_fds &&
              before.max_fds && before.start_time_seconds);

  // Five descriptors more: five more entries, exactly (nothing else in
  // this single-threaded test opens any).
  std::vector<UniqueFd> held;
  for (int i = 0; i < 5; ++i) held.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ProcessStats after = read_process_stats("/proc", boot);
  EXPECT_EQ(*after.open_fds, *before.open_fds + 5);
  held.clear();
  EXPECT_EQ(*read_process_stats("/proc", boot).open_fds, *before.open_fds);

  // The soft limit, as set.
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit lower = saved;
  lower.rlim_cur = saved.rlim_cur - 1;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lower), 0);
  after = read_process_stats("/proc", boot);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_EQ(*after.max_fds, static_cast<double>(saved.rlim_cur - 1));

  // Memory touched is resident; the address space holds at least that.
  std::vector<char> ballast(64 << 20, 1);
  after = read_process_stats("/proc", boot);
  EXPECT_GE(*after.resident_bytes, *before.resident_bytes + (60 << 20));
  EXPECT_GE(*after.virtual_bytes, *after.resident_bytes);

  // CPU time only grows; the start is after boot and before now, and stays.
  EXPECT_GE(*after.cpu_seconds, *before.cpu_seconds);
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(*after.start_time_seconds, static_cast<double>(*boot));
  EXPECT_LE(*after.start_time_seconds, now);
  EXPECT_EQ(*after.start_time_seconds, *before.start_time_seconds);
}

}  // namespace
}  // namespace tcpreap
