#include "config/match.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "unit/allocation_counter.h"

namespace tcpreap {
namespace {

PortRange ports(const char* text) { return PortRange::parse(text).value(); }
Cidr prefix(const char* text) { return Cidr::parse(text).value(); }
IpAddress address(const char* text) { return IpAddress::parse(text).value(); }

TcpSocket socket(const char* local, uint16_t lport, const char* remote, uint16_t rport,
                 TcpState state = TcpState::kEstablished) {
  TcpSocket s;
  s.local = address(local);
  s.remote = address(remote);
  s.family = s.local.family;
  s.local_port = lport;
  s.remote_port = rport;
  s.state = static_cast<uint8_t>(state);
  return s;
}

StateSet established() { return StateSet::of(TcpState::kEstablished); }

// Sockets on both sides of every edge the matches below draw.
std::vector<TcpSocket> sockets() {
  std::vector<TcpSocket> out;
  for (const char* local : {"10.0.0.1", "10.1.0.1", "::ffff:10.0.0.1", "fd00::1", "fe80::1"})
    for (const char* remote : {"10.0.0.2", "192.0.2.1", "::ffff:192.0.2.1", "fd00::2", "2001:db8::1"})
      for (uint16_t lport : {22, 2181, 2182, 30000, 40000})
        for (uint16_t rport : {0, 22, 2181, 40000, 65535})
          for (TcpState state : {TcpState::kEstablished, TcpState::kCloseWait, TcpState::kSynRecv}) {
            // An IPv6 socket may hold v4-mapped addresses; an IPv4 one only IPv4.
            const TcpSocket s = socket(local, lport, remote, rport, state);
            if (s.local.family == s.remote.family) out.push_back(s);
          }
  return out;
}

std::vector<Match> matches() {
  std::vector<Match> out;
  auto add = [&](auto fill) {
    Match m;
    m.states = established();
    fill(m);
    out.push_back(m);
  };
  add([](Match&) {});
  add([](Match& m) { m.states = StateSet::all(); });
  add([](Match& m) { m.states = StateSet::of(TcpState::kSynRecv); });
  add([](Match& m) { m.local_ports = {ports("2181")}; });
  add([](Match& m) { m.local_ports = {ports("22"), ports("30000-40000")}; });
  add([](Match& m) { m.remote_ports = {ports("0")}; });
  add([](Match& m) { m.ports = {ports("2181")}; });
  add([](Match& m) { m.ports = {ports("22"), ports("40000-65535")}; });
  add([](Match& m) { m.local = {prefix("10.0.0.0/16")}; });
  add([](Match& m) { m.local = {prefix("fd00::/8"), prefix("10.0.0.1")}; });
  add([](Match& m) { m.remote = {prefix("::ffff:192.0.2.0/120")}; });
  add([](Match& m) { m.remote = {prefix("0.0.0.0/0")}; });
  add([](Match& m) {
    m.local_ports = {ports("2181-2182")};
    m.remote = {prefix("10.0.0.0/8"), prefix("fd00::/8")};
    m.states = established() | StateSet::of(TcpState::kCloseWait);
  });
  add([](Match& m) {
    m.local_ports = {ports("22")};
    m.remote_ports = {ports("40000")};
    m.ports = {ports("22")};
    m.local = {prefix("10.0.0.0/8")};
    m.remote = {prefix("10.0.0.2")};
  });
  return out;
}

std::string describe(const TcpSocket& s) {
  return std::string(state_label(s.state)) + " " + s.local.to_string() + "/" + std::to_string(s.local_port) + " -> " +
         s.remote.to_string() + "/" + std::to_string(s.remote_port);
}

// What each list means, spelt out: hand-written expectations, not derived
// from either implementation.
TEST(Match, EveryNonEmptyListMustHold) {
  Match m;
  m.states = established();
  m.ports = {ports("2181")};
  m.remote = {prefix("10.0.0.0/8")};
  EXPECT_TRUE(m.matches(socket("10.0.0.1", 2181, "10.0.0.2", 40000)));
  EXPECT_TRUE(m.matches(socket("10.0.0.1", 40000, "10.0.0.2", 2181))) << "ports: either end";
  EXPECT_FALSE(m.matches(socket("10.0.0.1", 40000, "10.0.0.2", 40001))) << "no end on 2181";
  EXPECT_FALSE(m.matches(socket("10.0.0.1", 2181, "192.0.2.1", 40000))) << "remote outside 10/8";
  EXPECT_FALSE(m.matches(socket("10.0.0.1", 2181, "10.0.0.2", 40000, TcpState::kCloseWait))) << "state";
  EXPECT_TRUE(m.matches(socket("::ffff:10.0.0.1", 2181, "::ffff:10.0.0.2", 1)))
      << "an IPv4 prefix holds the v4-mapped form, as the kernel's filter decides";
}

TEST(Match, AnEmptyMatchIsItsStatesOnly) {
  Match m;
  m.states = StateSet::of(TcpState::kSynRecv);
  // A request socket is dumped as SYN-RECV.
  EXPECT_TRUE(m.matches(socket("fd00::1", 1, "fd00::2", 2, TcpState::kSynRecv)));
  EXPECT_FALSE(m.matches(socket("fd00::1", 1, "fd00::2", 2)));
  EXPECT_TRUE(m.to_groups().empty());
}

TEST(Match, GroupsFollowTheListsInFieldOrder) {
  Match m;
  m.remote = {prefix("10.0.0.0/8")};
  m.ports = {ports("22"), ports("80")};
  m.local_ports = {ports("2181")};
  const std::vector<AnyOf> want = {
      {Condition::local_port(ports("2181"))},
      {Condition::local_port(ports("22")), Condition::remote_port(ports("22")), Condition::local_port(ports("80")),
       Condition::remote_port(ports("80"))},
      {Condition::remote_prefix(prefix("10.0.0.0/8"))},
  };
  EXPECT_EQ(m.to_groups(), want);
}

// The user-space predicate and the kernel filter's value agree on every
// socket of a grid that crosses each edge (the kernel's side of the same
// agreement is tests/integration/filter_parity_test.cpp).
TEST(Match, DecidesAsTheSocketFilterOfItsGroups) {
  const std::vector<TcpSocket> all = sockets();
  const std::vector<Match> ms = matches();
  size_t matched = 0;
  for (size_t i = 0; i < ms.size(); ++i) {
    SocketFilter f;
    f.states = ms[i].states;
    f.all_of = ms[i].to_groups();
    size_t by_this = 0;
    for (const TcpSocket& s : all) {
      const bool want = f.matches(s);
      EXPECT_EQ(ms[i].matches(s), want) << describe(s) << " (match #" << i << ")";
      by_this += want ? 1 : 0;
    }
    EXPECT_GT(by_this, 0u) << "match #" << i << " selects nothing of the grid";
    matched += by_this;
  }
  EXPECT_LT(matched, all.size() * ms.size()) << "the grid must tell matches apart";
}

// Match::matches runs per socket per scan.
TEST(Match, MatchingAllocatesNothing) {
  const std::vector<TcpSocket> all = sockets();
  const std::vector<Match> ms = matches();
  // The canary: the counter sees what lib/ allocates.
  const uint64_t canary_before = test::allocations();
  const std::vector<AnyOf> groups = ms.back().to_groups();
  ASSERT_GT(test::allocations(), canary_before);

  size_t matched = 0;
  const uint64_t before = test::allocations();
  for (const Match& m : ms)
    for (const TcpSocket& s : all) matched += m.matches(s) ? 1 : 0;
  EXPECT_EQ(test::allocations(), before);
  EXPECT_GT(matched, 0u);
}

}  // namespace
}  // namespace tcpreap
