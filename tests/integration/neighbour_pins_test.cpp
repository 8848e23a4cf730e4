// Temporary neighbour entries ("pins", lib/wire/neighbour_pins.h) must not
// outlive the process that made them, whatever kills it:
//  - tcpreapd, probing an on-link peer whose neighbour entry FAILED, is
//    SIGKILLed while it holds the pin: the entry stops being valid with a null
//    link-layer address by itself, and the peer, back on the link, is
//    reachable again;
//  - an entry left by an earlier process (the marker protocol, a null
//    link-layer address) is gone once an RstInjector or a LivenessProber has
//    opened in the namespace, or after tcpreapd's first turn; an entry with
//    the marker and a real address, and entries without the marker, stay.
// Deadlines here only stop a broken run; nothing asserts how fast it was.

#include <gtest/gtest.h>
#include <linux/neighbour.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "netlink/netlink_socket.h"
#include "netlink/route_netlink.h"
#include "reap/rst_injector.h"
#include "support/command.h"
#include "support/daemon_hosts.h"
#include "support/netns.h"
#include "support/support_error.h"
#include "support/tcp.h"
#include "support/temp_file.h"
#include "support/unique_fd.h"
#include "verify/liveness_prober.h"
#include "wire/neighbour_pins.h"

#ifndef TCPREAPD_BIN
#error "TCPREAPD_BIN (the path of the built tcpreapd) must be defined"
#endif

namespace tcpreap::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Conn = PeerConn;

IpAddress address(const char* text) { return *IpAddress::parse(text); }

bool null_lladdr(const NeighbourInfo& n) {
  return !n.lladdr.empty() && std::all_of(n.lladdr.begin(), n.lladdr.end(), [](uint8_t b) { return b == 0; });
}

// The states whose link-layer address is used (the kernel's NUD_VALID).
constexpr uint16_t kValid = NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY;

// A pin as the kernel shows it: valid, and pointing at nobody.
bool pinned(const NeighbourInfo& n) { return n.state && (*n.state & kValid) && null_lladdr(n); }

class NeighbourPinsTest : public DaemonHostsTest {
 protected:
  NeighbourPinsTest() : DaemonHostsTest(TCPREAPD_BIN) {}

  void SetUp() override {
    DaemonHostsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ScopedNetns in(hosts_->server());
    ifindex_ = ::if_nametoindex(hosts_->server().c_str());
    ASSERT_NE(ifindex_, 0u);
    auto socket = NetlinkSocket::open(NETLINK_ROUTE);
    ASSERT_TRUE(socket) << socket.error().message();
    rtnl_.emplace(std::move(*socket));
  }

  // The server's neighbour entry for `addr` on the link to the client.
  NeighbourInfo neighbour(const char* addr) {
    auto n = rtnl_->neighbour(ifindex_, address(addr));
    if (!n) throw SupportError(n.error().message());
    return *n;
  }

  std::string describe(const char* addr) {
    const NeighbourInfo n = neighbour(addr);
    std::string lladdr;
    for (uint8_t b : n.lladdr) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%s%02x", lladdr.empty() ? "" : ":", b);
      lladdr += hex;
    }
    return std::string(addr) + " " + nud_state_name(n.state) + (lladdr.empty() ? "" : " lladdr " + lladdr);
  }

  // Something of the server host's own wants the client: a datagram to it.
  void send_to(const char* addr) {
    ScopedNetns in(hosts_->server());
    const IpAddress a = address(addr);
    UniqueFd fd(::socket(to_af(a.family), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (a.family == Family::kIPv4) {
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_port = htons(9);
      std::memcpy(&sin.sin_addr, a.bytes.data(), 4);
      (void)::sendto(fd.get(), "x", 1, 0, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    } else {
      sockaddr_in6 sin6{};
      sin6.sin6_family = AF_INET6;
      sin6.sin6_port = htons(9);
      std::memcpy(&sin6.sin6_addr, a.bytes.data(), 16);
      (void)::sendto(fd.get(), "x", 1, 0, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6);
    }
  }

  // Short neighbour timers in the server namespace (they go with it): a
  // confirmed entry fails within seconds instead of up to a minute, and a
  // STALE one used once is PROBEd and FAILED within 1.6 s instead of ~8.
  void short_neighbour_timers() {
    for (const char* proto : {"ipv4", "ipv6"}) {
      const std::string parms = std::string("net.") + proto + ".neigh." + hosts_->server() + ".";
      run_checked({"ip", "netns", "exec", hosts_->server(), "sysctl", "-q", "-w", parms + "base_reachable_time_ms=500",
                   parms + "delay_first_probe_time=1", parms + "retrans_time_ms=200"});
    }
  }

  // `ip neigh add ADDR dev SERVER lladdr LLADDR nud NUD [protocol N]`.
  void add_entry(const std::string& addr, const std::string& lladdr, const std::string& nud, int protocol = -1) {
    std::vector<std::string> argv = {"ip", "-n", hosts_->server(), "neigh", "add", addr, "dev", hosts_->server(),
                                     "lladdr", lladdr, "nud", nud};
    if (protocol >= 0) {
      argv.push_back("protocol");
      argv.push_back(std::to_string(protocol));
    }
    run_checked(argv);
  }

  uint32_t ifindex_ = 0;
  std::optional<RouteNetlink> rtnl_;
};

constexpr const char* kClients[] = {TestHosts::kClient4, TestHosts::kClient6};

// tcpreapd probes an on-link peer whose neighbour entry FAILED, through a
// pin, and is SIGKILLed while it holds it. Nobody cleans up after it; the
// server host only goes on talking to the client. The pin must stop being a
// valid entry with a null address on its own, and the client, back on the
// link, must be reachable again.
TEST_F(NeighbourPinsTest, SigkilledDaemonLeavesNoLastingEntry) {
  short_neighbour_timers();
  Conn c4 = connect(false), c6 = connect(true);
  hosts_->make_client_vanish();
  // Unacknowledged data: the server retransmits, and its neighbour entries
  // for the client are probed and FAIL.
  write_all(c4.server.get(), "lost");
  write_all(c6.server.get(), "lost");
  const auto failed_by = Clock::now() + 60s;  // bounds a broken kernel only
  for (const char* addr : kClients) {
    while (Clock::now() < failed_by && !(neighbour(addr).state.value_or(0) & NUD_FAILED)) {
      send_to(addr);
      std::this_thread::sleep_for(200ms);
    }
    ASSERT_TRUE(neighbour(addr).state.value_or(0) & NUD_FAILED) << "never failed: " << describe(addr);
  }

  const uint16_t mport = free_metrics_port();
  const TempFile cfg(config_head(mport) +
                     "policies:\n"
                     "  - name: verified\n"
                     "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                     "    dead_when: { silent_for: 1s }\n"
                     "    verify: { probes: 10, interval: 1s }\n");
  // The daemon holds a pin for a moment per probe turn; kill it inside one.
  // The release may still win the race: then start over (bounded).
  std::vector<const char*> left;
  for (int attempt = 0; attempt < 5 && left.empty(); ++attempt) {
    auto d = start(cfg.path());
    wait_up(*d, mport);
    bool seen = false;
    ASSERT_TRUE(eventually(*d, [&] {
      for (const char* addr : kClients)
        if (pinned(neighbour(addr))) seen = true;
      return seen;
    })) << "no pin ever seen:\n" << d->output();
    d->signal(SIGKILL);
    ASSERT_EQ(d->wait_exit(kDeadline), 128 + SIGKILL);
    for (const char* addr : kClients)
      if (pinned(neighbour(addr))) left.push_back(addr);
    std::printf("attempt %d: left behind by the killed daemon: %zu\n", attempt + 1, left.size());
    for (const char* addr : kClients) std::printf("  %s\n", describe(addr).c_str());
  }
  ASSERT_FALSE(left.empty()) << "the daemon was never killed while holding a pin";

  // The host goes on talking to the client; no one touches the table.
  const auto healed_by = Clock::now() + kDeadline;
  for (const char* addr : kClients) {
    while (Clock::now() < healed_by && pinned(neighbour(addr))) {
      send_to(addr);
      std::this_thread::sleep_for(kPollEvery);
    }
    EXPECT_FALSE(pinned(neighbour(addr))) << "the pin outlived the daemon: " << describe(addr);
  }
  for (const char* addr : kClients) std::printf("after: %s\n", describe(addr).c_str());

  // The client comes back: a new connection from the server reaches it.
  hosts_->client_ns().nft("delete table inet trpdrop\ndelete table arp trpdrop\n");
  UniqueFd listener4, listener6;
  {
    ScopedNetns in(hosts_->client());
    listener4 = tcp_listen("0.0.0.0");
    listener6 = tcp_listen("::", local_endpoint(listener4.get()).port);
  }
  const uint16_t port = local_endpoint(listener4.get()).port;
  for (const char* addr : kClients) {
    UniqueFd conn;
    {
      ScopedNetns in(hosts_->server());
      conn = tcp_start_connect(addr, port);
    }
    ASSERT_NO_THROW((void)tcp_accept(addr == TestHosts::kClient4 ? listener4.get() : listener6.get(), kDeadline))
        << "the client is unreachable: " << describe(addr);
    std::printf("reachable again: %s\n", describe(addr).c_str());
  }
}

// Entries as a crashed process would have left them, and entries that are
// not tcpreap's to delete.
class LeftPinsTest : public NeighbourPinsTest {
 protected:
  static constexpr int kMarker = kNeighbourPinProtocol;

  void leave_entries() {
    add_entry("10.231.0.7", "00:00:00:00:00:00", "permanent", kMarker);   // a pin of an old version
    add_entry("fd00:231::7", "00:00:00:00:00:00", "stale", kMarker);      // a pin
    add_entry("10.231.0.8", "00:00:00:00:00:00", "stale", kMarker);       // a pin
    add_entry("10.231.0.9", "02:00:00:00:00:09", "permanent", kMarker);   // healed by the peer, say
    add_entry("10.231.0.10", "00:00:00:00:00:00", "permanent");           // someone else's
    add_entry("fd00:231::a", "00:00:00:00:00:00", "permanent", 4);        // someone else's (static)
  }

  void expect_swept() {
    for (const char* addr : {"10.231.0.7", "fd00:231::7", "10.231.0.8"})
      EXPECT_FALSE(neighbour(addr).state.has_value()) << "left pin not swept: " << describe(addr);
    for (const char* addr : {"10.231.0.9", "10.231.0.10", "fd00:231::a"})
      EXPECT_TRUE(neighbour(addr).state.value_or(0) & NUD_PERMANENT) << "not ours, yet gone: " << describe(addr);
  }
};

TEST_F(LeftPinsTest, RstInjectorOpenSweepsThem) {
  leave_entries();
  {
    ScopedNetns in(hosts_->server());
    auto injector = RstInjector::open();
    ASSERT_TRUE(injector) << injector.error().message();
    EXPECT_NE(injector->open_note().find("removed 3 neighbour entries"), std::string::npos) << injector->open_note();
  }
  expect_swept();
}

TEST_F(LeftPinsTest, LivenessProberOpenSweepsThem) {
  leave_entries();
  {
    ScopedNetns in(hosts_->server());
    auto prober = LivenessProber::open();
    ASSERT_TRUE(prober) << prober.error().message();
    EXPECT_NE(prober->open_note().find("removed 3 neighbour entries"), std::string::npos) << prober->open_note();
  }
  expect_swept();
}

// The daemon sweeps when it opens its prober, and says so after its first
// turn.
TEST_F(LeftPinsTest, DaemonSweepsThemAtStartAndSaysSo) {
  leave_entries();
  const uint16_t mport = free_metrics_port();
  const TempFile cfg(config_head(mport) +
                     "policies:\n"
                     "  - name: verified\n"
                     "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                     "    dead_when: { silent_for: 1s }\n"
                     "    verify: { probes: 1, interval: 1s }\n");
  auto d = start(cfg.path());
  wait_up(*d, mport);
  EXPECT_TRUE(eventually(*d, [&] { return d->output().find("removed 3 neighbour entries") != std::string::npos; }))
      << d->output();
  expect_swept();
  expect_clean_stop(*d);
}

}  // namespace
}  // namespace tcpreap::test
