// SocketDestroyer on the real kernel with more sockets than one batch
// (kBatch = 256 requests per sendmsg): every socket's outcome is exact.
// 600 loopback connections in a fresh namespace; the server ends are the
// targets, some of them closed beforehand - all of the first batch, so
// that batch is answered by 256 error messages at once, the most a batch
// can queue on the receive buffer. Proof from the victims' side: destroyed
// server ends fail with ECONNABORTED.

#include "reap/socket_destroyer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "support/netns.h"
#include "support/privileges.h"
#include "support/scan.h"
#include "support/tcp.h"

namespace tcpreap::test {
namespace {

using Clock = std::chrono::steady_clock;

TEST(SocketDestroyerKernel, SixHundredSocketsInThreeBatchesAreReportedExactly) {
  TCPREAP_REQUIRE_ROOT();
  constexpr size_t kConnections = 600;
  NamedNetns ns(unique_netns_name('d'));
  UniqueFd listener;
  std::vector<UniqueFd> clients, servers;
  std::optional<SocketScanner> scanner;
  std::optional<SocketDestroyer> destroyer;
  {
    ScopedNetns in(ns.name());
    listener = tcp_listen("127.0.0.1");
    const uint16_t port = local_endpoint(listener.get()).port;
    for (size_t i = 0; i < kConnections; ++i) {
      clients.push_back(tcp_connect("127.0.0.1", port));
      servers.push_back(tcp_accept(listener.get()));
    }
    scanner.emplace(open_scanner());
    auto d = SocketDestroyer::open();
    ASSERT_TRUE(d.ok()) << d.error().message();
    destroyer.emplace(std::move(*d));
  }
  // One scan, matched by inode (socket_of() would scan once per socket).
  std::map<uint64_t, TcpSocket> by_inode;
  for (const TcpSocket& s : all_sockets(*scanner)) by_inode[s.inode] = s;
  std::vector<TcpSocket> targets;
  std::set<uint64_t> cookies;
  for (const UniqueFd& s : servers) {
    auto it = by_inode.find(socket_inode(s.get()));
    ASSERT_NE(it, by_inode.end());
    targets.push_back(it->second);
    cookies.insert(it->second.cookie);
  }
  ASSERT_EQ(cookies.size(), kConnections);

  // Gone before the destroyer gets to them: the whole first batch, and
  // every 7th after it.
  auto gone = [](size_t i) { return i < SocketDestroyer::kBatch || i % 7 == 0; };
  size_t expected_gone = 0;
  for (size_t i = 0; i < kConnections; ++i)
    if (gone(i)) {
      servers[i].reset();  // abortive: the socket is gone at once
      ++expected_gone;
    }

  const auto start = Clock::now();
  const std::vector<ReapOutcome> out = destroyer->destroy(targets);
  const auto took = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  ASSERT_EQ(out.size(), kConnections);
  size_t done = 0, already = 0;
  for (size_t i = 0; i < kConnections; ++i) {
    EXPECT_EQ(out[i].via, ReapVia::kDestroy);
    EXPECT_EQ(out[i].result, gone(i) ? ReapResult::kAlreadyGone : ReapResult::kDone)
        << "socket " << i << ": " << reap_result_name(out[i].result) << ": " << out[i].detail;
    EXPECT_EQ(out[i].detail, "") << "socket " << i << ": every answer should have been read";
    done += out[i].result == ReapResult::kDone;
    already += out[i].result == ReapResult::kAlreadyGone;
  }
  EXPECT_EQ(done, kConnections - expected_gone);
  EXPECT_EQ(already, expected_gone);
  std::printf("%zu sockets: %zu done, %zu already gone, in %.1f ms\n", kConnections, done, already, took);

  for (size_t i = 0; i < kConnections; ++i)
    if (!gone(i)) {
      EXPECT_EQ(next_recv(servers[i].get(), 1000), ECONNABORTED) << "socket " << i;
    }
  std::set<uint64_t> left;
  for (const TcpSocket& s : all_sockets(*scanner)) left.insert(s.cookie);
  for (const TcpSocket& t : targets) EXPECT_FALSE(left.contains(t.cookie)) << t.cookie;

  // Again: every one of them is gone now, and each is said so.
  const std::vector<ReapOutcome> again = destroyer->destroy(targets);
  ASSERT_EQ(again.size(), kConnections);
  for (size_t i = 0; i < kConnections; ++i)
    EXPECT_EQ(again[i].result, ReapResult::kAlreadyGone) << "socket " << i << ": " << again[i].detail;
}

}  // namespace
}  // namespace tcpreap::test
