// tcpreapd's metrics endpoint under clients that hold connections and send
// nothing (or half a request): a scrape - Prometheus's, or the liveness
// probe of a DaemonSet - is still answered while they are held open. The
// bounds the endpoint promises are in lib/metrics/daemon_metrics.h.
// Deadlines here only stop a broken run; nothing asserts how fast it was.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

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

// Held open through the scrapes. More than civetweb's default worker count
// (prometheus-cpp asks for 2) by far, fewer than the endpoint's bound.
constexpr int kIdleClients = 50;
constexpr int kStalledClients = 5;  // half a request, then nothing
constexpr int kScrapes = 5;
// Only stops a broken run: a blocked scrape waits for a worker to time an
// idle client out, which a test must not wait on.
constexpr auto kScrapeTimeout = 20s;

// Whether the server has closed (or reset) its end: something to read (EOF
// or data nobody asked for) or a hang-up, without waiting.
bool closed_by_server(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) != 0;
}

class MetricsEndpointTest : public DaemonHostsTest {
 protected:
  MetricsEndpointTest() : DaemonHostsTest(TCPREAPD_BIN) {}
};

TEST_F(MetricsEndpointTest, IdleAndStalledClientsNeverBlockAScrape) {
  const uint16_t mport = free_metrics_port();
  const TempFile cfg(config_head(mport) +
                     "policies:\n"
                     "  - name: any\n"
                     "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                     "    dead_when: { unacked_for: 5m }\n");
  auto d = start(cfg.path());
  wait_up(*d, mport);
  // The endpoint listens before the first turn has run: wait for it, or a
  // quick series of scrapes can all come before it.
  ASSERT_TRUE(eventually(*d, [&] { return metric(mport, "tcpreap_scans_total") >= 1; })) << d->output();

  std::vector<UniqueFd> held;
  {
    ScopedNetns in(hosts_->server());
    for (int i = 0; i < kIdleClients; ++i) held.push_back(tcp_connect("127.0.0.1", mport));
    for (int i = 0; i < kStalledClients; ++i) {
      held.push_back(tcp_connect("127.0.0.1", mport));
      write_all(held.back().get(), "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    }
  }

  for (int i = 0; i < kScrapes; ++i) {
    std::string text;
    {
      ScopedNetns in(hosts_->server());
      try {
        text = http_get("127.0.0.1", mport, "/metrics", kScrapeTimeout);
      } catch (const SupportError& e) {
        FAIL() << "scrape " << i + 1 << " of " << kScrapes << " with " << held.size()
               << " clients held open: " << e.what() << "\n" << d->output();
      }
    }
    EXPECT_GE(metric_value(text, "tcpreap_scans_total"), 1) << text;
  }
  // The scrapes were answered while every held client was still open: none
  // was timed out to make room for them.
  int closed = 0;
  for (const UniqueFd& fd : held) closed += closed_by_server(fd.get()) ? 1 : 0;
  EXPECT_EQ(closed, 0) << "of " << held.size() << " held clients, the server closed " << closed;
  ASSERT_TRUE(d->running()) << d->output();
  held.clear();
  expect_clean_stop(*d);
}

}  // namespace
}  // namespace tcpreap::test
