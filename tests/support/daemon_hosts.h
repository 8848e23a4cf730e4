#pragma once
// tcpreapd under test in the server namespace of PeerHostsTest's two hosts,
// watched as systemd and Prometheus would: its PID, its metrics endpoint,
// its output. Derive a gtest fixture from it, passing the built binary.
// Deadlines here only stop a broken run; nothing asserts how fast it was.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/http_get.h"
#include "support/peer_hosts.h"

namespace tcpreap::test {

// Bounds a broken run only: a healthy one is done in a few seconds.
inline constexpr std::chrono::seconds kDaemonDeadline{30};

// The environment a daemon under test gets: nothing of a systemd that may
// run the test suite itself leaks in (logs go to stderr, no notifications).
std::map<std::string, std::optional<std::string>> clean_env(
    std::map<std::string, std::optional<std::string>> extra = {});

class DaemonHostsTest : public PeerHostsTest {
 protected:
  static constexpr std::chrono::seconds kDeadline = kDaemonDeadline;
  static constexpr std::chrono::milliseconds kPollEvery{200};

  explicit DaemonHostsTest(std::string daemon_bin) : daemon_bin_(std::move(daemon_bin)) {}

  // The server end's cookie of a socket of the server namespace.
  uint64_t cookie_of(int fd);
  // A free port for the metrics endpoint in the server namespace.
  uint16_t free_metrics_port();
  // scan every 1s, reap by SOCK_DESTROY, metrics on 127.0.0.1:port.
  static std::string config_head(uint16_t metrics_port);

  // tcpreapd in the server namespace (`ip netns exec` execs in place: the
  // PID is the daemon's); it is not up yet when this returns. `wrapper` is
  // a program that execs the daemon in place (setpriv ...), put before it.
  std::unique_ptr<ChildProcess> start(const std::string& config, std::vector<std::string> args = {},
                                      std::map<std::string, std::optional<std::string>> env = {},
                                      std::vector<std::string> wrapper = {});
  std::string scrape(uint16_t port);
  // Waits until the daemon serves its metrics (from then on a signal is
  // handled, not fatal) and returns the first scrape; throws if it ended or
  // never did, or if the PID is not the daemon's own.
  std::string wait_up(ChildProcess& d, uint16_t metrics_port);
  // Polls `done` until it holds; false after kDeadline or as soon as the
  // daemon has ended (a test then fails with its output).
  bool eventually(ChildProcess& d, const std::function<bool()>& done);
  double metric(uint16_t port, const std::string& name, const MetricLabels& labels = {});
  // A counter that may not have been created yet: absent counts as 0.
  double counter(uint16_t port, const std::string& name, const MetricLabels& labels = {});
  // Waits until the daemon has finished `n` more scans than now.
  bool more_scans(ChildProcess& d, uint16_t port, double n);
  // SIGTERM, then exit status 0 is expected; its output goes to the test's.
  void expect_clean_stop(ChildProcess& d);

  const std::string daemon_bin_;
};

}  // namespace tcpreap::test
