#pragma once
// tcpreapd under test in a network namespace the test chooses - one of its
// own, apart from every host it judges (namespaces.scan: all), or a host's
// own - started with `ip netns exec NS` (the PID is the daemon's) and
// watched as Prometheus would: its metrics endpoint on 127.0.0.1 in that
// namespace, and its output. Deadlines only stop a broken run.
// Not thread-safe; start it from the test body's thread (child_process.h).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/http_get.h"

namespace tcpreap::test {

class NetnsDaemon {
 public:
  // Picks a free metrics port in `netns` (/run/netns/NAME); starts nothing.
  NetnsDaemon(std::string daemon_bin, std::string netns);

  const std::string& netns() const { return netns_; }
  uint16_t metrics_port() const { return metrics_port_; }
  // scan every 1s, reap by SOCK_DESTROY, metrics on 127.0.0.1:metrics_port().
  std::string config_head() const;

  // `[wrapper...] tcpreapd --config F args...` in the namespace, with
  // clean_env(); not up yet when this returns.
  void start(const std::string& config_path, std::vector<std::string> args = {},
             std::vector<std::string> wrapper = {});
  // Waits until it serves metrics and returns the first scrape; throws if
  // it ended or never did, or if the PID is not the daemon binary's.
  std::string wait_up();

  ChildProcess& process() { return *process_; }
  std::string output() const { return process_->output(); }

  std::string scrape();
  double metric(const std::string& name, const MetricLabels& labels = {});
  // A series that may not exist yet: absent counts as 0.
  double counter(const std::string& name, const MetricLabels& labels = {});
  // Polls `done` until it holds; false after kDaemonDeadline or as soon as
  // the daemon has ended.
  bool eventually(const std::function<bool()>& done);
  // Waits until it has finished `n` more scans than now.
  bool more_scans(double n);
  // SIGTERM, then exit status 0 is expected (gtest EXPECTs); prints its output.
  void expect_clean_stop();

 private:
  std::string daemon_bin_;
  std::string netns_;
  uint16_t metrics_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace tcpreap::test
