// Every socket a tool opens with a maker of another namespace lives in that
// namespace (SIOCGSKNS says so): the scanner, the lookup, the destroyer, the
// raw senders, the capture, the route socket, the prober, the RST injector,
// the reaper - found without accessors, as the sockets this process holds
// after the open and not before (/proc/self/fd). And so does each socket a
// scanner, lookup or destroyer reopens after a transport error (forced by
// putting /dev/null under its descriptor): the reopened tool reaches that
// namespace's listener, which a socket of the host's could not.

#include "netns/socket_maker.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "diag/socket_presence.h"
#include "diag/socket_scanner.h"
#include "netlink/netlink_socket.h"
#include "netns/namespace_sockets.h"
#include "reap/destroy_support.h"
#include "reap/reaper.h"
#include "reap/rst_injector.h"
#include "reap/socket_destroyer.h"
#include "support/netns.h"
#include "support/suite_fixture.h"
#include "support/support_error.h"
#include "verify/liveness_prober.h"
#include "wire/packet_capture.h"
#include "wire/packet_resources.h"
#include "wire/raw_sender.h"

namespace tcpreap::test {
namespace {

NetnsId netns_id_of(int fd, const std::string& path) {
  auto id = read_netns_id(fd, path);
  if (!id) throw_errno("reading the namespace identity of " + path, id.error().errnum());
  return *id;
}

// One namespace for the suite, "trsm<pid>", and a maker of it.
struct Namespace {
  NamedNetns ns{"trsm" + std::to_string(::getpid())};
  std::string path = "/run/netns/" + ns.name();
  std::shared_ptr<const UniqueFd> fd = std::make_shared<const UniqueFd>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  NetnsId id;
  NetnsId home;
  SocketMaker maker = SocketMaker::in(fd, ns.name());
  size_t raw_senders = 0;  // 2, or 1 where the namespace has no IPv6

  Namespace() {
    if (!fd->valid()) throw_errno("opening " + path, errno);
    id = netns_id_of(fd->get(), path);
    auto here = thread_namespace();
    if (!here) throw SupportError(here.error().message());
    home = *here;
    auto sender = RawSender::open(maker);
    if (!sender) throw SupportError("RawSender::open: " + sender.error().message());
    raw_senders = sender->has_ipv6() ? 2 : 1;
  }
};

// The sockets this process holds: what /proc/self/fd says each is
// ("socket:[4711]", unique while it lives) -> its descriptor.
std::map<std::string, int> held_sockets() {
  std::map<std::string, int> held;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) throw_errno("opendir /proc/self/fd", errno);
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    char target[128];
    const ssize_t n = ::readlinkat(::dirfd(dir), e->d_name, target, sizeof target);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof target) continue;  // closed meanwhile (the dir's own fd)
    const std::string link(target, static_cast<size_t>(n));
    if (link.rfind("socket:", 0) == 0) held[link] = std::stoi(e->d_name);
  }
  ::closedir(dir);
  return held;
}

// The descriptors of the sockets held now and not in `before`.
std::vector<int> sockets_since(const std::map<std::string, int>& before) {
  std::vector<int> fresh;
  for (const auto& [link, fd] : held_sockets())
    if (!before.contains(link)) fresh.push_back(fd);
  return fresh;
}

// A transport error for whoever uses `fd` next: /dev/null takes the
// descriptor's place (the socket under it is closed), so the next send
// fails with ENOTSOCK and the tool drops it - closing /dev/null's copy.
void break_transport(int fd) {
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) throw_errno("opening /dev/null", errno);
  if (::dup3(null.get(), fd, O_CLOEXEC) != fd) throw_errno("dup3 over fd " + std::to_string(fd), errno);
}

struct CollectSink : SocketSink {
  std::vector<TcpSocket> sockets;
  void on_socket(const TcpSocket& s) override { sockets.push_back(s); }
  void on_restart() override { sockets.clear(); }
};

class SocketMakerKernel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { shared_.build(); }
  static void TearDownTestSuite() { shared_.reset(); }
  void SetUp() override {
    TCPREAP_REQUIRE_SUITE_FIXTURE(shared_);
    ASSERT_NE(ns().id, ns().home) << "the test namespace is the host's";
  }

  static Namespace& ns() { return *shared_; }

  // `fds` are `count` sockets, each in the test's namespace.
  static void expect_inside(const std::vector<int>& fds, size_t count, const std::string& what) {
    EXPECT_EQ(fds.size(), count) << what << ": sockets made";
    for (int fd : fds) {
      auto where = socket_namespace(fd);
      ASSERT_TRUE(where.ok()) << what << ": " << where.error().message();
      EXPECT_EQ(*where, ns().id) << what << ": fd " << fd << " is in " << where->to_string()
                                 << (*where == ns().home ? " (the host's)" : "");
    }
  }

  // open() (a Result of some tool) makes `count` sockets, all inside.
  template <typename Open>
  static void expect_opens_inside(const std::string& what, size_t count, Open open) {
    const auto before = held_sockets();
    auto tool = open();
    ASSERT_TRUE(tool.ok()) << what << ": " << tool.error().message();
    expect_inside(sockets_since(before), count, what);
  }

  // What PacketResources opens: the capture, the raw senders, the route socket.
  static size_t packet_sockets() { return 1 + ns().raw_senders + 1; }

  // A listener on 127.0.0.1 inside, as a scan of the namespace reports it.
  struct Listener {
    UniqueFd fd;
    TcpSocket seen;
  };
  static Listener listen_inside() {
    Listener l;
    auto fd = ns().maker.make(AF_INET, SOCK_STREAM, 0);
    if (!fd) throw SupportError(fd.error().message());
    l.fd = std::move(*fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(l.fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(l.fd.get(), 4) != 0 ||
        ::getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw_errno("listening inside", errno);
    auto found = scan_port(ntohs(addr.sin_port));
    if (found.size() != 1) throw SupportError("a scan inside found " + std::to_string(found.size()) + " listeners");
    l.seen = found.front();
    return l;
  }
  static ScanQuery port_query(uint16_t port) {
    SocketFilter f;
    f.ipv6 = false;
    f.all_of = {{Condition::local_port({port, port})}};
    auto q = ScanQuery::compile(f);
    if (!q) throw SupportError(q.error().message());
    return std::move(*q);
  }
  static std::vector<TcpSocket> scan_port(uint16_t port) {
    auto scanner = SocketScanner::open(ns().maker);
    if (!scanner) throw SupportError(scanner.error().message());
    CollectSink sink;
    auto stats = scanner->scan(port_query(port), sink);
    if (!stats) throw SupportError(stats.error().message());
    return sink.sockets;
  }

  static SuiteFixture<Namespace> shared_;
};

SuiteFixture<Namespace> SocketMakerKernel::shared_;

TEST_F(SocketMakerKernel, NetlinkSocketsAreMadeInside) {
  expect_opens_inside("NETLINK_SOCK_DIAG", 1, [] { return NetlinkSocket::open(NETLINK_SOCK_DIAG, ns().maker); });
  expect_opens_inside("NETLINK_ROUTE", 1, [] { return NetlinkSocket::open(NETLINK_ROUTE, ns().maker); });

  // The control: here() makes the host's, and the check tells them apart.
  const auto before = held_sockets();
  auto host = NetlinkSocket::open(NETLINK_ROUTE, SocketMaker::here());
  ASSERT_TRUE(host.ok()) << host.error().message();
  const auto fresh = sockets_since(before);
  ASSERT_EQ(fresh.size(), 1u);
  auto where = socket_namespace(fresh.front());
  ASSERT_TRUE(where.ok()) << where.error().message();
  EXPECT_EQ(*where, ns().home);
}

TEST_F(SocketMakerKernel, DiagToolsOpenInside) {
  expect_opens_inside("SocketScanner", 1, [] { return SocketScanner::open(ns().maker); });
  expect_opens_inside("DiagLookup", 1, [] { return DiagLookup::open(ns().maker); });
  // Its SOCK_DESTROY socket and its lookup's.
  expect_opens_inside("SocketDestroyer", 2, [] { return SocketDestroyer::open(ns().maker); });
}

TEST_F(SocketMakerKernel, PacketToolsOpenInside) {
  expect_opens_inside("RawSender", ns().raw_senders, [] { return RawSender::open(ns().maker); });
  expect_opens_inside("PacketCapture", 1, [] { return PacketCapture::open(ns().maker); });
  expect_opens_inside("PacketResources", packet_sockets(), [] { return PacketResources::open(ns().maker); });
}

TEST_F(SocketMakerKernel, ProberInjectorAndReaperOpenInside) {
  expect_opens_inside("LivenessProber", packet_sockets(), [] { return LivenessProber::open(ns().maker); });
  // The packet tools and a lookup.
  expect_opens_inside("RstInjector", packet_sockets() + 1, [] { return RstInjector::open(ns().maker); });
  // The destroyer's two and the injector's.
  expect_opens_inside("Reaper (auto)", 2 + packet_sockets() + 1,
                      [] { return Reaper::open(ReapMethod::kAuto, ns().maker); });
}

TEST_F(SocketMakerKernel, TheScannerReopensInside) {
  const Listener listener = listen_inside();
  const auto before = held_sockets();
  auto scanner = SocketScanner::open(ns().maker);
  ASSERT_TRUE(scanner.ok()) << scanner.error().message();
  const auto first = sockets_since(before);
  ASSERT_EQ(first.size(), 1u);
  break_transport(first.front());

  const ScanQuery query = port_query(listener.seen.local_port);
  CollectSink sink;
  auto failed = scanner->scan(query, sink);
  ASSERT_FALSE(failed.ok()) << "a scan over /dev/null succeeded";
  EXPECT_EQ(failed.error().errnum(), ENOTSOCK) << failed.error().message();

  const auto between = held_sockets();
  auto scanned = scanner->scan(query, sink);
  ASSERT_TRUE(scanned.ok()) << scanned.error().message();
  expect_inside(sockets_since(between), 1, "the scanner's reopened socket");
  ASSERT_EQ(sink.sockets.size(), 1u) << "the reopened scanner does not see the namespace's listener";
  EXPECT_EQ(sink.sockets.front().cookie, listener.seen.cookie);
}

TEST_F(SocketMakerKernel, TheLookupReopensInside) {
  const Listener listener = listen_inside();
  const auto before = held_sockets();
  auto lookup = DiagLookup::open(ns().maker);
  ASSERT_TRUE(lookup.ok()) << lookup.error().message();
  const auto first = sockets_since(before);
  ASSERT_EQ(first.size(), 1u);
  break_transport(first.front());

  const TcpSocket* targets[] = {&listener.seen};
  auto failed = lookup->look(targets);
  ASSERT_FALSE(failed.ok()) << "a lookup over /dev/null succeeded";
  EXPECT_EQ(failed.error().errnum(), ENOTSOCK) << failed.error().message();

  const auto between = held_sockets();
  auto holders = lookup->look(targets);
  ASSERT_TRUE(holders.ok()) << holders.error().message();
  expect_inside(sockets_since(between), 1, "the lookup's reopened socket");
  ASSERT_EQ(holders->size(), 1u);
  EXPECT_TRUE(holders->front().itself()) << "the reopened lookup found: " << holders->front().describe();
}

TEST_F(SocketMakerKernel, TheDestroyerReopensInside) {
  const Listener listener = listen_inside();
  const auto before = held_sockets();
  auto destroyer = SocketDestroyer::open(ns().maker);
  ASSERT_TRUE(destroyer.ok()) << destroyer.error().message();
  const auto first = sockets_since(before);
  ASSERT_EQ(first.size(), 2u);
  for (int fd : first) break_transport(fd);  // the destroy socket, and the lookup's (unused here)

  auto failed = destroyer->destroy(std::span(&listener.seen, 1));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed.front().result, ReapResult::kFailed) << failed.front().detail;
  EXPECT_EQ(failed.front().errnum, ENOTSOCK) << failed.front().detail;

  const auto between = held_sockets();
  auto done = destroyer->destroy(std::span(&listener.seen, 1));
  expect_inside(sockets_since(between), 1, "the destroyer's reopened socket");
  ASSERT_EQ(done.size(), 1u);
  // A socket of the host's would find nothing to destroy (already-gone);
  // a kernel without SOCK_DESTROY answers before it looks.
  EXPECT_TRUE(done.front().result == ReapResult::kDone || done.front().result == ReapResult::kUnsupported)
      << reap_result_name(done.front().result) << ": " << done.front().detail;
}

// The probe's socket is gone when it returns: that it goes through the
// maker shows in a maker that cannot make one.
TEST_F(SocketMakerKernel, DestroySupportIsAskedThroughTheMaker) {
  auto inside = probe_destroy_support(ns().maker);
  EXPECT_TRUE(inside.ok()) << inside.error().message();

  auto null = std::make_shared<const UniqueFd>(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(null->valid()) << std::strerror(errno);
  auto refused = probe_destroy_support(SocketMaker::in(null, "nowhere"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().errnum(), EINVAL);
  EXPECT_NE(refused.error().context().find("in network namespace nowhere"), std::string::npos)
      << refused.error().message();
}

}  // namespace
}  // namespace tcpreap::test
