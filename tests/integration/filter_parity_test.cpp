// The kernel's inet_diag bytecode, SocketFilter::matches and the policies'
// Match::matches must agree. One namespace holds a known mix of sockets
// (IPv4, IPv6, dual-stack with v4-mapped addresses, listeners, connections,
// FIN-WAIT-2 / CLOSE-WAIT, TIME-WAIT); for each filter of a table, the
// kernel-filtered scan must return exactly the sockets an unfiltered scan
// keeps after SocketFilter::matches(), and - for a filter built from
// policies, as a scan builds it - the sockets their Match::matches() selects.

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "config/config.h"
#include "diag/socket_scanner.h"
#include "net/tcp_state.h"
#include "support/netns.h"
#include "support/privileges.h"
#include "support/suite_fixture.h"
#include "support/scan.h"
#include "support/support_error.h"
#include "support/tcp.h"

namespace tcpreap::test {
namespace {

using namespace std::chrono_literals;

// ---- filters, briefly ----------------------------------------------------

PortRange ports(const char* text) { return PortRange::parse(text).value(); }
Cidr prefix(const char* text) { return Cidr::parse(text).value(); }
Condition lport(const char* t) { return Condition::local_port(ports(t)); }
Condition rport(const char* t) { return Condition::remote_port(ports(t)); }
Condition lpfx(const char* t) { return Condition::local_prefix(prefix(t)); }
std::vector<PortRange> P(std::initializer_list<const char*> texts) {
  std::vector<PortRange> out;
  for (const char* t : texts) out.push_back(ports(t));
  return out;
}
std::vector<Cidr> C(std::initializer_list<const char*> texts) {
  std::vector<Cidr> out;
  for (const char* t : texts) out.push_back(prefix(t));
  return out;
}

constexpr StateSet kAll = StateSet::all();
StateSet states(std::initializer_list<TcpState> list) {
  StateSet s;
  for (TcpState t : list) s = s | StateSet::of(t);
  return s;
}

// A match by its lists, over every state unless in() narrows it.
struct MatchOf {
  Match m;
  MatchOf() { m.states = kAll; }
  MatchOf& local_ports(std::initializer_list<const char*> t) { return set(m.local_ports, P(t)); }
  MatchOf& remote_ports(std::initializer_list<const char*> t) { return set(m.remote_ports, P(t)); }
  MatchOf& remote_ports(std::vector<PortRange> r) { return set(m.remote_ports, std::move(r)); }
  MatchOf& ports(std::initializer_list<const char*> t) { return set(m.ports, P(t)); }
  MatchOf& local(std::initializer_list<const char*> t) { return set(m.local, C(t)); }
  MatchOf& remote(std::initializer_list<const char*> t) { return set(m.remote, C(t)); }
  MatchOf& in(StateSet s) { return set(m.states, s); }
  operator Match() const { return m; }

 private:
  template <typename T>
  MatchOf& set(T& field, T value) {
    field = std::move(value);
    return *this;
  }
};

struct ParityCase {
  const char* name;
  SocketFilter filter;
  bool expect_matches = true;  // the fixture guarantees at least one match
  // The policies' matches the filter was built from (Config::scan_filter),
  // whose Match::matches must agree; empty for a filter no match states.
  std::vector<Match> policies = {};
};

SocketFilter filter(std::vector<AnyOf> groups, StateSet st = kAll, bool v4 = true, bool v6 = true) {
  SocketFilter f;
  f.states = st;
  f.ipv4 = v4;
  f.ipv6 = v6;
  f.all_of = std::move(groups);
  return f;
}

// A case as policies state it: the filter is the one a scan for these
// policies sends (Config::scan_filter), with families narrowed as given.
ParityCase policies_case(const char* name, std::vector<Match> matches, bool expect = true, bool v4 = true,
                         bool v6 = true) {
  Config config;
  for (const Match& m : matches) {
    Policy p;
    p.name = name;
    p.match = m;
    config.policies.push_back(std::move(p));
  }
  SocketFilter f = config.scan_filter();
  f.ipv4 = v4;
  f.ipv6 = v6;
  return ParityCase{name, std::move(f), expect, std::move(matches)};
}
ParityCase policy_case(const char* name, Match m, bool expect = true, bool v4 = true, bool v6 = true) {
  return policies_case(name, {std::move(m)}, expect, v4, v6);
}

std::vector<ParityCase> parity_cases() {
  using S = TcpState;
  AnyOf many_ports;  // a long program: 200 single ports and 50 ranges, one of them ours
  for (int p = 1000; p < 1200; ++p) many_ports.push_back(Condition::local_port({uint16_t(p), uint16_t(p)}));
  for (int p = 10000; p < 15000; p += 100) many_ports.push_back(Condition::remote_port({uint16_t(p), uint16_t(p + 9)}));
  many_ports.push_back(lport("2181"));
  std::vector<PortRange> huge;  // 5000 ports: 59 996 bytes of bytecode, close to what one attribute holds
  for (int p = 50000; p < 54999; ++p) huge.push_back({uint16_t(p), uint16_t(p)});
  huge.push_back(ports("2181"));
  return {
      policy_case("NoConditions", MatchOf()),
      policy_case("LocalPort", MatchOf().local_ports({"2181"})),
      policy_case("RemotePort", MatchOf().remote_ports({"2181"})),
      policy_case("RemotePortZeroIsListeners", MatchOf().remote_ports({"0"})),
      policy_case("LocalPortRange", MatchOf().local_ports({"40000-40010"})),
      policy_case("RemotePortRange", MatchOf().remote_ports({"40000-40010"})),
      policy_case("LocalPortUpperBoundOnly", MatchOf().local_ports({"0-9000"})),
      policy_case("LocalPortLowerBoundOnly", MatchOf().local_ports({"30000-65535"})),
      policy_case("LocalPortAnyIsNoCondition", MatchOf().local_ports({"0-65535"})),
      policy_case("EitherEndPort", MatchOf().ports({"8080"})),
      policy_case("EitherEndPortList", MatchOf().ports({"2181", "9090"})),
      policy_case("EitherEndPortRange", MatchOf().ports({"40003-40006"})),
      policy_case("NoSuchPort", MatchOf().ports({"1"}), false),
      policy_case("LocalV4Host", MatchOf().local({"127.0.0.1/32"})),
      policy_case("LocalV4OtherHost", MatchOf().local({"127.0.0.2/32"})),
      policy_case("RemoteV4Net", MatchOf().remote({"127.0.0.0/8"})),
      policy_case("LocalV4Any", MatchOf().local({"0.0.0.0/0"})),
      policy_case("RemoteV4Any", MatchOf().remote({"0.0.0.0/0"})),
      policy_case("RemoteV4NoMatch", MatchOf().remote({"10.0.0.0/8"}), false),
      policy_case("LocalV6Any", MatchOf().local({"::/0"})),
      policy_case("RemoteV6Any", MatchOf().remote({"::/0"})),
      policy_case("LocalV6Loopback", MatchOf().local({"::1/128"})),
      policy_case("RemoteV6Loopback", MatchOf().remote({"::1/128"})),
      policy_case("LocalV6Ula", MatchOf().local({"fd00:232::/64"})),
      policy_case("RemoteV6UlaShort", MatchOf().remote({"fd00::/8"})),
      policy_case("LocalV6PrefixOverMapped", MatchOf().local({"::ffff:127.0.0.0/104"})),
      policy_case("V4PrefixAgainstMappedOnly", MatchOf().local({"127.0.0.1/32"}), true, false, true),
      policy_case("RemoteV4HostAgainstMappedOnly", MatchOf().remote({"127.0.0.2/32"}), true, false, true),
      policy_case("V4PrefixOddLength", MatchOf().remote({"127.0.0.0/31"})),
      policy_case("V6PrefixOddLength", MatchOf().local({"fd00:200::/23"})),
      policy_case("MixedFamilyPrefixes", MatchOf().local({"127.0.0.2/32", "::1/128"})),
      policy_case("PortsAndPrefix", MatchOf().local_ports({"2181", "8080"}).remote({"127.0.0.0/8"})),
      policy_case("EveryList", MatchOf()
                                   .local_ports({"0-50000"})
                                   .remote_ports({"2181", "40000-40010"})
                                   .ports({"2181"})
                                   .local({"127.0.0.0/8", "::1/128"})
                                   .remote({"127.0.0.1/32", "::/0"})),
      policy_case("ProgramNear64KiB", MatchOf().remote_ports(huge)),
      policy_case("EstablishedOnly", MatchOf().local_ports({"2181"}).in(states({S::kEstablished}))),
      policy_case("ListenOnly", MatchOf().in(states({S::kListen}))),
      policy_case("ListenV6Wildcard", MatchOf().local({"::/128"}).in(states({S::kListen}))),
      policy_case("TimeWaitOnly", MatchOf().local({"127.0.0.0/8", "::1/128"}).in(states({S::kTimeWait}))),
      policy_case("TimeWaitByPort", MatchOf().remote_ports({"2181", "8080"}).in(states({S::kTimeWait}))),
      policy_case("SynSentByRemotePort", MatchOf().remote_ports({"2181", "9090"}).in(states({S::kSynSent}))),
      policy_case("SynRecvByLocalPort", MatchOf().local_ports({"2181"}).in(states({S::kSynRecv}))),
      policy_case("SynRecvByPrefix", MatchOf().remote({"127.0.0.2/32", "::1/128"}).in(states({S::kSynRecv}))),
      policy_case("HandshakesByEitherPort", MatchOf().ports({"40010-40011"}).in(states({S::kSynSent, S::kSynRecv}))),
      policy_case("HalfClosed", MatchOf().ports({"2181"}).in(states({S::kCloseWait, S::kFinWait2}))),
      policy_case("ConnectedByPrefix", MatchOf().remote({"127.0.0.1/32"}).in(StateSet::connected())),
      policy_case("IPv4Only", MatchOf().local({"127.0.0.0/8"}), true, true, false),
      policy_case("IPv6Only", MatchOf().local({"127.0.0.0/8"}), true, false, true),
      policy_case("IPv6OnlyPorts", MatchOf().local_ports({"2181", "9090"}), true, false, true),
      policy_case("IPv4OnlyEither", MatchOf().ports({"8080"}).in(states({S::kEstablished})), true, true, false),
      // Several policies: the scan keeps what any of them matches, within
      // the union of their states.
      policies_case("PoliciesOfDifferentStates",
                    {MatchOf().local_ports({"2181"}).in(states({S::kEstablished})),
                     MatchOf().ports({"8080"}).in(states({S::kTimeWait})),
                     MatchOf().local({"::1/128"}).in(states({S::kListen}))}),
      policies_case("APolicyOfNoListsAmongOthers",
                    {MatchOf().remote_ports({"2181"}).in(states({S::kEstablished})),
                     MatchOf().in(states({S::kSynSent}))}),
      policies_case("NoPolicyCanMatch", {MatchOf().ports({"1"}), MatchOf().remote({"10.0.0.0/8"})}, false),
      // Shapes no match gives (Match::to_groups makes one group per list, and
      // none empty): the compiler's own cases.
      {"ThreeGroups", filter({{lpfx("::1/128"), lpfx("127.0.0.1/32")},
                              {rport("40000-40010"), lport("40000-40010")},
                              {rport("2181-2181"), lport("0-3000")}})},
      {"GroupOfManyConditions", filter({many_ports})},
      {"EmptyGroupNeverHolds", filter({{lport("2181")}, {}}), false},
  };
}

// ---- the fixture: one namespace, a known set of sockets -------------------

class FilterParityTest : public ::testing::TestWithParam<ParityCase> {
 protected:
  static void SetUpTestSuite() { fixture_.build(); }
  static void TearDownTestSuite() { fixture_.reset(); }
  void SetUp() override { TCPREAP_REQUIRE_SUITE_FIXTURE(fixture_); }

  struct Fixture {
    Fixture() : ns(unique_netns_name('p')) {
      // A second IPv6 address, so that IPv6 prefixes have something to tell apart.
      ns.ip({"addr", "add", "fd00:232::1/128", "dev", "lo", "nodad"});
      ScopedNetns in(ns.name());
      // Listeners.
      listen("127.0.0.1", 2181);
      listen("0.0.0.0", 8080);
      listen("::1", 2181);
      listen("::", 9090, /*v6only=*/false);  // dual-stack: takes IPv4 connections as v4-mapped
      listen("127.0.0.2", 30001);
      listen("fd00:232::1", 30002);
      // Connections (client bind, server), each two ESTABLISHED sockets.
      connect("127.0.0.1", 2181, {"127.0.0.1", 40001});
      connect("127.0.0.1", 8080, {"127.0.0.2", 40002});
      connect("127.0.0.2", 30001, {});
      connect("::1", 2181, {"::1", 40003});
      connect("::1", 2181, {"fd00:232::1", 40004});
      connect("fd00:232::1", 30002, {});
      // An IPv4 client to the dual-stack listener: its server end is an IPv6
      // socket with ::ffff:127.0.0.1 at both ends.
      connect("127.0.0.1", 9090, {"127.0.0.1", 40005});
      // A dual-stack IPv6 client to an IPv4 listener: the client is the
      // v4-mapped IPv6 socket.
      connect("::ffff:127.0.0.1", 8080, {"::ffff:127.0.0.2", 40006, false});
      // Both ends v4-mapped IPv6 sockets.
      connect("::ffff:127.0.0.2", 9090, {"::", 0, false});
      // Half-closed: the client sends FIN and waits (FIN-WAIT-2), the server
      // end has read nothing yet (CLOSE-WAIT).
      {
        auto& c = connect("127.0.0.1", 2181, {"127.0.0.1", 40007});
        if (::shutdown(c.client.get(), SHUT_WR) != 0) throw SupportError("shutdown(SHUT_WR) failed");
      }
      // TIME-WAIT, IPv4 and IPv6: the client closes first, then the server.
      for (auto [addr, port, bind] : {std::tuple{"127.0.0.1", uint16_t{8080}, BindOptions{"127.0.0.2", 40009}},
                                      std::tuple{"::1", uint16_t{2181}, BindOptions{"::1", 40008}}}) {
        auto& c = connect(addr, port, bind);
        graceful_close(c.client);
        read_eof(c.server.get());
        graceful_close(c.server);
      }
      // Handshakes that never complete: a SYN-SENT client and, in the
      // listener's queue, a request socket (SYN-RECV). Only their SYN-ACKs
      // are dropped.
      ns.nft(
          "table inet trpsynack {\n"
          "  chain out { type filter hook output priority 0; policy accept;\n"
          "    tcp dport { 40010, 40011 } tcp flags & (syn | ack) == syn | ack drop; }\n"
          "}\n");
      embryos.push_back(tcp_start_connect("127.0.0.1", 2181, {"127.0.0.2", 40010}));
      embryos.push_back(tcp_start_connect("::1", 9090, {"::1", 40011}));
      scanner.emplace(open_scanner());
      wait_until_settled();
    }

    void listen(const char* addr, uint16_t port, bool v6only = true) {
      listeners.push_back(tcp_listen(addr, port, v6only));
    }
    struct Conn {
      UniqueFd client, server;
    };
    Conn& connect(const char* addr, uint16_t port, BindOptions bind) {
      Conn c;
      c.client = tcp_connect(addr, port, bind);
      c.server = tcp_accept(listener_for(port));
      conns.push_back(std::move(c));
      return conns.back();
    }
    // The listener of `port` the kernel chose: the one with a connection waiting.
    int listener_for(uint16_t port) {
      std::vector<pollfd> fds;
      for (auto& l : listeners)
        if (local_endpoint(l.get()).port == port) fds.push_back({l.get(), POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 5000) > 0)
        for (const auto& p : fds)
          if (p.revents & POLLIN) return p.fd;
      throw SupportError("no listener of port " + std::to_string(port) + " has a connection");
    }
    static void read_eof(int fd) {
      pollfd p{fd, POLLIN, 0};
      char b;
      if (::poll(&p, 1, 5000) != 1 || ::recv(fd, &b, 1, 0) != 0) throw SupportError("expected EOF");
    }
    // Until the TIME-WAIT, FIN-WAIT-2/CLOSE-WAIT and SYN-SENT/SYN-RECV
    // sockets are all there (segments cross loopback at once, but the test
    // does not assume it).
    void wait_until_settled() {
      SocketFilter f;
      f.states = StateSet::of(TcpState::kTimeWait) | StateSet::of(TcpState::kFinWait2) |
                 StateSet::of(TcpState::kCloseWait) | StateSet::of(TcpState::kSynSent) |
                 StateSet::of(TcpState::kSynRecv);
      auto q = compile_query(f);
      for (int i = 0; i < 50; ++i) {
        if (scan_sockets(*scanner, q).size() == 8) return;
        std::this_thread::sleep_for(100ms);
      }
      throw SupportError("the TIME-WAIT, FIN-WAIT-2, CLOSE-WAIT, SYN-SENT and SYN-RECV sockets did not all appear");
    }

    // Destroyed in reverse: the scanner and sockets before the namespace.
    NamedNetns ns;
    std::vector<UniqueFd> listeners;
    std::deque<Conn> conns;
    std::vector<UniqueFd> embryos;  // SYN-SENT clients
    std::optional<SocketScanner> scanner;
  };

  static inline SuiteFixture<Fixture> fixture_;
};


std::string describe(const TcpSocket& s) {
  std::ostringstream o;
  o << state_label(s.state) << ' ' << s.local.to_string() << '/' << s.local_port << " -> "
    << s.remote.to_string() << '/' << s.remote_port << " (" << family_name(s.family) << ", cookie " << s.cookie
    << ')';
  return o.str();
}

// Who a socket is across two scans: its cookie - except for a SYN-RECV
// embryo, which the kernel replaces (new cookie, same 4-tuple) when the
// unanswered handshake times out and the client's retransmitted SYN makes
// another: between the two scans of one case that happens now and then.
std::string identity(const TcpSocket& s) {
  if (s.state == static_cast<uint8_t>(TcpState::kSynRecv) || s.state == static_cast<uint8_t>(TcpState::kNewSynRecv))
    return "embryo " + s.local.to_string() + '/' + std::to_string(s.local_port) + " -> " + s.remote.to_string() +
           '/' + std::to_string(s.remote_port);
  return "cookie " + std::to_string(s.cookie);
}

std::map<std::string, TcpSocket> by_identity(const std::vector<TcpSocket>& sockets) {
  std::map<std::string, TcpSocket> m;
  for (const auto& s : sockets) {
    auto [it, fresh] = m.emplace(identity(s), s);
    EXPECT_TRUE(fresh) << "seen twice in one scan: " << describe(s);
  }
  return m;
}

TEST_F(FilterParityTest, FixtureHasEverySocket) {
  SocketFilter all;
  auto sockets = scan_sockets(*fixture_->scanner, compile_query(all));
  std::map<std::string, int> by_state;
  int mapped = 0;
  for (const auto& s : sockets) {
    ++by_state[state_label(s.state)];
    if (s.local.is_v4_mapped()) ++mapped;
  }
  // 6 listeners; 9 connections of 2 sockets; 1 FIN-WAIT-2 + 1 CLOSE-WAIT;
  // 2 TIME-WAIT; 2 SYN-SENT + 2 request sockets (reported as SYN-RECV).
  EXPECT_EQ(by_state["LISTEN"], 6);
  EXPECT_EQ(by_state["ESTAB"], 18);
  EXPECT_EQ(by_state["FIN-WAIT-2"], 1);
  EXPECT_EQ(by_state["CLOSE-WAIT"], 1);
  EXPECT_EQ(by_state["TIME-WAIT"], 2);
  EXPECT_EQ(by_state["SYN-SENT"], 2);
  EXPECT_EQ(by_state["SYN-RECV"], 2);
  EXPECT_EQ(sockets.size(), 32u);
  EXPECT_EQ(mapped, 4) << "server end of :9090 from 127.0.0.1, client :40006, both ends to ::ffff:127.0.0.2:9090";
  if (HasFailure())
    for (const auto& s : sockets) ADD_FAILURE() << "found " << describe(s);
}

TEST_P(FilterParityTest, KernelBytecodeAgreesWithMatches) {
  const ParityCase& c = GetParam();
  SocketFilter unfiltered = c.filter;
  unfiltered.all_of.clear();
  unfiltered.any_clause.clear();

  auto everything = scan_sockets(*fixture_->scanner, compile_query(unfiltered));
  auto kernel = by_identity(scan_sockets(*fixture_->scanner, compile_query(c.filter)));
  std::map<std::string, TcpSocket> user;
  for (const auto& s : everything)
    if (c.filter.matches(s)) user.emplace(identity(s), s);

  for (const auto& [id, s] : kernel)
    EXPECT_TRUE(user.count(id)) << "only the kernel's filter keeps " << describe(s);
  for (const auto& [id, s] : user)
    EXPECT_TRUE(kernel.count(id)) << "only matches() keeps " << describe(s);
  if (c.expect_matches)
    EXPECT_FALSE(kernel.empty()) << "the fixture holds sockets this filter must find";
  else
    EXPECT_TRUE(kernel.empty());
}

// The policies decide with Match::matches what the kernel filtered with
// their scan filter. One policy: the two select the same sockets. Several:
// the scan may keep more (one policy's lists with another's states), never
// less - a socket the scan hides, no policy can decide.
TEST_P(FilterParityTest, PoliciesMatchWhatTheKernelKeeps) {
  const ParityCase& c = GetParam();
  if (c.policies.empty()) GTEST_SKIP() << "a filter no match gives";
  auto by_policies = [&](const TcpSocket& s) {
    return std::any_of(c.policies.begin(), c.policies.end(), [&](const Match& m) { return m.matches(s); });
  };

  // Every socket of the namespace, in every state: the predicates' state
  // checks are compared too, not only their ports and prefixes.
  const auto all = scan_sockets(*fixture_->scanner, compile_query(SocketFilter{}));
  for (const auto& s : all) {
    if (!c.filter.wants(s.family)) continue;  // families are the scan's, not a match's
    if (c.policies.size() == 1) {
      EXPECT_EQ(by_policies(s), c.filter.matches(s)) << "Match and SocketFilter disagree on " << describe(s);
    } else if (by_policies(s)) {
      EXPECT_TRUE(c.filter.matches(s)) << "the scan filter hides what a policy matches: " << describe(s);
    }
  }

  SocketFilter unfiltered = c.filter;
  unfiltered.all_of.clear();
  unfiltered.any_clause.clear();
  auto everything = scan_sockets(*fixture_->scanner, compile_query(unfiltered));
  auto kernel = by_identity(scan_sockets(*fixture_->scanner, compile_query(c.filter)));
  // A request socket can be gone for a moment (its handshake timed out, the
  // client's next SYN not yet in) once the suite has run past ~63 s, as it
  // does on a loaded machine: only a socket the scans before and after
  // both list is one the filter dropped.
  auto after = by_identity(scan_sockets(*fixture_->scanner, compile_query(unfiltered)));
  std::map<std::string, TcpSocket> decided;
  for (const auto& s : everything)
    if (by_policies(s)) decided.emplace(identity(s), s);
  for (const auto& [id, s] : decided)
    EXPECT_TRUE(kernel.count(id) || !after.count(id))
        << "a policy matches what the kernel's filter drops: " << describe(s);
  if (c.policies.size() == 1) {
    for (const auto& [id, s] : kernel)
      EXPECT_TRUE(decided.count(id)) << "the kernel keeps what the policy does not match: " << describe(s);
  }
  EXPECT_EQ(decided.empty(), !c.expect_matches);
}

INSTANTIATE_TEST_SUITE_P(Filters, FilterParityTest, ::testing::ValuesIn(parity_cases()),
                         [](const ::testing::TestParamInfo<ParityCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace tcpreap::test
