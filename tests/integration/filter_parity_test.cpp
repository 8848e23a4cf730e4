// The kernel's inet_diag bytecode and SocketFilter::matches must agree.
// One namespace holds a known mix of sockets (IPv4, IPv6, dual-stack with
// v4-mapped addresses, listeners, connections, FIN-WAIT-2 / CLOSE-WAIT,
// TIME-WAIT); for each filter of a table, the kernel-filtered scan must
// return exactly the sockets an unfiltered scan keeps after matches().

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

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
Condition rpfx(const char* t) { return Condition::remote_prefix(prefix(t)); }

constexpr StateSet kAll = StateSet::all();
StateSet states(std::initializer_list<TcpState> list) {
  StateSet s;
  for (TcpState t : list) s = s | StateSet::of(t);
  return s;
}

struct ParityCase {
  const char* name;
  SocketFilter filter;
  bool expect_matches = true;  // the fixture guarantees at least one match
};

SocketFilter filter(std::vector<AnyOf> groups, StateSet st = kAll, bool v4 = true, bool v6 = true) {
  SocketFilter f;
  f.states = st;
  f.ipv4 = v4;
  f.ipv6 = v6;
  f.all_of = std::move(groups);
  return f;
}

std::vector<ParityCase> parity_cases() {
  using S = TcpState;
  AnyOf many_ports;  // a long program: 200 single ports and 50 ranges, one of them ours
  for (int p = 1000; p < 1200; ++p) many_ports.push_back(Condition::local_port({uint16_t(p), uint16_t(p)}));
  for (int p = 10000; p < 15000; p += 100) many_ports.push_back(Condition::remote_port({uint16_t(p), uint16_t(p + 9)}));
  many_ports.push_back(lport("2181"));
  AnyOf huge;  // 5000 ports: 59 996 bytes of bytecode, close to what one attribute holds
  for (int p = 50000; p < 54999; ++p) huge.push_back(Condition::remote_port({uint16_t(p), uint16_t(p)}));
  huge.push_back(rport("2181"));
  return {
      {"NoConditions", filter({})},
      {"LocalPort", filter({{lport("2181")}})},
      {"RemotePort", filter({{rport("2181")}})},
      {"RemotePortZeroIsListeners", filter({{rport("0")}})},
      {"LocalPortRange", filter({{lport("40000-40010")}})},
      {"RemotePortRange", filter({{rport("40000-40010")}})},
      {"LocalPortUpperBoundOnly", filter({{lport("0-9000")}})},
      {"LocalPortLowerBoundOnly", filter({{lport("30000-65535")}})},
      {"LocalPortAnyIsNoCondition", filter({{lport("0-65535")}})},
      {"EitherEndPort", filter({{lport("8080"), rport("8080")}})},
      {"EitherEndPortList", filter({{lport("2181"), rport("2181"), lport("9090"), rport("9090")}})},
      {"EitherEndPortRange", filter({{lport("40003-40006"), rport("40003-40006")}})},
      {"NoSuchPort", filter({{lport("1"), rport("1")}}), false},
      {"LocalV4Host", filter({{lpfx("127.0.0.1/32")}})},
      {"LocalV4OtherHost", filter({{lpfx("127.0.0.2/32")}})},
      {"RemoteV4Net", filter({{rpfx("127.0.0.0/8")}})},
      {"LocalV4Any", filter({{lpfx("0.0.0.0/0")}})},
      {"RemoteV4Any", filter({{rpfx("0.0.0.0/0")}})},
      {"RemoteV4NoMatch", filter({{rpfx("10.0.0.0/8")}}), false},
      {"LocalV6Any", filter({{lpfx("::/0")}})},
      {"RemoteV6Any", filter({{rpfx("::/0")}})},
      {"LocalV6Loopback", filter({{lpfx("::1/128")}})},
      {"RemoteV6Loopback", filter({{rpfx("::1/128")}})},
      {"LocalV6Ula", filter({{lpfx("fd00:232::/64")}})},
      {"RemoteV6UlaShort", filter({{rpfx("fd00::/8")}})},
      {"LocalV6PrefixOverMapped", filter({{lpfx("::ffff:127.0.0.0/104")}})},
      {"V4PrefixAgainstMappedOnly", filter({{lpfx("127.0.0.1/32")}}, kAll, false, true)},
      {"RemoteV4HostAgainstMappedOnly", filter({{rpfx("127.0.0.2/32")}}, kAll, false, true)},
      {"V4PrefixOddLength", filter({{rpfx("127.0.0.0/31")}})},
      {"V6PrefixOddLength", filter({{lpfx("fd00:200::/23")}})},
      {"MixedFamilyPrefixes", filter({{lpfx("127.0.0.2/32"), lpfx("::1/128")}})},
      {"PortsAndPrefix", filter({{lport("2181"), lport("8080")}, {rpfx("127.0.0.0/8")}})},
      {"ThreeGroups", filter({{lpfx("::1/128"), lpfx("127.0.0.1/32")},
                              {rport("40000-40010"), lport("40000-40010")},
                              {rport("2181-2181"), lport("0-3000")}})},
      {"GroupOfManyConditions", filter({many_ports})},
      {"ProgramNear64KiB", filter({huge})},
      {"EmptyGroupNeverHolds", filter({{lport("2181")}, {}}), false},
      {"EstablishedOnly", filter({{lport("2181")}}, states({S::kEstablished}))},
      {"ListenOnly", filter({}, states({S::kListen}))},
      {"ListenV6Wildcard", filter({{lpfx("::/128")}}, states({S::kListen}))},
      {"TimeWaitOnly", filter({{lpfx("127.0.0.0/8"), lpfx("::1/128")}}, states({S::kTimeWait}))},
      {"TimeWaitByPort", filter({{rport("2181"), rport("8080")}}, states({S::kTimeWait}))},
      {"SynSentByRemotePort", filter({{rport("2181"), rport("9090")}}, states({S::kSynSent}))},
      {"SynRecvByLocalPort", filter({{lport("2181")}}, states({S::kSynRecv}))},
      {"SynRecvByPrefix", filter({{rpfx("127.0.0.2/32"), rpfx("::1/128")}}, states({S::kSynRecv}))},
      {"HandshakesByEitherPort", filter({{lport("40010-40011"), rport("40010-40011")}},
                                        states({S::kSynSent, S::kSynRecv}))},
      {"HalfClosed", filter({{lport("2181"), rport("2181")}}, states({S::kCloseWait, S::kFinWait2}))},
      {"ConnectedByPrefix", filter({{rpfx("127.0.0.1/32")}}, StateSet::connected())},
      {"IPv4Only", filter({{lpfx("127.0.0.0/8")}}, kAll, true, false)},
      {"IPv6Only", filter({{lpfx("127.0.0.0/8")}}, kAll, false, true)},
      {"IPv6OnlyPorts", filter({{lport("2181"), lport("9090")}}, kAll, false, true)},
      {"IPv4OnlyEither", filter({{lport("8080"), rport("8080")}}, states({S::kEstablished}), true, false)},
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

INSTANTIATE_TEST_SUITE_P(Filters, FilterParityTest, ::testing::ValuesIn(parity_cases()),
                         [](const ::testing::TestParamInfo<ParityCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace tcpreap::test
