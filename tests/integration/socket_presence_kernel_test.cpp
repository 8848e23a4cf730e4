// DiagLookup on the real kernel: who holds a 4-tuple, as the kernel's own
// lookup finds it - the socket itself, a newer connection on the same
// 4-tuple, only a listener, or nobody - in the namespace it was opened in
// and no other. Also prints what a lookup costs next to a dump filtered to
// the exact 4-tuple (no bound: machines are noisy).

#include "diag/socket_presence.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "filter/socket_filter.h"
#include "net/tcp_state.h"
#include "support/netns.h"
#include "support/privileges.h"
#include "support/scan.h"
#include "support/tcp.h"

namespace tcpreap::test {
namespace {

using Clock = std::chrono::steady_clock;

class DiagLookupKernel : public ::testing::TestWithParam<Family> {
 protected:
  void SetUp() override {
    TCPREAP_REQUIRE_ROOT();
    ns_.emplace(unique_netns_name('p'));
    ScopedNetns in(ns_->name());
    listener_ = tcp_listen(loopback());
    scanner_.emplace(open_scanner());
    auto l = DiagLookup::open();
    ASSERT_TRUE(l.ok()) << l.error().message();
    lookup_.emplace(std::move(*l));
  }

  const char* loopback() const { return GetParam() == Family::kIPv4 ? "127.0.0.1" : "::1"; }
  uint16_t port() const { return local_endpoint(listener_.get()).port; }

  TupleHolder look(const TcpSocket& s) {
    const TcpSocket* p = &s;
    auto h = lookup_->look(std::span(&p, 1));
    EXPECT_TRUE(h.ok()) << h.error().message();
    return h.ok() && h->size() == 1 ? h->front() : TupleHolder{};
  }

  std::optional<NamedNetns> ns_;
  UniqueFd listener_;
  std::optional<SocketScanner> scanner_;
  std::optional<DiagLookup> lookup_;
};

TEST_P(DiagLookupKernel, FindsTheSocketItselfAndTellsANewcomerOnItsFourTuple) {
  UniqueFd client, server;
  {
    ScopedNetns in(ns_->name());
    client = tcp_connect(loopback(), port());
  }
  server = tcp_accept(listener_.get());
  const TcpSocket s1 = socket_of(*scanner_, server.get());
  const TcpSocket c1 = socket_of(*scanner_, client.get());

  const TcpSocket* both[] = {&s1, &c1};
  auto holders = lookup_->look(both);
  ASSERT_TRUE(holders.ok()) << holders.error().message();
  ASSERT_EQ(holders->size(), 2u);
  EXPECT_EQ((*holders)[0], (TupleHolder{TupleHolder::Kind::kItself, s1.cookie, s1.state}));
  EXPECT_EQ((*holders)[1], (TupleHolder{TupleHolder::Kind::kItself, c1.cookie, c1.state}));

  // S1 closes abortively (no TIME-WAIT) and a new connection takes its
  // 4-tuple: the client binds its old port again.
  const uint16_t client_port = local_endpoint(client.get()).port;
  server.reset();
  client.reset();
  EXPECT_EQ(look(s1).kind, TupleHolder::Kind::kListener) << "only the listener is left on that local port";
  EXPECT_EQ(look(c1).kind, TupleHolder::Kind::kNobody);
  {
    ScopedNetns in(ns_->name());
    client = tcp_connect(loopback(), port(), BindOptions{loopback(), client_port});
  }
  server = tcp_accept(listener_.get());
  const TcpSocket s2 = socket_of(*scanner_, server.get());
  ASSERT_EQ(s2.remote_port, s1.remote_port);
  const TupleHolder h = look(s1);
  EXPECT_EQ(h, (TupleHolder{TupleHolder::Kind::kOther, s2.cookie, s2.state}));
  EXPECT_NE(h.describe().find("another socket (cookie " + std::to_string(s2.cookie)), std::string::npos)
      << h.describe();
  EXPECT_TRUE(look(s2).itself());
}

// A socket that closed actively is TIME-WAIT: the kernel carries its
// cookie over to the timewait socket, so the lookup still says kItself -
// with the state that tells it closed.
TEST_P(DiagLookupKernel, ATimeWaitSocketKeepsItsCookie) {
  UniqueFd client, server;
  {
    ScopedNetns in(ns_->name());
    client = tcp_connect(loopback(), port());
  }
  server = tcp_accept(listener_.get());
  const TcpSocket c = socket_of(*scanner_, client.get());
  graceful_close(client);
  graceful_close(server);
  const auto time_wait = static_cast<uint8_t>(TcpState::kTimeWait);
  TupleHolder h = look(c);
  for (int i = 0; i < 100 && h.state != time_wait; ++i) {  // bounded: a FIN exchange on lo
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    h = look(c);
  }
  EXPECT_EQ(h, (TupleHolder{TupleHolder::Kind::kItself, c.cookie, time_wait}));
}

// A lookup opened in another namespace does not see these sockets.
TEST_P(DiagLookupKernel, SeesOnlyItsOwnNamespace) {
  UniqueFd client;
  {
    ScopedNetns in(ns_->name());
    client = tcp_connect(loopback(), port());
  }
  UniqueFd server = tcp_accept(listener_.get());
  const TcpSocket s = socket_of(*scanner_, server.get());
  NamedNetns elsewhere(unique_netns_name('q'));
  std::optional<DiagLookup> other;
  {
    ScopedNetns in(elsewhere.name());
    auto l = DiagLookup::open();
    ASSERT_TRUE(l.ok()) << l.error().message();
    other.emplace(std::move(*l));
  }
  const TcpSocket* p = &s;
  auto h = other->look(std::span(&p, 1));
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_EQ(h->front().kind, TupleHolder::Kind::kNobody);
  EXPECT_TRUE(look(s).itself());
}

// A dual-stack IPv6 listener's socket with an IPv4 peer (v4-mapped
// addresses) is found by its dumped 4-tuple.
TEST(DiagLookupKernel, FindsADualStackSocketWithAnIpv4Peer) {
  TCPREAP_REQUIRE_ROOT();
  NamedNetns ns(unique_netns_name('p'));
  UniqueFd l, client, server;
  std::optional<SocketScanner> scanner;
  std::optional<DiagLookup> lookup;
  {
    ScopedNetns in(ns.name());
    l = tcp_listen("::", 0, /*v6only=*/false);
    client = tcp_connect("127.0.0.1", local_endpoint(l.get()).port);
    scanner.emplace(open_scanner());
    auto d = DiagLookup::open();
    ASSERT_TRUE(d.ok()) << d.error().message();
    lookup.emplace(std::move(*d));
  }
  server = tcp_accept(l.get());
  const TcpSocket s = socket_of(*scanner, server.get());
  ASSERT_EQ(s.family, Family::kIPv6);
  ASSERT_TRUE(s.remote.is_v4_mapped());
  const TcpSocket* p = &s;
  auto h = lookup->look(std::span(&p, 1));
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_EQ(h->front(), (TupleHolder{TupleHolder::Kind::kItself, s.cookie, s.state}));
}

// What a check costs: N lookups of one socket, and N dumps filtered by
// bytecode to its exact 4-tuple (what the RST injector used to verify
// with). Printed, not asserted.
TEST_P(DiagLookupKernel, CostOfALookupAndOfAnExactDump) {
  UniqueFd client;
  {
    ScopedNetns in(ns_->name());
    client = tcp_connect(loopback(), port());
  }
  UniqueFd server = tcp_accept(listener_.get());
  const TcpSocket s = socket_of(*scanner_, server.get());
  constexpr int kLookups = 2000;
  auto start = Clock::now();
  int found = 0;
  for (int i = 0; i < kLookups; ++i) found += look(s).itself();
  const auto lookup_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / kLookups;
  EXPECT_EQ(found, kLookups);

  SocketFilter exact;
  exact.states = StateSet::all();
  exact.ipv4 = GetParam() == Family::kIPv4;
  exact.ipv6 = !exact.ipv4;
  const auto bits = static_cast<uint8_t>(s.local.size() * 8);
  exact.all_of = {{Condition::local_port({s.local_port, s.local_port})},
                  {Condition::remote_port({s.remote_port, s.remote_port})},
                  {Condition::local_prefix(Cidr{s.local, bits})},
                  {Condition::remote_prefix(Cidr{s.remote, bits})}};
  const ScanQuery q = compile_query(exact);
  constexpr int kDumps = 200;
  start = Clock::now();
  size_t dumped = 0;
  for (int i = 0; i < kDumps; ++i) dumped += scan_sockets(*scanner_, q).size();
  const auto dump_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / kDumps;
  EXPECT_EQ(dumped, static_cast<size_t>(kDumps));
  std::printf("%s: one exact lookup %.1f us, one dump filtered to the exact 4-tuple %.1f us\n",
              family_name(GetParam()), lookup_us, dump_us);
}

INSTANTIATE_TEST_SUITE_P(Families, DiagLookupKernel, ::testing::Values(Family::kIPv4, Family::kIPv6),
                         [](const ::testing::TestParamInfo<Family>& p) {
                           return std::string(p.param == Family::kIPv4 ? "IPv4" : "IPv6");
                         });

}  // namespace
}  // namespace tcpreap::test
