// tcpreapd, the service, on the real kernel. It runs in the server namespace
// of two test hosts (`ip netns exec` execs it in place: its PID is ours to
// signal), scanning every second; the test watches it the way systemd and
// Prometheus would - by its sockets, its metrics endpoint, its sd_notify
// datagrams, its log lines and its exit status:
//  - half-open connections (their peers silently dropped by nft on the
//    client host) are reaped, verified by a probe first; a live idle peer
//    from the same address and a busy loopback connection are untouched;
//    the metrics count exactly that;
//  - SIGHUP with a broken file keeps the last good policy acting and says
//    where the file is broken; with a valid file the new policy takes over;
//  - READY, RELOADING with MONOTONIC_USEC, READY again, WATCHDOG, STOPPING;
//  - SIGTERM during a busy first turn and in an idle moment: exit 0;
//  - --dry-run decides and counts but reaps nothing;
//  - --check-config, --version and a bad flag: their exit statuses.
// Deadlines here only stop a broken run; nothing asserts how fast it was.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/busy_connection.h"
#include "support/child_process.h"
#include "support/command.h"
#include "support/daemon_hosts.h"
#include "support/http_get.h"
#include "support/netns.h"
#include "support/peer_hosts.h"
#include "support/notify_listener.h"
#include "support/privileges.h"
#include "support/scan.h"
#include "support/support_error.h"
#include "support/tcp.h"
#include "support/temp_file.h"

#ifndef TCPREAPD_BIN
#error "TCPREAPD_BIN (the path of the built tcpreapd) must be defined"
#endif

namespace tcpreap::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = kDaemonDeadline;

const MetricLabels kNoLabels;

using Conn = PeerConn;

// One action line of the daemon's log, e.g.
// "tcpreapd: reaped        10.231.0.1:2181 <- 10.231.0.2:40000    stale: silent ...":
// the word before the local endpoint ("reaped", "reap" of "would reap",
// "gone" of "already gone") and the remote endpoint's port.
struct ActionLine {
  std::string word;
  uint16_t remote_port = 0;
  std::string text;
};

std::vector<ActionLine> action_lines(const std::string& output) {
  std::vector<ActionLine> out;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string t; words >> t;) w.push_back(t);
    for (size_t j = 2; j + 1 < w.size(); ++j) {
      if (w[j] != "<-") continue;
      const std::string& remote = w[j + 1];
      const size_t colon = remote.rfind(':');
      if (colon == std::string::npos) break;
      out.push_back({w[j - 2], static_cast<uint16_t>(std::stoul(remote.substr(colon + 1))), line});
      break;
    }
  }
  return out;
}

std::vector<uint16_t> reaped_ports(const std::string& output) {
  std::vector<uint16_t> out;
  for (const auto& a : action_lines(output))
    if (a.word == "reaped") out.push_back(a.remote_port);
  return out;
}

// The lines of one sd_notify datagram, "READY=1\nSTATUS=..." -> {READY=1, STATUS=...}.
std::vector<std::string> assignments(const std::string& datagram) {
  std::vector<std::string> out;
  std::istringstream in(datagram);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

bool has(const std::string& datagram, const std::string& assignment) {
  for (const auto& a : assignments(datagram))
    if (a == assignment) return true;
  return false;
}

std::string quoted_lines(const std::vector<std::string>& datagrams) {
  std::string s;
  for (const auto& d : datagrams) {
    std::string one = d;
    for (char& c : one)
      if (c == '\n') c = '|';
    s += "\n  " + one;
  }
  return s;
}

uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

void rewrite(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw SupportError("writing " + path);
}

// The sd_notify datagrams of a daemon, kept in order for failure messages.
// Read them steadily: sd_notify() blocks the daemon while the socket's queue
// is full (net.unix.max_dgram_qlen, 10 datagrams by default).
class Notifications {
 public:
  explicit Notifications(NotifyListener& listener) : listener_(listener) {}

  // The next datagram for which `wanted` holds; nothing when none came by
  // the deadline.
  std::optional<std::string> next(const std::function<bool(const std::string&)>& wanted) {
    const auto deadline = Clock::now() + kDeadline;
    while (Clock::now() < deadline) {
      auto d = listener_.next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
      if (!d) break;
      seen_.push_back(*d);
      if (wanted(*d)) return d;
    }
    return std::nullopt;
  }
  // The next datagram that is more than a STATUS= update or a watchdog
  // ping (those come at any time).
  std::optional<std::string> next_event() {
    return next([](const std::string& d) {
      for (const auto& a : assignments(d))
        if (a.rfind("STATUS=", 0) != 0 && a != "WATCHDOG=1") return true;
      return false;
    });
  }
  // The next datagram with `assignment` in it.
  std::optional<std::string> next_with(const std::string& assignment) {
    return next([&](const std::string& d) { return has(d, assignment); });
  }
  // What has come and not been read yet.
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    while (auto d = listener_.next(0ms)) {
      seen_.push_back(*d);
      out.push_back(*d);
    }
    return out;
  }
  std::string seen_text() const { return quoted_lines(seen_); }

 private:
  NotifyListener& listener_;
  std::vector<std::string> seen_;
};

class DaemonTest : public DaemonHostsTest {
 protected:
  DaemonTest() : DaemonHostsTest(TCPREAPD_BIN) {}
};

TEST_F(DaemonTest, ReapsHalfOpenConnectionsKeepsLiveOnesAndCountsThem) {
  Conn live = connect(false, 0), dead4 = connect(false, 0), dead6 = connect(true, 0);
  // A busy connection on the policy's port, both ends in the server namespace.
  UniqueFd busy_client;
  {
    ScopedNetns in(hosts_->server());
    busy_client = tcp_connect("127.0.0.1", port_[0]);
  }
  UniqueFd busy_server = tcp_accept(listener4_[0].get());
  const uint64_t busy_cookie = cookie_of(busy_server.get());
  BusyConnection busy(std::move(busy_client), std::move(busy_server), 10ms);
  kill_peers({&dead4, &dead6});

  const uint16_t mport = free_metrics_port();
  const TempFile cfg(config_head(mport) +
                     "policies:\n"
                     "  - name: stale\n"
                     "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                     "    dead_when: { silent_for: 2s }\n"
                     "    verify: { probes: 1, interval: 1s }\n");
  auto d = start(cfg.path());
  wait_up(*d, mport);
  const auto started = Clock::now();

  ASSERT_TRUE(eventually(*d, [&] { return !present(dead4) && !present(dead6); }))
      << "the dead connections are still there:\n" << d->output();
  std::printf("dead connections gone %.1f s after the daemon was up\n",
              std::chrono::duration<double>(Clock::now() - started).count());
  EXPECT_EQ(next_recv(dead4.server.get()), ECONNABORTED);
  EXPECT_EQ(next_recv(dead6.server.get()), ECONNABORTED);

  // The turn that reaped them reports at its end: wait for its counts.
  const MetricLabels reaped_labels{{"policy", "stale"}, {"method", "destroy"}, {"reason", "silent"}};
  ASSERT_TRUE(eventually(*d, [&] { return counter(mport, "tcpreap_reaped_connections_total", reaped_labels) >= 2; }))
      << scrape(mport) << d->output();
  ASSERT_TRUE(more_scans(*d, mport, 2)) << d->output();  // nothing more is reaped meanwhile

  EXPECT_TRUE(present(live)) << "a live idle connection was reaped";
  {
    ScopedNetns in(hosts_->server());
    EXPECT_TRUE(cookie_present(*scanner_, busy_cookie)) << "the busy connection was reaped";
  }
  expect_untouched(live);
  busy.stop();
  EXPECT_EQ(busy.error(), "");
  EXPECT_GT(busy.rounds(), 0u);

  const std::string text = scrape(mport);
  EXPECT_EQ(metric_value(text, "tcpreap_reaped_connections_total", reaped_labels), 2) << text;
  EXPECT_GE(metric_value(text, "tcpreap_probes_sent_total"), 3) << text;  // both dead, and the live one
  EXPECT_GE(metric_value(text, "tcpreap_probes_answered_total"), 1) << text;
  EXPECT_GE(metric_value(text, "tcpreap_scans_total"), 1) << text;
  EXPECT_EQ(metric_value(text, "tcpreap_dry_run"), 0) << text;
  EXPECT_EQ(metric_value(text, "tcpreap_config_last_reload_successful"), 1) << text;

  const std::string out = d->output();
  const auto reaped = reaped_ports(out);
  EXPECT_EQ(std::multiset<uint16_t>(reaped.begin(), reaped.end()),
            (std::multiset<uint16_t>{dead4.client_port, dead6.client_port}))
      << out;
  expect_clean_stop(*d);
}

TEST_F(DaemonTest, ReloadKeepsTheLastGoodPolicyThenTakesTheNewOne) {
  const uint16_t mport = free_metrics_port();
  const std::string head = config_head(mport);
  const TempFile cfg(head +
                     "policies:\n"
                     "  - name: first\n"
                     "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                     "    dead_when: { silent_for: 2s }\n");
  auto d = start(cfg.path());
  wait_up(*d, mport);
  EXPECT_EQ(metric(mport, "tcpreap_config_last_reload_successful"), 1);

  // A broken file: line 7 (after the three lines of head) has a port that is none.
  rewrite(cfg.path(), head +
                          "policies:\n"
                          "  - name: first\n"
                          "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                          "    dead_when: { silent_for: 2 fortnights }\n");
  d->signal(SIGHUP);
  const MetricLabels failure{{"result", "failure"}}, success{{"result", "success"}};
  ASSERT_TRUE(eventually(*d, [&] { return counter(mport, "tcpreap_config_reloads_total", failure) >= 1; }))
      << d->output();
  ASSERT_TRUE(d->running());
  {
    const std::string text = scrape(mport);
    EXPECT_EQ(metric_value(text, "tcpreap_config_last_reload_successful"), 0) << text;
    EXPECT_EQ(metric_value(text, "tcpreap_config_reloads_total", failure), 1) << text;
    EXPECT_EQ(find_metric(text, "tcpreap_config_reloads_total", success).value_or(0), 0) << text;
  }
  const std::string out = d->output();
  EXPECT_NE(out.find(cfg.path() + ":7:"), std::string::npos) << "no " << cfg.path() << ":7:COLUMN in:\n" << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(:7:[0-9]+: )"))) << out;

  // The last good policy still acts.
  Conn old1 = connect(false, 0);
  kill_peers({&old1});
  ASSERT_TRUE(eventually(*d, [&] { return !present(old1); })) << "the old policy stopped acting:\n" << d->output();
  EXPECT_EQ(next_recv(old1.server.get()), ECONNABORTED);

  // A valid file with a policy on the other port only.
  rewrite(cfg.path(), head +
                          "policies:\n"
                          "  - name: second\n"
                          "    match: { local_ports: [" + std::to_string(port_[1]) + "] }\n"
                          "    dead_when: { silent_for: 2s }\n");
  d->signal(SIGHUP);
  ASSERT_TRUE(eventually(*d, [&] { return counter(mport, "tcpreap_config_reloads_total", success) >= 1; }))
      << d->output();
  {
    const std::string text = scrape(mport);
    EXPECT_EQ(metric_value(text, "tcpreap_config_last_reload_successful"), 1) << text;
    EXPECT_EQ(metric_value(text, "tcpreap_config_reloads_total", success), 1) << text;
    EXPECT_EQ(metric_value(text, "tcpreap_config_reloads_total", failure), 1) << text;
  }

  Conn new1 = connect(false, 1), old2 = connect(false, 0);
  kill_peers({&new1, &old2});
  ASSERT_TRUE(eventually(*d, [&] { return !present(new1); })) << "the new policy does not act:\n" << d->output();
  EXPECT_EQ(next_recv(new1.server.get()), ECONNABORTED);
  // old2 has been silent as long as new1 was when it went: under the old
  // policy it would go within a scan or two.
  ASSERT_TRUE(more_scans(*d, mport, 3)) << d->output();
  EXPECT_TRUE(present(old2)) << "the old policy still acts:\n" << d->output();
  EXPECT_EQ(next_recv(old2.server.get(), 0), EAGAIN);

  const std::string text = scrape(mport);
  EXPECT_EQ(metric_value(text, "tcpreap_reaped_connections_total",
                         {{"policy", "first"}, {"method", "destroy"}, {"reason", "silent"}}),
            1)
      << text;
  EXPECT_EQ(metric_value(text, "tcpreap_reaped_connections_total",
                         {{"policy", "second"}, {"method", "destroy"}, {"reason", "silent"}}),
            1)
      << text;
  const auto reaped = reaped_ports(d->output());
  EXPECT_EQ(std::multiset<uint16_t>(reaped.begin(), reaped.end()),
            (std::multiset<uint16_t>{old1.client_port, new1.client_port}))
      << d->output();
  expect_clean_stop(*d);
}

TEST_F(DaemonTest, TellsSystemdReadyReloadingWatchdogAndStopping) {
  NotifyListener listener;
  Notifications notify(listener);
  const uint16_t mport = free_metrics_port();
  const TempFile cfg(config_head(mport) +
                     "policies:\n"
                     "  - name: any\n"
                     "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                     "    dead_when: { silent_for: 1m }\n");
  // The watchdog asks for a ping every 200 ms.
  auto d = start(cfg.path(), {}, {{"NOTIFY_SOCKET", listener.path()}, {"WATCHDOG_USEC", "400000"}});

  // READY=1 comes before any other event. (sd_event_set_watchdog() pings
  // once when it is switched on, so a WATCHDOG=1 may well precede it; that
  // is allowed, and next_event() passes over pings and STATUS= updates.)
  auto ready = notify.next_event();
  ASSERT_TRUE(ready) << "no notification; seen:" << notify.seen_text() << "\n" << d->output();
  EXPECT_TRUE(has(*ready, "READY=1")) << "the first notification is not READY=1:" << notify.seen_text();
  EXPECT_NE(ready->find("STATUS="), std::string::npos) << *ready;
  // A ping after READY: the periodic one, not the one sd-event sends when
  // the watchdog is switched on.
  ASSERT_TRUE(notify.next_with("WATCHDOG=1")) << "no WATCHDOG=1 after READY; seen:" << notify.seen_text();
  // Each turn reports its STATUS= on its own.
  auto status_only = [](const std::string& dgram) { return dgram.rfind("STATUS=", 0) == 0 && !has(dgram, "READY=1"); };
  ASSERT_TRUE(notify.next(status_only))
      << "no STATUS= after a scan; seen:" << notify.seen_text();

  const uint64_t before = monotonic_usec();
  d->signal(SIGHUP);
  auto reloading = notify.next_event();
  const uint64_t after = monotonic_usec();
  ASSERT_TRUE(reloading) << "nothing after SIGHUP; seen:" << notify.seen_text() << "\n" << d->output();
  EXPECT_TRUE(has(*reloading, "RELOADING=1")) << notify.seen_text();
  std::smatch m;
  const std::string reloading_text = *reloading;
  ASSERT_TRUE(std::regex_search(reloading_text, m, std::regex(R"((?:^|\n)MONOTONIC_USEC=([0-9]+)(?:\n|$))")))
      << "no MONOTONIC_USEC=<digits> in: " << notify.seen_text();
  const uint64_t usec = std::stoull(m[1]);
  // The daemon's CLOCK_MONOTONIC is ours: it read it after our SIGHUP.
  EXPECT_GE(usec, before);
  EXPECT_LE(usec, after);
  auto ready_again = notify.next_event();
  ASSERT_TRUE(ready_again) << "no READY=1 after RELOADING=1; seen:" << notify.seen_text();
  EXPECT_TRUE(has(*ready_again, "READY=1")) << notify.seen_text();
  EXPECT_NE(ready_again->find("STATUS="), std::string::npos) << *ready_again;

  d->signal(SIGTERM);
  auto stopping = notify.next_event();
  ASSERT_TRUE(stopping) << "nothing after SIGTERM; seen:" << notify.seen_text() << "\n" << d->output();
  EXPECT_TRUE(has(*stopping, "STOPPING=1")) << notify.seen_text();
  const auto status = d->wait_exit(kDeadline);
  ASSERT_TRUE(status) << "still running after SIGTERM:\n" << d->output();
  EXPECT_EQ(*status, 0) << d->output();
  for (const auto& late : notify.drain())
    EXPECT_FALSE(has(late, "READY=1") || has(late, "RELOADING=1")) << "after STOPPING=1:" << notify.seen_text();
  std::printf("notifications:%s\n", notify.seen_text().c_str());
}

// SIGTERM is handled between turns (sd-event reads it from a signalfd):
// sent at several moments after READY=1 - the first turn starts at once and
// probes the dead peers, so some of them land while it is busy - and once
// in an idle moment of a later turn. Either way: exit 0, STOPPING=1, and a
// socket the log calls reaped is really gone.
TEST_F(DaemonTest, StopsCleanlyOnSigtermDuringABusyTurnAndWhenIdle) {
  Conn dead4 = connect(false, 0), dead6 = connect(true, 0), live = connect(false, 0);
  kill_peers({&dead4, &dead6});
  const std::vector<Conn*> conns = {&dead4, &dead6, &live};
  auto config = [&](uint16_t metrics_port) {
    return config_head(metrics_port) +
           "policies:\n"
           "  - name: verified\n"
           "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
           "    dead_when: { silent_for: 1s }\n"
           "    verify: { probes: 3, interval: 1s }\n";
  };
  auto expect_reaped_are_gone = [&](const std::string& output) {
    for (uint16_t port : reaped_ports(output)) {
      bool known = false;
      for (Conn* c : conns) {
        if (c->client_port != port) continue;
        known = true;
        EXPECT_NE(c, &live) << "the live connection was reaped:\n" << output;
        EXPECT_FALSE(present(*c)) << "logged as reaped, still there: port " << port << "\n" << output;
      }
      EXPECT_TRUE(known) << "reaped an unknown connection from port " << port << "\n" << output;
    }
  };
  // Silent longer than silent_for already: the first turn probes.
  std::this_thread::sleep_for(1500ms);
  for (const auto after_ready : {0ms, 5ms, 20ms, 50ms, 100ms, 200ms}) {
    SCOPED_TRACE("SIGTERM " + std::to_string(after_ready.count()) + " ms after READY=1");
    NotifyListener listener;
    Notifications notify(listener);
    const TempFile cfg(config(free_metrics_port()));
    auto d = start(cfg.path(), {"--verbose"}, {{"NOTIFY_SOCKET", listener.path()}});
    ASSERT_TRUE(notify.next_with("READY=1")) << "no READY=1:" << notify.seen_text() << "\n" << d->output();
    std::this_thread::sleep_for(after_ready);
    d->signal(SIGTERM);
    const auto status = d->wait_exit(kDeadline);
    ASSERT_TRUE(status) << "still running after SIGTERM:\n" << d->output();
    EXPECT_EQ(*status, 0) << d->output();
    (void)notify.drain();
    EXPECT_NE(notify.seen_text().find("STOPPING=1"), std::string::npos) << notify.seen_text();
    const std::string out = d->output();
    std::printf("SIGTERM %3lld ms after READY=1: %zu action lines (probes, reaps) before it stopped\n",
                static_cast<long long>(after_ready.count()), action_lines(out).size());
    expect_reaped_are_gone(out);
  }
  {
    const uint16_t mport = free_metrics_port();
    const TempFile cfg(config(mport));
    auto d = start(cfg.path());
    wait_up(*d, mport);
    ASSERT_TRUE(more_scans(*d, mport, 3)) << d->output();
    expect_clean_stop(*d);
    expect_reaped_are_gone(d->output());
  }
  EXPECT_TRUE(present(live));
  expect_untouched(live);
}

TEST_F(DaemonTest, DryRunReapsNothingButCountsWhatItWould) {
  Conn dead4 = connect(false, 0), dead6 = connect(true, 0);
  kill_peers({&dead4, &dead6});
  const uint16_t mport = free_metrics_port();
  const TempFile cfg(config_head(mport) +
                     "policies:\n"
                     "  - name: stale\n"
                     "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                     "    dead_when: { silent_for: 1s }\n");
  auto d = start(cfg.path(), {"--dry-run"});
  wait_up(*d, mport);
  const MetricLabels would{{"policy", "stale"}, {"reason", "silent"}};
  ASSERT_TRUE(eventually(*d, [&] { return counter(mport, "tcpreap_would_reap_connections_total", would) > 0; }))
      << scrape(mport) << d->output();
  ASSERT_TRUE(more_scans(*d, mport, 3)) << d->output();

  EXPECT_TRUE(present(dead4)) << "a dry run reaped:\n" << d->output();
  EXPECT_TRUE(present(dead6)) << "a dry run reaped:\n" << d->output();
  EXPECT_EQ(next_recv(dead4.server.get(), 0), EAGAIN);
  EXPECT_EQ(next_recv(dead6.server.get(), 0), EAGAIN);
  const std::string text = scrape(mport);
  EXPECT_EQ(metric_value(text, "tcpreap_would_reap_connections_total", would), 2)
      << "each dead connection counted once, however many scans found it:\n" << text;
  for (const char* method : {"destroy", "rst"})
    EXPECT_EQ(find_metric(text, "tcpreap_reaped_connections_total",
                          {{"policy", "stale"}, {"method", method}, {"reason", "silent"}})
                  .value_or(0),
              0)
        << text;
  EXPECT_EQ(metric_value(text, "tcpreap_dry_run"), 1) << text;

  const std::string out = d->output();
  EXPECT_TRUE(reaped_ports(out).empty()) << out;
  std::multiset<uint16_t> would_ports;
  for (const auto& a : action_lines(out))
    if (a.word == "reap") would_ports.insert(a.remote_port);  // "would reap"
  EXPECT_EQ(would_ports, (std::multiset<uint16_t>{dead4.client_port, dead6.client_port}))
      << "one line per dead connection, not one per scan:\n" << out;
  expect_clean_stop(*d);
}

// No kernel, no root: the command line alone.
TEST(DaemonCommandLine, CheckConfigVersionAndBadArguments) {
  const std::string policy = "policies:\n"
                             "  - name: zk\n"
                             "    match: { local_ports: [2181] }\n";
  const TempFile valid("scan: { interval: 1s }\n" + policy + "    dead_when: { silent_for: 2m }\n");
  const TempFile broken("scan: { interval: 1s }\n" + policy + "    dead_when: { silent_for: 2 fortnights }\n");

  CommandResult r = run_command({TCPREAPD_BIN, "--check-config", "--config", valid.path()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("valid"), std::string::npos) << r.out;

  r = run_command({TCPREAPD_BIN, "--config", broken.path(), "--check-config"});
  EXPECT_EQ(r.exit_code, 78) << r.out << r.err;
  EXPECT_NE(r.err.find(broken.path() + ":5:"), std::string::npos) << r.err;
  EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(:5:[0-9]+: )"))) << r.err;

  r = run_command({TCPREAPD_BIN, "--check-config", "--config", "/nonexistent/tcpreap.yaml"});
  EXPECT_EQ(r.exit_code, 78) << r.out << r.err;
  EXPECT_NE(r.err.find("/nonexistent/tcpreap.yaml"), std::string::npos) << r.err;

  r = run_command({TCPREAPD_BIN, "--bogus"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("bogus"), std::string::npos) << r.err;

  r = run_command({TCPREAPD_BIN, "--version"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(^tcpreapd [0-9]+\.[0-9]+)"))) << r.out;
}

}  // namespace
}  // namespace tcpreap::test
