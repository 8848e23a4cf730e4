// tcpreapd never turns faster than its schedule, whatever the probes give;
// and a reload that shortens the schedule takes effect at once.
//
// The case that once made it spin: a probe whose outcome is `gone` while the
// socket is still there. The server ends of the connections here are bound
// to `lo` (SO_BINDTODEVICE) once established, while their address lives on
// the veth. The prober's challenge SYN, spoofed from the peer, arrives with
// the veth as its incoming interface (for a local route the kernel keeps
// the address's device as rt_iif, ip_route_output_key_hash_rcu()), where no
// socket bound to `lo` can take it (inet_bound_dev_eq() in the lookup): the
// kernel answers with an RST from the socket's own 4-tuple
// (tcp_v4_send_reset() without a socket), which the prober reads as "the
// socket is gone" - while the socket lives on, verifying, scan after scan.
//
// The turns are counted with tcpreap_scans_total over a window the test
// measures itself; the bound comes from the intervals (at most one turn per
// `floor`, plus the ones already under way at each end), not from timing.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "support/child_process.h"
#include "support/daemon_hosts.h"
#include "support/http_get.h"
#include "support/netns.h"
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

// Binds a connected socket to `device`: from now on it takes only segments
// whose incoming interface is that device.
void bind_to_device(int fd, const std::string& device) {
  if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), static_cast<socklen_t>(device.size())) != 0)
    throw SupportError("SO_BINDTODEVICE " + device + ": " + std::strerror(errno));
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

class DaemonScheduleTest : public DaemonHostsTest {
 protected:
  DaemonScheduleTest() : DaemonHostsTest(TCPREAPD_BIN) {}
};

TEST_F(DaemonScheduleTest, ProbesOfASocketThatLooksGoneNeverSpeedUpTheTurns) {
  // A listener of its own, closed once the connections are made: with no
  // listener on the port, nothing but the bound sockets could take a SYN.
  UniqueFd listener;
  uint16_t port = 0;
  {
    ScopedNetns in(hosts_->server());
    listener = tcp_listen("0.0.0.0");
    port = local_endpoint(listener.get()).port;
  }
  constexpr int kConns = 3;
  PeerConn conns[kConns];
  std::vector<PeerConn*> dead;
  for (PeerConn& c : conns) {
    {
      ScopedNetns in(hosts_->client());
      c.client = tcp_connect(TestHosts::kServer4, port);
    }
    c.server = tcp_accept(listener.get());
    c.client_port = local_endpoint(c.client.get()).port;
    c.cookie = cookie_of(c.server.get());
    bind_to_device(c.server.get(), "lo");
    dead.push_back(&c);
  }
  listener.reset();
  kill_peers(dead);

  // Both intervals 1 s: no turn may start less than 1 s after the last one.
  constexpr auto kFloor = 1s;
  const uint16_t mport = free_metrics_port();
  const TempFile cfg(config_head(mport) +
                     "policies:\n"
                     "  - name: bound\n"
                     "    match: { local_ports: [" + std::to_string(port) + "] }\n"
                     "    dead_when: { silent_for: 1s }\n"
                     "    verify: { probes: 3, interval: 1s }\n");
  auto d = start(cfg.path());
  wait_up(*d, mport);
  const std::string kGoneAnswer = "an RST answered the SYN";
  ASSERT_TRUE(eventually(*d, [&] { return d->output().find(kGoneAnswer) != std::string::npos; }))
      << "no probe found the socket gone; the case under test did not happen:\n" << d->output();

  // The window: from before the first read of the counter to after the last.
  const auto from = Clock::now();
  const double turns_before = metric(mport, "tcpreap_scans_total");
  std::this_thread::sleep_for(4s);
  const double turns_after = metric(mport, "tcpreap_scans_total");
  const auto window = Clock::now() - from;
  const double turns = turns_after - turns_before;
  const double bound = std::chrono::duration<double>(window) / kFloor + 2;
  std::printf("%.0f turns in %.2f s (bound %.1f); %zu probes found the sockets gone\n", turns,
              std::chrono::duration<double>(window).count(), bound, occurrences(d->output(), kGoneAnswer));
  EXPECT_LE(turns, bound) << "the daemon turned faster than its schedule allows";

  for (const PeerConn& c : conns) EXPECT_TRUE(present(c)) << "port " << c.client_port << " is gone after all";
  const std::string text = scrape(mport);
  EXPECT_EQ(metric_value(text, "tcpreap_verifying_connections", {{"policy", "bound"}}), kConns) << text;
  // A probe that found a socket gone that the scans still see could not probe it.
  EXPECT_GE(metric_value(text, "tcpreap_probe_errors_total"), 1) << text;
  expect_clean_stop(*d);
}

// Probes deferred by verify.max_per_scan are due again at once, turn after
// turn: the floor spaces those turns too, and the deferrals are counted.
TEST_F(DaemonScheduleTest, ProbesDeferredByTheCapWaitForTheNextTurnNotLess) {
  constexpr int kConns = 3;
  PeerConn conns[kConns];
  std::vector<PeerConn*> dead;
  for (PeerConn& c : conns) {
    c = connect(false, 0);
    dead.push_back(&c);
  }
  kill_peers(dead);

  constexpr auto kFloor = 1s;  // scan.interval 10s, verify.interval 1s
  const uint16_t mport = free_metrics_port();
  const TempFile cfg("scan: { interval: 10s }\n"
                     "reap: { method: destroy }\n"
                     "metrics: { listen: \"127.0.0.1:" + std::to_string(mport) + "\" }\n"
                     "policies:\n"
                     "  - name: capped\n"
                     "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                     "    dead_when: { silent_for: 1s }\n"
                     "    verify: { probes: 10, interval: 1s, max_per_scan: 1 }\n");
  std::this_thread::sleep_for(1500ms);  // silent longer than silent_for: the first turn probes
  auto d = start(cfg.path());
  wait_up(*d, mport);
  const MetricLabels capped{{"policy", "capped"}};
  ASSERT_TRUE(eventually(*d, [&] { return counter(mport, "tcpreap_probes_deferred_total", capped) >= 2; }))
      << scrape(mport) << d->output();

  const auto from = Clock::now();
  const double turns_before = metric(mport, "tcpreap_scans_total");
  std::this_thread::sleep_for(4s);
  const std::string text = scrape(mport);
  const auto window = Clock::now() - from;
  const double turns = metric_value(text, "tcpreap_scans_total") - turns_before;
  const double bound = std::chrono::duration<double>(window) / kFloor + 2;
  std::printf("%.0f turns in %.2f s (bound %.1f), %.0f probes deferred, %.0f sent\n", turns,
              std::chrono::duration<double>(window).count(), bound,
              metric_value(text, "tcpreap_probes_deferred_total", capped),
              metric_value(text, "tcpreap_probes_sent_total"));
  EXPECT_LE(turns, bound) << "the daemon turned faster than its schedule allows";
  EXPECT_GE(turns, 2) << "the deferred probes bring turns forward (scan.interval is 10s)";
  // One probe per turn, however many are due.
  EXPECT_LE(metric_value(text, "tcpreap_probes_sent_total"), metric_value(text, "tcpreap_scans_total")) << text;
  expect_clean_stop(*d);
}

// A reload that shortens scan.interval takes effect at once: the next turn
// is reckoned again from the last one's start under the new interval, not
// left where the old interval put it. The old interval here is a minute, so
// a turn still on the old schedule cannot fall into the window; under the
// new one (1 s, from a start well over 1 s ago) the window sees several.
TEST_F(DaemonScheduleTest, AReloadThatShortensTheIntervalReschedulesTheNextTurnAtOnce) {
  const uint16_t mport = free_metrics_port();
  auto config = [&](const char* interval) {
    return std::string("scan: { interval: ") + interval + " }\n" +
           "reap: { method: destroy }\n"
           "metrics: { listen: \"127.0.0.1:" + std::to_string(mport) + "\" }\n"
           "policies:\n"
           "  - name: any\n"
           "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
           "    dead_when: { silent_for: 1h }\n";
  };
  const TempFile cfg(config("60s"));
  auto d = start(cfg.path());
  wait_up(*d, mport);
  ASSERT_TRUE(eventually(*d, [&] { return metric(mport, "tcpreap_scans_total") >= 1; })) << d->output();

  std::ofstream(cfg.path(), std::ios::trunc) << config("1s");
  d->signal(SIGHUP);
  const MetricLabels success{{"result", "success"}};
  ASSERT_TRUE(eventually(*d, [&] { return counter(mport, "tcpreap_config_reloads_total", success) >= 1; }))
      << d->output();

  const auto from = Clock::now();
  const double turns_before = metric(mport, "tcpreap_scans_total");
  std::this_thread::sleep_for(3s);
  const double turns = metric(mport, "tcpreap_scans_total") - turns_before;
  const auto window = Clock::now() - from;
  const double bound = std::chrono::duration<double>(window) / 1s + 2;
  std::printf("%.0f turns in the %.2f s after the reload (at most %.1f)\n", turns,
              std::chrono::duration<double>(window).count(), bound);
  EXPECT_GE(turns, 2) << "the turns still follow the old 60 s interval:\n" << d->output();
  EXPECT_LE(turns, bound) << "the daemon turned faster than its new interval allows";
  expect_clean_stop(*d);
}

}  // namespace
}  // namespace tcpreap::test
