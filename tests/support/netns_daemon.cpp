#include "support/netns_daemon.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "support/daemon_hosts.h"
#include "support/netns.h"
#include "support/support_error.h"
#include "support/tcp.h"

namespace tcpreap::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

NetnsDaemon::NetnsDaemon(std::string daemon_bin, std::string netns)
    : daemon_bin_(std::move(daemon_bin)), netns_(std::move(netns)) {
  ScopedNetns in(netns_);
  UniqueFd probe = tcp_listen("127.0.0.1");
  metrics_port_ = local_endpoint(probe.get()).port;
}

std::string NetnsDaemon::config_head() const {
  return "scan: { interval: 1s }\n"
         "reap: { method: destroy }\n"
         "metrics: { listen: \"127.0.0.1:" + std::to_string(metrics_port_) + "\" }\n";
}

void NetnsDaemon::start(const std::string& config_path, std::vector<std::string> args,
                        std::vector<std::string> wrapper) {
  std::vector<std::string> argv = {"ip", "netns", "exec", netns_};
  argv.insert(argv.end(), wrapper.begin(), wrapper.end());
  for (const std::string& a : {daemon_bin_, std::string("--config"), config_path}) argv.push_back(a);
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<ChildProcess>(argv, clean_env());
}

std::string NetnsDaemon::wait_up() {
  const auto deadline = Clock::now() + kDaemonDeadline;
  std::string last_error;
  while (Clock::now() < deadline) {
    if (auto status = process_->wait_exit(0ms))
      throw SupportError("tcpreapd ended with " + std::to_string(*status) + " before serving metrics:\n" + output());
    std::optional<std::string> text;
    try {
      text = scrape();
    } catch (const SupportError& e) {
      last_error = e.what();
    }
    if (text) {
      struct stat exe{}, bin{};
      const std::string proc = "/proc/" + std::to_string(process_->pid()) + "/exe";
      if (::stat(proc.c_str(), &exe) != 0 || ::stat(daemon_bin_.c_str(), &bin) != 0 || exe.st_dev != bin.st_dev ||
          exe.st_ino != bin.st_ino)
        throw SupportError("PID " + std::to_string(process_->pid()) + " is not " + daemon_bin_ +
                           ": the daemon was not exec'd in place");
      return *text;
    }
    std::this_thread::sleep_for(100ms);
  }
  throw SupportError("tcpreapd never served metrics (" + last_error + "):\n" + output());
}

std::string NetnsDaemon::scrape() {
  ScopedNetns in(netns_);
  return http_get("127.0.0.1", metrics_port_, "/metrics", 5s);
}

double NetnsDaemon::metric(const std::string& name, const MetricLabels& labels) {
  return metric_value(scrape(), name, labels);
}

double NetnsDaemon::counter(const std::string& name, const MetricLabels& labels) {
  return find_metric(scrape(), name, labels).value_or(0);
}

bool NetnsDaemon::eventually(const std::function<bool()>& done) {
  const auto deadline = Clock::now() + kDaemonDeadline;
  while (Clock::now() < deadline) {
    if (done()) return true;
    if (!process_->running()) return false;
    std::this_thread::sleep_for(200ms);
  }
  return done();
}

bool NetnsDaemon::more_scans(double n) {
  const double from = metric("tcpreap_scans_total");
  return eventually([&] { return metric("tcpreap_scans_total") >= from + n; });
}

void NetnsDaemon::expect_clean_stop() {
  process_->signal(SIGTERM);
  const auto status = process_->wait_exit(kDaemonDeadline);
  EXPECT_TRUE(status.has_value()) << "still running after SIGTERM:\n" << output();
  if (status) {
    EXPECT_EQ(*status, 0) << output();
  }
  std::printf("tcpreapd's output:\n%s", output().c_str());
}

}  // namespace tcpreap::test
