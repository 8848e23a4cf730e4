// tcpreapd's own health on its metrics endpoint, as Prometheus scrapes it:
// the standard process_* metrics agree with what /proc says of the daemon's
// PID, tcpreap_sock_destroy_supported agrees with the kernel (asked from the
// test, in the same namespace), and every scan-error cause is there at 0.
// Deadlines here only stop a broken run; nothing asserts how fast it was.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "reap/destroy_support.h"
#include "support/daemon_hosts.h"
#include "support/http_get.h"
#include "support/netns.h"
#include "support/temp_file.h"

#ifndef TCPREAPD_BIN
#error "TCPREAPD_BIN (the path of the built tcpreapd) must be defined"
#endif

namespace tcpreap::test {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The soft "Max open files" of /proc/PID/limits.
double max_open_files(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/limits");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream in(line.substr(std::string("Max open files").size()));
    double soft = -1;
    in >> soft;
    return soft;
  }
  return -1;
}

class DaemonHealthMetricsTest : public DaemonHostsTest {
 protected:
  DaemonHealthMetricsTest() : DaemonHostsTest(TCPREAPD_BIN) {}
};

TEST_F(DaemonHealthMetricsTest, ProcessMetricsSockDestroySupportAndScanErrorCauses) {
  const uint16_t mport = free_metrics_port();
  const TempFile cfg(config_head(mport) +
                     "policies:\n"
                     "  - name: any\n"
                     "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                     "    dead_when: { unacked_for: 5m }\n");
  const double before = now_seconds();
  auto d = start(cfg.path());
  const std::string first = wait_up(*d, mport);
  const double after = now_seconds();

  // The kernel's answer, asked here in the daemon's namespace.
  std::optional<Result<DestroySupport>> kernel;
  {
    ScopedNetns in(hosts_->server());
    kernel.emplace(probe_destroy_support());
  }
  ASSERT_TRUE(kernel->ok()) << kernel->error().message();
  EXPECT_EQ(metric_value(first, "tcpreap_sock_destroy_supported"), **kernel == DestroySupport::kSupported ? 1 : 0)
      << first;

  for (const char* cause : {"buffer-overrun", "descriptors", "permission", "interrupted", "protocol", "other"})
    EXPECT_EQ(metric_value(first, "tcpreap_scan_errors_by_cause_total", {{"cause", cause}}), 0)
        << cause << "\n" << first;

  // btime is whole seconds (the start time may read up to 1 s early) and
  // starttime is in clock ticks.
  const double started = metric_value(first, "process_start_time_seconds");
  EXPECT_GE(started, before - 1.5) << first;
  EXPECT_LE(started, after + 0.5) << first;
  EXPECT_EQ(metric_value(first, "process_max_fds"), max_open_files(d->pid())) << first;
  const double open = metric_value(first, "process_open_fds");
  EXPECT_GE(open, 1) << first;
  EXPECT_LE(open, metric_value(first, "process_max_fds")) << first;
  EXPECT_GT(metric_value(first, "process_resident_memory_bytes"), 0) << first;
  EXPECT_GE(metric_value(first, "process_virtual_memory_bytes"), metric_value(first, "process_resident_memory_bytes"))
      << first;

  // Read at each scrape: the CPU time only grows, the start stays.
  ASSERT_TRUE(more_scans(*d, mport, 2)) << d->output();
  const std::string later = scrape(mport);
  EXPECT_GE(metric_value(later, "process_cpu_seconds_total"), metric_value(first, "process_cpu_seconds_total"));
  EXPECT_EQ(metric_value(later, "process_start_time_seconds"), started) << later;
  expect_clean_stop(*d);
}

}  // namespace
}  // namespace tcpreap::test
