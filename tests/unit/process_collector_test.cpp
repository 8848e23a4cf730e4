// The process collector as the endpoint calls it: the families it returns
// from a fake /proc, what it leaves out when a figure cannot be read, the
// boot time it keeps, and scrapes from several threads at once.

#include "metrics/process_collector.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "scratch_dir.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace tcpreap {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

using FakeProc = testing::ScratchDir;

// utime 300, stime 100, starttime 500 ticks, vsize 4096000, rss 10 pages.
std::string stat_line() {
  std::string out = "77 (tcp reapd) S";
  for (int k = 4; k <= 52; ++k) {
    std::string v = std::to_string(k);
    if (k == 14) v = "300";
    if (k == 15) v = "100";
    if (k == 22) v = "500";
    if (k == 23) v = "4096000";
    if (k == 24) v = "10";
    out += " " + v;
  }
  return out + "\n";
}

std::map<std::string, MetricFamily> by_name(const std::vector<MetricFamily>& families) {
  std::map<std::string, MetricFamily> out;
  for (const auto& f : families) EXPECT_TRUE(out.emplace(f.name, f).second) << "twice: " << f.name;
  return out;
}

double value(const MetricFamily& f) {
  EXPECT_EQ(f.metric.size(), 1u) << f.name;
  if (f.metric.empty()) return -1;
  EXPECT_TRUE(f.metric[0].label.empty()) << f.name;
  return f.type == MetricType::Counter ? f.metric[0].counter.value : f.metric[0].gauge.value;
}

TEST(ProcessCollector, TheStandardFamiliesWithTheirTypesHelpAndValues) {
  FakeProc proc;
  proc.file("self/stat", stat_line());
  proc.file("stat", "btime 1700000000\n");
  for (int fd : {0, 1, 2}) proc.file("self/fd/" + std::to_string(fd), "");
  const auto families = by_name(make_process_collector(proc.root())->Collect());
  const double tck = static_cast<double>(::sysconf(_SC_CLK_TCK));
  rlimit l{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &l), 0);

  struct Want {
    MetricType type;
    const char* help;
    double value;
  };
  const std::map<std::string, Want> want = {
      {"process_cpu_seconds_total",
       {MetricType::Counter, "Total user and system CPU time spent in seconds.", 400 / tck}},
      {"process_open_fds", {MetricType::Gauge, "Number of open file descriptors.", 3}},
      {"process_max_fds",
       {MetricType::Gauge, "Maximum number of open file descriptors.", static_cast<double>(l.rlim_cur)}},
      {"process_virtual_memory_bytes", {MetricType::Gauge, "Virtual memory size in bytes.", 4096000}},
      {"process_resident_memory_bytes",
       {MetricType::Gauge, "Resident memory size in bytes.", 10.0 * static_cast<double>(::sysconf(_SC_PAGESIZE))}},
      {"process_start_time_seconds",
       {MetricType::Gauge, "Start time of the process since unix epoch in seconds.", 1700000000 + 500 / tck}},
  };
  ASSERT_EQ(families.size(), want.size());
  for (const auto& [name, w] : want) {
    const auto it = families.find(name);
    ASSERT_NE(it, families.end()) << name;
    EXPECT_EQ(it->second.type, w.type) << name;
    EXPECT_EQ(it->second.help, w.help) << name;
    EXPECT_DOUBLE_EQ(value(it->second), w.value) << name;
  }
}

// A scrape gets what can be read: out of descriptors, say, /proc/self/stat
// cannot be opened, and the figures from it are left out - not reported as
// 0, which would be a lie a graph would draw.
TEST(ProcessCollector, AFigureThatCannotBeReadIsLeftOut) {
  FakeProc proc;
  proc.file("stat", "btime 1700000000\n");
  proc.file("self/fd/0", "");
  auto families = by_name(make_process_collector(proc.root())->Collect());
  EXPECT_EQ(families.size(), 2u);
  EXPECT_TRUE(families.count("process_open_fds"));
  EXPECT_TRUE(families.count("process_max_fds"));

  proc.file("self/stat", "77 (tcpreapd) S 1 2 3\n");  // malformed: the same
  EXPECT_EQ(make_process_collector(proc.root())->Collect().size(), 2u);
}

// The boot time is read when the collector is made, so the start time
// stays put; if it could not be read then, each scrape tries again.
TEST(ProcessCollector, TheBootTimeIsReadOnceWhenItCanBe) {
  FakeProc proc;
  proc.file("self/stat", stat_line());
  proc.file("stat", "btime 1700000000\n");
  const auto collector = make_process_collector(proc.root());
  proc.file("stat", "btime 1700000009\n");  // the clock was stepped
  const double tck = static_cast<double>(::sysconf(_SC_CLK_TCK));
  EXPECT_DOUBLE_EQ(value(by_name(collector->Collect())["process_start_time_seconds"]), 1700000000 + 500 / tck);

  FakeProc late;
  late.file("self/stat", stat_line());
  const auto retries = make_process_collector(late.root());
  EXPECT_EQ(by_name(retries->Collect()).count("process_start_time_seconds"), 0u);
  late.file("stat", "btime 1700000005\n");
  EXPECT_DOUBLE_EQ(value(by_name(retries->Collect())["process_start_time_seconds"]), 1700000005 + 500 / tck);
}

// civetweb's workers scrape at once: each gets every family, whole.
TEST(ProcessCollector, ConcurrentScrapesEachGetEveryFamily) {
  const auto collector = make_process_collector();
  constexpr int kThreads = 4, kScrapes = 200;
  std::atomic<int> whole{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kScrapes; ++i) {
        const auto families = collector->Collect();
        if (families.size() == 6) ++whole;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(whole.load(), kThreads * kScrapes);
}

}  // namespace
}  // namespace tcpreap
