#include "support/daemon_hosts.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <thread>

#include "support/scan.h"
#include "support/support_error.h"
#include "support/tcp.h"

namespace tcpreap::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::map<std::string, std::optional<std::string>> clean_env(std::map<std::string, std::optional<std::string>> extra) {
  for (const char* name : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "LISTEN_FDS"})
    extra.emplace(name, std::nullopt);
  return extra;
}

uint64_t DaemonHostsTest::cookie_of(int fd) {
  ScopedNetns in(hosts_->server());
  return socket_of(*scanner_, fd).cookie;
}

uint16_t DaemonHostsTest::free_metrics_port() {
  ScopedNetns in(hosts_->server());
  UniqueFd probe = tcp_listen("127.0.0.1");
  return local_endpoint(probe.get()).port;
}

std::string DaemonHostsTest::config_head(uint16_t metrics_port) {
  return "scan: { interval: 1s }\n"
         "reap: { method: destroy }\n"
         "metrics: { listen: \"127.0.0.1:" + std::to_string(metrics_port) + "\" }\n";
}

std::unique_ptr<ChildProcess> DaemonHostsTest::start(const std::string& config, std::vector<std::string> args,
                                                     std::map<std::string, std::optional<std::string>> env,
                                                     std::vector<std::string> wrapper) {
  std::vector<std::string> argv = {"ip", "netns", "exec", hosts_->server()};
  argv.insert(argv.end(), wrapper.begin(), wrapper.end());
  for (const std::string& a : {daemon_bin_, std::string("--config"), config}) argv.push_back(a);
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<ChildProcess>(argv, clean_env(std::move(env)));
}

std::string DaemonHostsTest::scrape(uint16_t port) {
  ScopedNetns in(hosts_->server());
  return http_get("127.0.0.1", port, "/metrics", 5s);
}

std::string DaemonHostsTest::wait_up(ChildProcess& d, uint16_t metrics_port) {
  const auto deadline = Clock::now() + kDeadline;
  std::string last_error;
  while (Clock::now() < deadline) {
    if (auto status = d.wait_exit(0ms))
      throw SupportError("tcpreapd ended with " + std::to_string(*status) + " before serving metrics:\n" +
                         d.output());
    std::optional<std::string> text;
    try {
      text = scrape(metrics_port);
    } catch (const SupportError& e) {
      last_error = e.what();
    }
    if (text) {
      struct stat exe{}, bin{};
      const std::string proc = "/proc/" + std::to_string(d.pid()) + "/exe";
      if (::stat(proc.c_str(), &exe) != 0 || ::stat(daemon_bin_.c_str(), &bin) != 0 || exe.st_dev != bin.st_dev ||
          exe.st_ino != bin.st_ino)
        throw SupportError("PID " + std::to_string(d.pid()) + " is not " + daemon_bin_ +
                           ": the daemon was not exec'd in place");
      return *text;
    }
    std::this_thread::sleep_for(100ms);
  }
  throw SupportError("tcpreapd never served metrics (" + last_error + "):\n" + d.output());
}

bool DaemonHostsTest::eventually(ChildProcess& d, const std::function<bool()>& done) {
  const auto deadline = Clock::now() + kDeadline;
  while (Clock::now() < deadline) {
    if (done()) return true;
    if (!d.running()) return false;
    std::this_thread::sleep_for(kPollEvery);
  }
  return done();
}

double DaemonHostsTest::metric(uint16_t port, const std::string& name, const MetricLabels& labels) {
  return metric_value(scrape(port), name, labels);
}

double DaemonHostsTest::counter(uint16_t port, const std::string& name, const MetricLabels& labels) {
  return find_metric(scrape(port), name, labels).value_or(0);
}

bool DaemonHostsTest::more_scans(ChildProcess& d, uint16_t port, double n) {
  const double from = metric(port, "tcpreap_scans_total");
  return eventually(d, [&] { return metric(port, "tcpreap_scans_total") >= from + n; });
}

void DaemonHostsTest::expect_clean_stop(ChildProcess& d) {
  d.signal(SIGTERM);
  const auto status = d.wait_exit(kDeadline);
  ASSERT_TRUE(status.has_value()) << "still running after SIGTERM:\n" << d.output();
  EXPECT_EQ(*status, 0) << d.output();
  std::printf("tcpreapd's output:\n%s", d.output().c_str());
}

}  // namespace tcpreap::test
