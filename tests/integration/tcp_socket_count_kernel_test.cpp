// The kernel's per-namespace TCP counters, read through TcpSocketCount on
// the real kernel: an empty namespace reads 0 whatever the host holds; each
// listener and each end of a connection counts, in its own family; the
// files report the namespace they were opened in, read from any thread in
// any namespace. What "inuse" leaves out, each next to the dump that lists
// it: TIME-WAIT, an orphan's FIN-WAIT-2, request sockets (SYN-RECV), bound
// sockets. That held counts keep a deleted namespace alive (a veth peer
// stays), and that it goes once they are closed. What a read costs, next to
// one dump of an empty namespace (printed, no bound).
//
// Every test has a namespace of its own, trp<pid>n<k>, deleted at its end.

#include "netns/tcp_socket_count.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "diag/socket_scanner.h"
#include "netns/namespace_sockets.h"
#include "support/command.h"
#include "support/netns.h"
#include "support/privileges.h"
#include "support/scan.h"
#include "support/support_error.h"
#include "support/tcp.h"

namespace tcpreap::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kBoundInactive = 1u << 13;  // TCP_BOUND_INACTIVE, Linux 6.8+

// Polls `done` every 10 ms until it holds or `timeout` passes; whether it held.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return done();
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// A namespace of the test's own and an open descriptor of it.
struct Namespace {
  NamedNetns ns{unique_netns_name('n')};
  std::string path = "/run/netns/" + ns.name();
  UniqueFd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  Namespace() {
    if (!fd) throw_errno("opening " + path, errno);
  }
};

TcpSocketCount open_count(int netns_fd) {
  auto count = TcpSocketCount::open_in(netns_fd);
  if (!count.ok()) throw SupportError("TcpSocketCount::open_in: " + count.error().message());
  return std::move(*count);
}

TcpInUse read_counts(const TcpSocketCount& count) {
  auto n = count.in_use_by_family();
  if (!n.ok()) throw SupportError("in_use_by_family: " + n.error().message());
  return *n;
}

uint64_t read_total(const TcpSocketCount& count) {
  auto n = count.in_use();
  if (!n.ok()) throw SupportError("in_use: " + n.error().message());
  return *n;
}

// Whether the running kernel is at least major.minor.
bool kernel_at_least(int major, int minor) {
  utsname u{};
  if (::uname(&u) != 0) return false;
  int ma = 0, mi = 0;
  if (std::sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

class TcpSocketCountKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    TCPREAP_REQUIRE_ROOT();
    ns_.emplace();
  }

  int fd() const { return ns_->fd.get(); }
  const std::string& name() const { return ns_->ns.name(); }

  // One dump of the namespace, for `states` (the mask as it is: bits that
  // StateSet has no name for too).
  std::vector<TcpSocket> dump(StateSet states) const {
    auto scanner = run_in_namespace(fd(), [] { return SocketScanner::open(); });
    if (!scanner.ok()) throw SupportError("SocketScanner::open: " + scanner.error().message());
    SocketFilter filter;
    filter.states = states;
    return scan_sockets(*scanner, compile_query(filter));
  }
  size_t dumped(StateSet states) const { return dump(states).size(); }

  // A connected pair inside the namespace, and its listener.
  struct Pair {
    UniqueFd listener, client, server;
  };
  Pair connect_pair(const std::string& address = "127.0.0.1") const {
    ScopedNetns inside(name());
    Pair p;
    p.listener = tcp_listen(address);
    p.client = tcp_connect(address, local_endpoint(p.listener.get()).port);
    p.server = tcp_accept(p.listener.get());
    return p;
  }

  std::optional<Namespace> ns_;
};

TEST_F(TcpSocketCountKernel, AnEmptyNamespaceCountsNothingWhateverTheHostHolds) {
  // The host holds at least these two meanwhile.
  UniqueFd home4 = tcp_listen("127.0.0.1");
  UniqueFd home6 = tcp_listen("::1");

  TcpSocketCount inside = open_count(fd());
  EXPECT_EQ(read_counts(inside), (TcpInUse{0, 0}));
  EXPECT_EQ(read_total(inside), 0u);
  EXPECT_EQ(inside.counts_ipv6(), ::access("/proc/net/sockstat6", F_OK) == 0);

  auto home = TcpSocketCount::open_here();
  ASSERT_TRUE(home.ok()) << home.error().message();
  const TcpInUse at_home = read_counts(*home);
  EXPECT_GE(at_home.ipv4, 1u);
  if (home->counts_ipv6()) {
    EXPECT_GE(at_home.ipv6, 1u);
  }

  // Each names its own namespace.
  auto ns_id = read_netns_id(fd(), ns_->path);
  ASSERT_TRUE(ns_id.ok()) << ns_id.error().message();
  EXPECT_EQ(inside.where(), ns_id->to_string());
  auto home_id = thread_namespace();
  ASSERT_TRUE(home_id.ok()) << home_id.error().message();
  EXPECT_EQ(home->where(), home_id->to_string());
}

TEST_F(TcpSocketCountKernel, EachListenerCountsInItsFamilyReadFromAnywhere) {
  TcpSocketCount count = open_count(fd());
  std::optional<ScopedNetns> inside(std::in_place, name());
  UniqueFd v4 = tcp_listen("127.0.0.1");
  UniqueFd v6 = tcp_listen("::1");
  // Made, or bound, but neither listening nor connected: not counted.
  UniqueFd unused(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  UniqueFd bound(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::bind(bound.get(), reinterpret_cast<sockaddr*>(&any), sizeof any), 0) << std::strerror(errno);
  inside.reset();

  // This thread (home again), another thread at home, a thread inside a
  // third namespace: all read the namespace the files were opened in.
  EXPECT_EQ(read_counts(count), (TcpInUse{1, 1}));
  TcpInUse from_thread, from_elsewhere;
  std::thread([&] { from_thread = read_counts(count); }).join();
  NamedNetns third(unique_netns_name('t'));
  std::string elsewhere_error;
  std::thread([&] {
    try {
      ScopedNetns there(third.name());
      from_elsewhere = read_counts(count);
    } catch (const std::exception& e) {
      elsewhere_error = e.what();
    }
  }).join();
  ASSERT_EQ(elsewhere_error, "");
  EXPECT_EQ(from_thread, (TcpInUse{1, 1}));
  EXPECT_EQ(from_elsewhere, (TcpInUse{1, 1}));
  EXPECT_EQ(read_total(count), 2u);

  // Read again on every call.
  v4.reset();
  EXPECT_EQ(read_counts(count), (TcpInUse{0, 1}));
  v6.reset();
  EXPECT_EQ(read_counts(count), (TcpInUse{0, 0}));
}

TEST_F(TcpSocketCountKernel, AnEstablishedPairCountsTwo) {
  TcpSocketCount count = open_count(fd());
  Pair p = connect_pair();
  EXPECT_EQ(read_counts(count), (TcpInUse{3, 0}));
  p.listener.reset();
  EXPECT_EQ(read_total(count), 2u);
  EXPECT_EQ(dumped(StateSet::of(TcpState::kEstablished)), 2u);
  EXPECT_TRUE(in_use_counts(StateSet::of(TcpState::kEstablished)));

  Pair p6 = connect_pair("::1");
  EXPECT_EQ(read_counts(count), (TcpInUse{2, 3}));
}

// A dual-stack listener's child for an IPv4 client is an AF_INET6 socket
// (v4-mapped peer): it counts, and is dumped, as IPv6.
TEST_F(TcpSocketCountKernel, AV4MappedChildCountsAsIpv6) {
  TcpSocketCount count = open_count(fd());
  ScopedNetns inside(name());
  UniqueFd listener = tcp_listen("::", 0, /*v6only=*/false);
  UniqueFd client = tcp_connect("127.0.0.1", local_endpoint(listener.get()).port);
  UniqueFd server = tcp_accept(listener.get());
  EXPECT_EQ(read_counts(count), (TcpInUse{1, 2}));
}

TEST_F(TcpSocketCountKernel, TimeWaitIsNotCounted) {
  TcpSocketCount count = open_count(fd());
  Pair p = connect_pair();
  graceful_close(p.client);  // the active closer ends in TIME-WAIT
  graceful_close(p.server);
  p.listener.reset();
  const StateSet time_wait = StateSet::of(TcpState::kTimeWait);
  ASSERT_TRUE(eventually([&] { return dumped(time_wait) == 1 && dumped(StateSet::all()) == 1; }))
      << dump(StateSet::all()).size() << " sockets";
  // A TIME-WAIT dump lists one socket, the counter reads 0: skipping that
  // dump at 0 would lose it.
  EXPECT_EQ(read_total(count), 0u);
  EXPECT_FALSE(in_use_counts(time_wait));
}

// close() on a socket whose peer acks the FIN but never closes: the orphan
// becomes a time-wait socket in substate FIN-WAIT-2 (tcp_time_wait(sk,
// TCP_FIN_WAIT2, ...)), dumped as FIN-WAIT-2 and not counted.
TEST_F(TcpSocketCountKernel, AnOrphanInFinWait2IsNotCounted) {
  TcpSocketCount count = open_count(fd());
  Pair p = connect_pair();
  const uint16_t client_port = local_endpoint(p.client.get()).port;
  graceful_close(p.client);
  const StateSet fin_wait2 = StateSet::of(TcpState::kFinWait2);
  ASSERT_TRUE(eventually([&] { return dumped(fin_wait2) == 1; }));
  const std::vector<TcpSocket> orphans = dump(fin_wait2);
  ASSERT_EQ(orphans.size(), 1u);
  EXPECT_EQ(orphans[0].local_port, client_port);
  EXPECT_FALSE(orphans[0].info.has_value()) << "a full socket, not a time-wait one";
  // The listener and the server end (CLOSE-WAIT) only.
  EXPECT_EQ(read_total(count), 2u);

  // Make the other two go without a word to the orphan (whose RST would
  // kill it): nothing leaves the namespace's interfaces any more.
  ns_->ns.nft(
      "table inet trpmute {\n"
      "  chain out { type filter hook output priority -300; policy drop; }\n"
      "}\n");
  p.server.reset();  // abortive: its RST is dropped
  p.listener.reset();
  EXPECT_EQ(read_total(count), 0u);
  EXPECT_EQ(dumped(fin_wait2), 1u);
  EXPECT_FALSE(in_use_counts(fin_wait2));
}

// A listener with TCP_DEFER_ACCEPT drops the handshake's last ACK while it
// carries no data: the request socket stays (TCP_NEW_SYN_RECV, dumped as
// SYN-RECV) while the client is ESTABLISHED.
TEST_F(TcpSocketCountKernel, ARequestSocketIsNotCounted) {
  TcpSocketCount count = open_count(fd());
  ScopedNetns inside(name());
  UniqueFd listener = tcp_listen("127.0.0.1");
  const int defer_seconds = 30;
  ASSERT_EQ(::setsockopt(listener.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_seconds, sizeof defer_seconds), 0)
      << std::strerror(errno);
  UniqueFd client = tcp_connect("127.0.0.1", local_endpoint(listener.get()).port);
  const StateSet syn_recv = StateSet::of(TcpState::kSynRecv);
  ASSERT_TRUE(eventually([&] { return dumped(syn_recv) == 1; }));
  const std::vector<TcpSocket> requests = dump(syn_recv);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].state, static_cast<uint8_t>(TcpState::kSynRecv));  // as inet_req_diag_fill() reports it
  EXPECT_FALSE(requests[0].info.has_value()) << "a full socket, not a request";
  EXPECT_EQ(dumped(StateSet::of(TcpState::kEstablished)), 1u);  // the client
  // The listener and the client; not the request.
  EXPECT_EQ(read_total(count), 2u);
  EXPECT_FALSE(in_use_counts(syn_recv));
}

// A bound socket is dumped for the pseudo-state TCP_BOUND_INACTIVE (6.8+),
// reported as CLOSE; a CLOSE-only dump does not list it. Never counted.
TEST_F(TcpSocketCountKernel, ABoundSocketIsNotCounted) {
  TcpSocketCount count = open_count(fd());
  ScopedNetns inside(name());
  UniqueFd bound(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(bound.get(), reinterpret_cast<sockaddr*>(&any), sizeof any), 0) << std::strerror(errno);
  EXPECT_EQ(read_total(count), 0u);
  EXPECT_EQ(dumped(StateSet::of(TcpState::kClose)), 0u);
  const std::vector<TcpSocket> bound_dump = dump(StateSet(kBoundInactive));
  if (bound_dump.empty() && !kernel_at_least(6, 8)) GTEST_SKIP() << "no TCP_BOUND_INACTIVE dump before Linux 6.8";
  ASSERT_EQ(bound_dump.size(), 1u);
  EXPECT_EQ(bound_dump[0].state, static_cast<uint8_t>(TcpState::kClose));
  EXPECT_EQ(dumped(StateSet(kBoundInactive) | StateSet::of(TcpState::kClose)), 1u);
  EXPECT_FALSE(in_use_counts(StateSet::of(TcpState::kClose)));
}

// What tcpreap must know: these descriptors hold the namespace. A veth joins
// a namespace X to another, Y; X loses its name and has no process, and
// still its end of the veth - and so the peer in Y - lives while the counts
// are held, and goes when they are closed.
TEST_F(TcpSocketCountKernel, HeldCountsKeepADeletedNamespaceAlive) {
  std::optional<NamedNetns> x(std::in_place, unique_netns_name('x'));
  const NamedNetns& y = ns_->ns;
  const std::string x_name = x->name(), peer = y.name();
  run_checked({"ip", "link", "add", x_name, "netns", x_name, "type", "veth", "peer", "name", peer, "netns", peer});
  auto peer_exists = [&] { return run_command({"ip", "-n", peer, "link", "show", peer}).exit_code == 0; };
  ASSERT_TRUE(peer_exists());

  std::optional<TcpSocketCount> count;
  {
    UniqueFd x_fd(::open(("/run/netns/" + x_name).c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(x_fd.valid()) << std::strerror(errno);
    count.emplace(open_count(x_fd.get()));
  }
  x.reset();  // ip netns del: nothing but the counts refers to X now
  ASSERT_NE(::access(("/run/netns/" + x_name).c_str(), F_OK), 0);

  // A namespace nothing holds is dismantled within milliseconds here (the
  // end of this test shows it); give it plenty of time.
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(peer_exists()) << "the veth went although the counts were held";
  EXPECT_EQ(read_total(*count), 0u);  // and it still reads

  count.reset();
  EXPECT_TRUE(eventually([&] { return !peer_exists(); }, 30s)) << "the namespace outlived its last holder";
}

TEST_F(TcpSocketCountKernel, OpenInRefusesWhatIsNotANetworkNamespace) {
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  auto count = TcpSocketCount::open_in(null.get());
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.error().errnum(), EINVAL);
  EXPECT_NE(count.error().context().find("is not a network namespace"), std::string::npos)
      << count.error().message();
}

// What one read costs, next to what it saves: a dump of this (empty)
// namespace still walks the host's whole established hash. Printed, not
// bounded; tests/bench/tcp_socket_count_bench loads the host first.
TEST_F(TcpSocketCountKernel, PrintsWhatAReadCosts) {
  constexpr int kReads = 2000;
  constexpr int kDumps = 50;
  TcpSocketCount count = open_count(fd());
  auto scanner = run_in_namespace(fd(), [] { return SocketScanner::open(); });
  ASSERT_TRUE(scanner.ok()) << scanner.error().message();
  SocketFilter filter;
  filter.states = StateSet::of(TcpState::kEstablished);
  const ScanQuery query = compile_query(filter);

  uint64_t nonzero = 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < kReads; ++i) nonzero += read_total(count) != 0;
  const auto t1 = Clock::now();
  size_t found = 0;
  for (int i = 0; i < kDumps; ++i) found += scan_sockets(*scanner, query).size();
  const auto t2 = Clock::now();
  constexpr int kOpens = 100;
  for (int i = 0; i < kOpens; ++i) (void)open_count(fd());
  const auto t3 = Clock::now();

  EXPECT_EQ(nonzero, 0u);
  EXPECT_EQ(found, 0u);
  auto us = [](Clock::duration d, int n) { return std::chrono::duration<double, std::micro>(d).count() / n; };
  auto host = TcpSocketCount::open_here();
  ASSERT_TRUE(host.ok()) << host.error().message();
  std::printf("empty namespace (the host's own holding %llu TCP sockets): in_use() %.2f us (%d reads); "
              "ESTABLISHED dump, IPv4 + IPv6, %.1f us (%d dumps); open_in() %.1f us (%d opens)\n",
              static_cast<unsigned long long>(read_total(*host)), us(t1 - t0, kReads), kReads, us(t2 - t1, kDumps),
              kDumps, us(t3 - t2, kOpens), kOpens);
}

}  // namespace
}  // namespace tcpreap::test
