// probe_destroy_support() on the real kernel, in a fresh namespace: its
// answer agrees with what a real SOCK_DESTROY of a real socket does, it
// touches no socket, and it needs no CAP_NET_ADMIN (the kernel looks the
// socket up before it checks the capability) - checked in a child that
// dropped the capability, where a real destroy is refused.

#include "reap/destroy_support.h"

#include <linux/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <optional>

#include "privilege/capabilities.h"
#include "reap/socket_destroyer.h"
#include "support/netns.h"
#include "support/privileges.h"
#include "support/scan.h"
#include "support/tcp.h"

namespace tcpreap::test {
namespace {

struct Connection {
  UniqueFd client, server;
};

Connection connect_pair(int listener) {
  const uint16_t port = local_endpoint(listener).port;
  Connection c;
  c.client = tcp_connect("127.0.0.1", port);
  c.server = tcp_accept(listener);
  return c;
}

// Both ends still carry data: nothing was done to the connection.
void expect_alive(Connection& c) {
  write_all(c.client.get(), "ping");
  EXPECT_EQ(read_exact(c.server.get(), 4), "ping");
  write_all(c.server.get(), "pong");
  EXPECT_EQ(read_exact(c.client.get(), 4), "pong");
}

TEST(DestroySupportKernel, AgreesWithARealDestroyAndTouchesNothing) {
  TCPREAP_REQUIRE_ROOT();
  NamedNetns ns(unique_netns_name('s'));
  ScopedNetns in(ns.name());
  UniqueFd listener = tcp_listen("127.0.0.1");
  UniqueFd wildcard = tcp_listen("0.0.0.0");  // a listener any address reaches
  Connection bystander = connect_pair(listener.get());
  Connection victim = connect_pair(listener.get());

  const auto probe = probe_destroy_support();
  ASSERT_TRUE(probe.ok()) << probe.error().message();
  expect_alive(bystander);
  // The listeners are still there: each takes a connection.
  Connection late = connect_pair(listener.get());
  const uint16_t wport = local_endpoint(wildcard.get()).port;
  UniqueFd to_wildcard = tcp_connect("127.0.0.1", wport);
  UniqueFd accepted = tcp_accept(wildcard.get());
  EXPECT_TRUE(accepted.valid());

  // What a real SOCK_DESTROY does here.
  SocketScanner scanner = open_scanner();
  const TcpSocket target = socket_of(scanner, victim.server.get());
  auto destroyer = SocketDestroyer::open();
  ASSERT_TRUE(destroyer.ok()) << destroyer.error().message();
  const ReapOutcome real = destroyer->destroy(std::span(&target, 1)).at(0);
  if (real.result == ReapResult::kUnsupported) {
    EXPECT_EQ(*probe, DestroySupport::kUnsupported);
  } else {
    ASSERT_EQ(real.result, ReapResult::kDone) << real.detail;
    EXPECT_EQ(next_recv(victim.server.get()), ECONNABORTED);
    EXPECT_EQ(*probe, DestroySupport::kSupported);
  }
  expect_alive(bystander);
}

// Exit codes of the child below.
constexpr int kSupported = 1, kUnsupported = 2, kCannotTell = 3, kDestroyRefused = 8, kSetupFailed = 64;

TEST(DestroySupportKernel, NeedsNoCapNetAdmin) {
  TCPREAP_REQUIRE_ROOT();
  NamedNetns ns(unique_netns_name('c'));
  ScopedNetns in(ns.name());
  UniqueFd listener = tcp_listen("127.0.0.1");
  Connection c = connect_pair(listener.get());
  SocketScanner scanner = open_scanner();
  const TcpSocket target = socket_of(scanner, c.server.get());
  const auto as_root = probe_destroy_support();
  ASSERT_TRUE(as_root.ok()) << as_root.error().message();

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0) << std::strerror(errno);
  if (pid == 0) {
    // Only CAP_NET_RAW left: a real destroy must now be refused, which
    // shows the capability is gone; the probe must answer as before.
    auto caps = drop_capabilities(uint64_t{1} << CAP_NET_RAW, std::nullopt);
    if (!caps || caps->has(CAP_NET_ADMIN)) ::_exit(kSetupFailed);
    auto destroyer = SocketDestroyer::open();
    if (!destroyer) ::_exit(kSetupFailed);
    const ReapOutcome real = destroyer->destroy(std::span(&target, 1)).at(0);
    const int refused = real.result == ReapResult::kNotPermitted ? kDestroyRefused : 0;
    const auto probe = probe_destroy_support();
    const int answer = !probe ? kCannotTell : *probe == DestroySupport::kSupported ? kSupported : kUnsupported;
    ::_exit(refused | answer);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  const int code = WEXITSTATUS(status);
  ASSERT_NE(code, kSetupFailed) << "the child could not drop CAP_NET_ADMIN or open a netlink socket";
  const int root_answer = *as_root == DestroySupport::kSupported ? kSupported : kUnsupported;
  EXPECT_EQ(code & ~kDestroyRefused, root_answer) << "1 supported, 2 unsupported, 3 cannot tell";
  if (root_answer == kSupported) {
    EXPECT_EQ(code & kDestroyRefused, kDestroyRefused) << "a real destroy was not refused";
  }
  expect_alive(c);
}

}  // namespace
}  // namespace tcpreap::test
