// RST injection against real half-open connections. The client host of a
// TestHosts pair vanishes silently (nftables drops everything), the server
// end stays ESTABLISHED, and RstInjector, opened in the server namespace,
// resets it. Proof comes from the victim's side: the server application's
// next recv() fails with ECONNRESET, and a fresh dump no longer shows the
// socket's cookie. Bystanders (live connections in the same namespace, a
// listener) must keep their cookies and see no error.

#include "reap/rst_injector.h"

#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "diag/socket_scanner.h"
#include "support/command.h"
#include "support/busy_connection.h"
#include "support/netns.h"
#include "support/privileges.h"
#include "support/scan.h"
#include "support/support_error.h"
#include "support/tcp.h"

namespace tcpreap::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const char* server_addr(Family f) { return f == Family::kIPv4 ? TestHosts::kServer4 : TestHosts::kServer6; }
const char* client_addr(Family f) { return f == Family::kIPv4 ? TestHosts::kClient4 : TestHosts::kClient6; }
const char* loopback_addr(Family f) { return f == Family::kIPv4 ? "127.0.0.1" : "::1"; }
std::string family_tag(const ::testing::TestParamInfo<Family>& p) {
  return p.param == Family::kIPv4 ? "IPv4" : "IPv6";
}

::testing::AssertionResult was_reset(const std::vector<ReapOutcome>& outcomes, size_t i) {
  if (i >= outcomes.size()) return ::testing::AssertionFailure() << "no outcome " << i;
  const ReapOutcome& o = outcomes[i];
  if (o.result == ReapResult::kDone && o.via == ReapVia::kRst) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "outcome " << i << ": " << reap_result_name(o.result) << " via "
                                       << reap_via_name(o.via) << " errno " << o.errnum << ": " << o.detail;
}

RstInjector open_injector() {
  auto i = RstInjector::open();
  if (!i) throw SupportError("RstInjector::open: " + i.error().message());
  return std::move(*i);
}

// A third host on its own link to the server: a live peer that talks to the
// same listener (same local address and port) as the vanished client did.
//   server: 10.232.0.1/24, fd00:232::1/64      other: 10.232.0.2/24, fd00:232::2/64
// It reaches the server's addresses on the first link through a route; the
// veth goes with the namespace.
class OtherHost {
 public:
  explicit OtherHost(const TestHosts& hosts) : ns_(unique_netns_name('o')) {
    const std::string& o = ns_.name();
    const std::string s = o + "s";  // the server's end
    run_checked({"ip", "link", "add", s, "netns", hosts.server(), "type", "veth", "peer", "name", o, "netns", o});
    hosts.server_ns().ip({"addr", "add", "10.232.0.1/24", "dev", s});
    hosts.server_ns().ip({"addr", "add", "fd00:232::1/64", "dev", s, "nodad"});
    hosts.server_ns().ip({"link", "set", s, "up"});
    ns_.ip({"addr", "add", "10.232.0.2/24", "dev", o});
    ns_.ip({"addr", "add", "fd00:232::2/64", "dev", o, "nodad"});
    ns_.ip({"link", "set", o, "up"});
    ns_.ip({"route", "add", "10.231.0.0/24", "via", "10.232.0.1"});
    ns_.ip({"-6", "route", "add", "fd00:231::/64", "via", "fd00:232::1"});
  }
  const std::string& name() const { return ns_.name(); }

 private:
  NamedNetns ns_;
};

// ---- Half-open connections to a vanished peer on the link -------------------

struct Victim {
  UniqueFd server;  // the server application's end
  TcpSocket dumped;
};

class RstInjectorTest : public ::testing::TestWithParam<Family> {
 protected:
  void SetUp() override {
    TCPREAP_REQUIRE_ROOT();
    hosts_.emplace();
    ScopedNetns in(hosts_->server());
    listener_ = tcp_listen(server_addr(GetParam()));
    scanner_.emplace(open_scanner());
  }

  uint16_t port() const { return local_endpoint(listener_.get()).port; }

  // A connection from the client host with a little conversation both ways;
  // the client speaks last, so no delayed ACK is pending when it vanishes.
  UniqueFd connect_client(UniqueFd& client) {
    {
      ScopedNetns in(hosts_->client());
      client = tcp_connect(server_addr(GetParam()), port());
    }
    UniqueFd server = tcp_accept(listener_.get());
    write_all(client.get(), "hello");
    EXPECT_EQ(read_exact(server.get(), 5), "hello");
    write_all(server.get(), "hi");
    EXPECT_EQ(read_exact(client.get(), 2), "hi");
    write_all(client.get(), "bye");
    EXPECT_EQ(read_exact(server.get(), 3), "bye");
    return server;
  }

  // `n` connections, then the client host vanishes and closes its ends.
  std::vector<Victim> half_open(size_t n) {
    std::vector<UniqueFd> clients(n);
    std::vector<Victim> victims(n);
    for (size_t i = 0; i < n; ++i) victims[i].server = connect_client(clients[i]);
    hosts_->make_client_vanish();
    clients.clear();  // their RSTs are dropped like everything else
    for (Victim& v : victims) v.dumped = socket_of(*scanner_, v.server.get());
    return victims;
  }

  // Sends to the vanished client and waits until the kernel retransmits.
  void make_unacked(Victim& v) {
    write_all(v.server.get(), std::string(1000, 'x'));
    const auto deadline = Clock::now() + 15s;
    while (Clock::now() < deadline) {
      TcpSocket s = socket_of(*scanner_, v.server.get());
      if (s.info && s.info->unacked.value_or(0) > 0 && s.info->retransmits.value_or(0) >= 1) {
        v.dumped = s;
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "the server end never retransmitted to the vanished client";
  }

  std::vector<ReapOutcome> reset(std::span<const TcpSocket> sockets, const RstOptions& options = {}) {
    ScopedNetns in(hosts_->server());
    RstInjector injector = open_injector();
    return injector.reset(sockets, options);
  }

  std::string neighbour_of_client() const {
    return run_checked({"ip", "-n", hosts_->server(), "neigh", "show", client_addr(GetParam()), "dev",
                        hosts_->server()})
        .out;
  }

  std::optional<TestHosts> hosts_;
  std::optional<SocketScanner> scanner_;
  UniqueFd listener_;
};

class RstInjectorHalfOpen : public RstInjectorTest {};

TEST_P(RstInjectorHalfOpen, IdleServerEndIsResetAndBystandersAreUntouched) {
  // Bystanders in the same namespace: an idle and a busy loopback
  // connection, and a live peer on another link connected to the very
  // listener (same local address and port as the victim).
  std::optional<BusyConnection> busy;
  UniqueFd idle_a, idle_b;
  {
    ScopedNetns in(hosts_->server());
    busy.emplace(loopback_addr(GetParam()));
    UniqueFd l = tcp_listen(loopback_addr(GetParam()));
    idle_a = tcp_connect(loopback_addr(GetParam()), local_endpoint(l.get()).port);
    idle_b = tcp_accept(l.get());
  }
  OtherHost other(*hosts_);
  UniqueFd other_client;
  {
    ScopedNetns in(other.name());
    other_client = tcp_connect(server_addr(GetParam()), port());
  }
  UniqueFd other_server = tcp_accept(listener_.get());
  std::vector<Victim> v = half_open(1);
  ASSERT_FALSE(HasFailure());
  const TcpSocket other_end = socket_of(*scanner_, other_server.get());
  ASSERT_EQ(other_end.local_port, v[0].dumped.local_port);
  ASSERT_EQ(other_end.local, v[0].dumped.local);
  const std::vector<uint64_t> bystanders{socket_of(*scanner_, busy->a()).cookie, socket_of(*scanner_, busy->b()).cookie,
                                         socket_of(*scanner_, idle_a.get()).cookie,
                                         socket_of(*scanner_, idle_b.get()).cookie,
                                         socket_of(*scanner_, listener_.get()).cookie, other_end.cookie};
  const uint64_t rounds_before = busy->rounds();

  const auto outcomes = reset(std::span(&v[0].dumped, 1));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(was_reset(outcomes, 0));
  std::printf("outcome: %s\n", outcomes[0].detail.c_str());

  EXPECT_EQ(next_recv(v[0].server.get()), ECONNRESET) << "the server application must see the reset";
  EXPECT_FALSE(cookie_present(*scanner_, v[0].dumped.cookie));

  for (uint64_t c : bystanders) EXPECT_TRUE(cookie_present(*scanner_, c)) << "bystander cookie " << c;
  std::this_thread::sleep_for(100ms);
  busy->stop();
  EXPECT_EQ(busy->error(), "") << "the busy bystander saw an error";
  EXPECT_GT(busy->rounds(), rounds_before) << "the busy bystander kept talking";
  write_all(idle_a.get(), "still");
  EXPECT_EQ(read_exact(idle_b.get(), 5), "still");
  write_all(idle_b.get(), "here");
  EXPECT_EQ(read_exact(idle_a.get(), 4), "here");
  write_all(other_client.get(), "other");
  EXPECT_EQ(read_exact(other_server.get(), 5), "other");
  write_all(other_server.get(), "fine");
  EXPECT_EQ(read_exact(other_client.get(), 4), "fine");
}

TEST_P(RstInjectorHalfOpen, ServerEndWithUnackedDataIsReset) {
  std::vector<Victim> v = half_open(1);
  ASSERT_FALSE(HasFailure());
  make_unacked(v[0]);
  ASSERT_FALSE(HasFailure());

  const auto outcomes = reset(std::span(&v[0].dumped, 1));
  EXPECT_TRUE(was_reset(outcomes, 0));
  std::printf("outcome: %s\n", outcomes[0].detail.c_str());
  EXPECT_EQ(next_recv(v[0].server.get()), ECONNRESET);
  EXPECT_FALSE(cookie_present(*scanner_, v[0].dumped.cookie));
  EXPECT_TRUE(cookie_present(*scanner_, socket_of(*scanner_, listener_.get()).cookie));
}

// A socket bound to its interface (idiag_if set) still takes the SYN looped
// back through `lo`: the route to a local address keeps the address's device
// as the input interface (rt_iif in IPv4, the route's idev in IPv6), so the
// bound socket matches.
TEST_P(RstInjectorHalfOpen, SocketBoundToItsInterfaceIsReset) {
  const std::string dev = hosts_->server();  // the veth is named like its namespace
  ASSERT_EQ(::setsockopt(listener_.get(), SOL_SOCKET, SO_BINDTODEVICE, dev.c_str(), dev.size()), 0)
      << std::strerror(errno);
  std::vector<Victim> v = half_open(1);
  ASSERT_FALSE(HasFailure());
  ASSERT_NE(v[0].dumped.interface, 0u) << "the accepted socket inherits the listener's device";

  const auto outcomes = reset(std::span(&v[0].dumped, 1));
  EXPECT_TRUE(was_reset(outcomes, 0));
  EXPECT_EQ(next_recv(v[0].server.get()), ECONNRESET);
  EXPECT_FALSE(cookie_present(*scanner_, v[0].dumped.cookie));
}

// The server retransmitted until its neighbour entry for the client FAILED:
// the challenge ACK then never reaches a device. Without pinning the
// injector must say kNoAnswer (never done); with it, the socket is reset and
// the temporary entry is gone afterwards.
TEST_P(RstInjectorHalfOpen, OnLinkPeerWithFailedNeighbourIsResetThroughATemporaryEntry) {
  // A confirmed neighbour stays REACHABLE for a random 0.5-1.5 x
  // base_reachable_time (30 s) before DELAY (5 s) and PROBE (3 x 1 s) end
  // in FAILED: up to a minute. Shorter timers in the server namespace make
  // it a few seconds; they go with the namespace.
  const std::string proto = GetParam() == Family::kIPv4 ? "ipv4" : "ipv6";
  const std::string parms = "net." + proto + ".neigh." + hosts_->server() + ".";
  run_checked({"ip", "netns", "exec", hosts_->server(), "sysctl", "-q", "-w", parms + "base_reachable_time_ms=500",
               parms + "delay_first_probe_time=1", parms + "retrans_time_ms=200"});
  std::vector<Victim> v = half_open(1);
  ASSERT_FALSE(HasFailure());
  make_unacked(v[0]);
  ASSERT_FALSE(HasFailure());
  // 60 s only bounds a broken kernel.
  const auto deadline = Clock::now() + 60s;
  std::string neigh;
  while (Clock::now() < deadline && (neigh = neighbour_of_client()).find("FAILED") == std::string::npos)
    std::this_thread::sleep_for(200ms);
  ASSERT_NE(neigh.find("FAILED"), std::string::npos) << "neighbour entry never failed: " << neigh;

  RstOptions no_pin;
  no_pin.pin_neighbour = false;
  no_pin.attempts = 2;
  auto outcomes = reset(std::span(&v[0].dumped, 1), no_pin);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].result, ReapResult::kNoAnswer) << outcomes[0].detail;
  std::printf("without pinning: %s: %s\n", reap_result_name(outcomes[0].result), outcomes[0].detail.c_str());
  EXPECT_TRUE(cookie_present(*scanner_, v[0].dumped.cookie)) << "nothing reset it: it must still be there";

  outcomes = reset(std::span(&v[0].dumped, 1));
  EXPECT_TRUE(was_reset(outcomes, 0));
  std::printf("with pinning: %s\n", outcomes[0].detail.c_str());
  EXPECT_EQ(next_recv(v[0].server.get()), ECONNRESET);
  EXPECT_FALSE(cookie_present(*scanner_, v[0].dumped.cookie));
  neigh = neighbour_of_client();
  EXPECT_EQ(neigh.find("PERMANENT"), std::string::npos) << "the temporary entry is still there: " << neigh;
  EXPECT_EQ(neigh.find("00:00:00:00:00:00"), std::string::npos) << neigh;
}

// A 4-tuple nobody has but the listener: a SYN would make an embryo (and
// draw a SYN-ACK). The lookup before the first SYN finds only the listener:
// the socket is already gone, and nothing is sent.
TEST_P(RstInjectorHalfOpen, FourTupleOfOnlyAListenerIsAlreadyGoneAndNotPoked) {
  std::vector<Victim> v = half_open(1);
  ASSERT_FALSE(HasFailure());
  const TcpSocket listener = socket_of(*scanner_, listener_.get());
  v[0].server.reset();  // abortive close: its RST goes nowhere, the socket is gone
  ASSERT_FALSE(cookie_present(*scanner_, v[0].dumped.cookie));

  const auto outcomes = reset(std::span(&v[0].dumped, 1));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].result, ReapResult::kAlreadyGone) << outcomes[0].detail;
  EXPECT_EQ(outcomes[0].via, ReapVia::kRst);
  EXPECT_NE(outcomes[0].detail.find("listener"), std::string::npos) << outcomes[0].detail;
  EXPECT_NE(outcomes[0].detail.find("nothing sent"), std::string::npos) << outcomes[0].detail;
  std::printf("outcome: %s\n", outcomes[0].detail.c_str());

  EXPECT_TRUE(cookie_present(*scanner_, listener.cookie)) << "the listener survives";
  for (const TcpSocket& s : all_sockets(*scanner_))
    EXPECT_NE(s.state, static_cast<uint8_t>(TcpState::kSynRecv)) << "the embryo was not reset: port " << s.remote_port;
  // And it still accepts.
  UniqueFd c;
  {
    ScopedNetns in(hosts_->server());
    c = tcp_connect(server_addr(GetParam()), port());
  }
  UniqueFd s = tcp_accept(listener_.get());
  write_all(c.get(), "ok");
  EXPECT_EQ(read_exact(s.get(), 2), "ok");
}

TEST_P(RstInjectorHalfOpen, ClosedSocketIsAlreadyGone) {
  std::vector<Victim> v = half_open(1);
  ASSERT_FALSE(HasFailure());
  v[0].server.reset();
  listener_.reset();  // nothing left on the port: the SYN draws an RST

  const auto outcomes = reset(std::span(&v[0].dumped, 1));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].result, ReapResult::kAlreadyGone) << outcomes[0].detail;
  EXPECT_EQ(outcomes[0].via, ReapVia::kRst);
  std::printf("outcome: %s\n", outcomes[0].detail.c_str());
}

// The decided socket S1 closed and a new live connection S2 took its very
// 4-tuple (same client address and port) before the injector got to it: a
// SYN or an RST now reaches S2. The injector must leave S2 alone and say
// S1 is gone - not reset S2 and call that S1 done.
TEST_P(RstInjectorHalfOpen, FourTupleTakenByANewConnectionIsLeftAlone) {
  UniqueFd client;
  UniqueFd s1 = connect_client(client);
  ASSERT_FALSE(HasFailure());
  const TcpSocket decided = socket_of(*scanner_, s1.get());
  const Endpoint client_end = local_endpoint(client.get());
  s1.reset();  // abortive (SO_LINGER 0): an RST, no TIME-WAIT, the 4-tuple is free at once
  ASSERT_EQ(next_recv(client.get()), ECONNRESET);
  client.reset();
  ASSERT_FALSE(cookie_present(*scanner_, decided.cookie));

  {
    ScopedNetns in(hosts_->client());
    client = tcp_connect(server_addr(GetParam()), port(), BindOptions{client_addr(GetParam()), client_end.port});
  }
  UniqueFd s2 = tcp_accept(listener_.get());
  const TcpSocket successor = socket_of(*scanner_, s2.get());
  ASSERT_EQ(successor.remote_port, decided.remote_port) << "not the same 4-tuple";
  ASSERT_EQ(successor.remote, decided.remote);
  ASSERT_NE(successor.cookie, decided.cookie);

  const auto outcomes = reset(std::span(&decided, 1));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].result, ReapResult::kAlreadyGone)
      << reap_result_name(outcomes[0].result) << ": " << outcomes[0].detail;
  EXPECT_EQ(outcomes[0].via, ReapVia::kRst);
  EXPECT_NE(outcomes[0].detail.find("another socket"), std::string::npos) << outcomes[0].detail;
  std::printf("outcome: %s\n", outcomes[0].detail.c_str());

  // S2 is untouched: no error on either end, and it talks both ways.
  EXPECT_EQ(next_recv(s2.get(), 200), EAGAIN) << "the new connection's server end saw something";
  EXPECT_EQ(next_recv(client.get(), 200), EAGAIN) << "the new connection's client end saw something";
  EXPECT_TRUE(cookie_present(*scanner_, successor.cookie));
  write_all(client.get(), "again");
  EXPECT_EQ(read_exact(s2.get(), 5), "again");
  write_all(s2.get(), "fine");
  EXPECT_EQ(read_exact(client.get(), 4), "fine");
}

// Sockets a scan shows that are not synchronized connections are refused
// and never touched.
TEST_P(RstInjectorHalfOpen, ListenTimeWaitAndSynRecvAreRefused) {
  UniqueFd tw_client;
  TcpSocket time_wait;
  {
    ScopedNetns in(hosts_->server());
    UniqueFd l = tcp_listen(loopback_addr(GetParam()));
    tw_client = tcp_connect(loopback_addr(GetParam()), local_endpoint(l.get()).port);
    UniqueFd srv = tcp_accept(l.get());
    const Endpoint client_end = local_endpoint(tw_client.get());
    graceful_close(tw_client);  // the active closer goes to TIME-WAIT once the other side closes
    graceful_close(srv);
    const auto deadline = Clock::now() + 5s;
    bool found = false;
    while (!found && Clock::now() < deadline) {
      for (const TcpSocket& s : all_sockets(*scanner_))
        if (s.state == static_cast<uint8_t>(TcpState::kTimeWait) && s.local_port == client_end.port)
          time_wait = s, found = true;
      if (!found) std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(found) << "no TIME-WAIT socket appeared";
  }
  const TcpSocket listen = socket_of(*scanner_, listener_.get());
  TcpSocket syn_recv = time_wait;  // no real one: a socket reported as SYN-RECV
  syn_recv.state = static_cast<uint8_t>(TcpState::kSynRecv);

  const std::vector<TcpSocket> refused{listen, time_wait, syn_recv};
  const auto outcomes = reset(refused);
  ASSERT_EQ(outcomes.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(outcomes[i].result, ReapResult::kFailed) << i;
    EXPECT_EQ(outcomes[i].via, ReapVia::kRst);
    EXPECT_NE(outcomes[i].detail.find("not touched"), std::string::npos) << outcomes[i].detail;
  }
  EXPECT_NE(outcomes[0].detail.find("LISTEN"), std::string::npos) << outcomes[0].detail;
  EXPECT_NE(outcomes[1].detail.find("TIME-WAIT"), std::string::npos) << outcomes[1].detail;
  EXPECT_NE(outcomes[2].detail.find("SYN-RECV"), std::string::npos) << outcomes[2].detail;
  EXPECT_TRUE(cookie_present(*scanner_, listen.cookie));
  EXPECT_TRUE(cookie_present(*scanner_, time_wait.cookie));
}

INSTANTIATE_TEST_SUITE_P(Families, RstInjectorHalfOpen, ::testing::Values(Family::kIPv4, Family::kIPv6), family_tag);

// ---- A loopback connection: both ends local ----------------------------------

class RstInjectorLoopback : public RstInjectorTest {};

TEST_P(RstInjectorLoopback, ServerEndIsResetClientEndUntouched) {
  ScopedNetns in(hosts_->server());
  UniqueFd l = tcp_listen(loopback_addr(GetParam()));
  UniqueFd client = tcp_connect(loopback_addr(GetParam()), local_endpoint(l.get()).port);
  UniqueFd server = tcp_accept(l.get());
  write_all(client.get(), "ping");
  ASSERT_EQ(read_exact(server.get(), 4), "ping");
  const TcpSocket target = socket_of(*scanner_, server.get());
  const TcpSocket peer = socket_of(*scanner_, client.get());

  // Listed twice: worked on once, reported twice.
  const std::vector<TcpSocket> twice{target, target};
  RstInjector injector = open_injector();
  const auto outcomes = injector.reset(twice);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_TRUE(was_reset(outcomes, 0));
  EXPECT_TRUE(was_reset(outcomes, 1));
  std::printf("outcome: %s\n", outcomes[0].detail.c_str());

  EXPECT_EQ(next_recv(server.get()), ECONNRESET);
  EXPECT_FALSE(cookie_present(*scanner_, target.cookie));
  EXPECT_TRUE(cookie_present(*scanner_, peer.cookie)) << "only the local end is reset";

  // The same injector serves a second call: the client end now. Its peer
  // end is gone, so its challenge ACK reaches the listener, whose kernel
  // answers with an RST at the ACK's ack - the client's rcv_nxt: that RST
  // alone resets it, usually before the lookup preceding ours (then
  // already-gone, no RST sent), else ours does (done).
  const auto again = injector.reset(std::span(&peer, 1));
  ASSERT_EQ(again.size(), 1u);
  if (again[0].result == ReapResult::kAlreadyGone)
    EXPECT_NE(again[0].detail.find("before the RST: no socket"), std::string::npos) << again[0].detail;
  else
    EXPECT_TRUE(was_reset(again, 0));
  std::printf("client end: %s: %s\n", reap_result_name(again[0].result), again[0].detail.c_str());
  EXPECT_EQ(next_recv(client.get()), ECONNRESET);
  EXPECT_FALSE(cookie_present(*scanner_, peer.cookie));
}

INSTANTIATE_TEST_SUITE_P(Families, RstInjectorLoopback, ::testing::Values(Family::kIPv4, Family::kIPv6), family_tag);

// ---- Many at once --------------------------------------------------------------

TEST(RstInjectorMany, FiftyHalfOpenSocketsOfBothFamiliesInOneCall) {
  TCPREAP_REQUIRE_ROOT();
  TestHosts hosts;
  UniqueFd l4, l6;
  std::optional<SocketScanner> scanner;
  {
    ScopedNetns in(hosts.server());
    l4 = tcp_listen(TestHosts::kServer4);
    l6 = tcp_listen(TestHosts::kServer6);
    scanner.emplace(open_scanner());
  }
  std::vector<UniqueFd> clients, servers;
  for (int i = 0; i < 50; ++i) {
    const bool v6 = i % 2 == 1;
    {
      ScopedNetns in(hosts.client());
      clients.push_back(tcp_connect(v6 ? TestHosts::kServer6 : TestHosts::kServer4,
                                    local_endpoint((v6 ? l6 : l4).get()).port));
    }
    servers.push_back(tcp_accept((v6 ? l6 : l4).get()));
    write_all(clients.back().get(), "x");
    ASSERT_EQ(read_exact(servers.back().get(), 1), "x");
  }
  hosts.make_client_vanish();
  clients.clear();
  std::vector<TcpSocket> targets;
  for (const UniqueFd& s : servers) targets.push_back(socket_of(*scanner, s.get()));

  std::vector<ReapOutcome> outcomes;
  std::chrono::microseconds took{};
  {
    ScopedNetns in(hosts.server());
    RstInjector injector = open_injector();
    const auto start = Clock::now();
    outcomes = injector.reset(targets);
    took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  }
  std::printf("reset %zu half-open sockets (25 IPv4, 25 IPv6) in one call: %.1f ms\n", targets.size(),
              static_cast<double>(took.count()) / 1000.0);
  ASSERT_EQ(outcomes.size(), targets.size());
  for (size_t i = 0; i < outcomes.size(); ++i) EXPECT_TRUE(was_reset(outcomes, i));
  for (const UniqueFd& s : servers) EXPECT_EQ(next_recv(s.get()), ECONNRESET);
  for (const TcpSocket& s : all_sockets(*scanner))
    EXPECT_NE(s.state, static_cast<uint8_t>(TcpState::kEstablished)) << "still ESTABLISHED: port " << s.remote_port;
}

// ---- Privileges -------------------------------------------------------------------

// Capabilities are per thread: a thread that drops CAP_NET_RAW from its
// effective set cannot open the capture, and the error says what is missing.
TEST(RstInjectorPrivileges, WithoutCapNetRawOpenFailsNamingIt) {
  TCPREAP_REQUIRE_ROOT();
  std::optional<Error> error;
  std::string setup_error;
  std::thread t([&] {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &hdr, data) != 0) {
      setup_error = "capget failed";
      return;
    }
    data[CAP_NET_RAW / 32].effective &= ~(1u << (CAP_NET_RAW % 32));
    if (::syscall(SYS_capset, &hdr, data) != 0) {
      setup_error = "capset failed";
      return;
    }
    auto i = RstInjector::open();
    if (!i) error = i.error();
  });
  t.join();
  ASSERT_EQ(setup_error, "");
  ASSERT_TRUE(error.has_value()) << "RstInjector::open() succeeded without CAP_NET_RAW";
  EXPECT_EQ(error->errnum(), EPERM);
  EXPECT_NE(error->message().find("CAP_NET_RAW"), std::string::npos) << error->message();
  std::printf("without CAP_NET_RAW: %s\n", error->message().c_str());
}

}  // namespace
}  // namespace tcpreap::test
