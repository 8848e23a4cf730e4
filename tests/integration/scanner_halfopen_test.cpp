// A real half-open connection, seen through SocketScanner: the client host
// vanishes silently (nftables drops everything it would send or receive),
// the server end stays ESTABLISHED, and tcp_info tells what it can:
// idle, only the time since the last receive grows; sending, unacked
// segments, consecutive retransmissions and the backoff grow.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>

#include "diag/socket_scanner.h"
#include "support/netns.h"
#include "support/privileges.h"
#include "support/scan.h"
#include "support/tcp.h"

namespace tcpreap::test {
namespace {

using namespace std::chrono_literals;

class ScannerHalfOpenTest : public ::testing::TestWithParam<Family> {
 protected:
  void SetUp() override {
    TCPREAP_REQUIRE_ROOT();
    hosts_.emplace();
    const bool v6 = GetParam() == Family::kIPv6;
    const std::string server_addr = v6 ? TestHosts::kServer6 : TestHosts::kServer4;
    {
      ScopedNetns in(hosts_->server());
      listener_ = tcp_listen(server_addr);
      scanner_.emplace(open_scanner());
    }
    const uint16_t port = local_endpoint(listener_.get()).port;
    {
      ScopedNetns in(hosts_->client());
      client_ = tcp_connect(server_addr, port);
    }
    server_ = tcp_accept(listener_.get());
    // A little conversation both ways. The client speaks last: its segment
    // carries the ACK of the server's data (a delayed ACK could otherwise
    // still be pending when the client vanishes).
    write_all(client_.get(), "hello");
    ASSERT_EQ(read_exact(server_.get(), 5), "hello");
    write_all(server_.get(), "hi");
    ASSERT_EQ(read_exact(client_.get(), 2), "hi");
    write_all(client_.get(), "bye");
    ASSERT_EQ(read_exact(server_.get(), 3), "bye");
    server_local_ = local_endpoint(server_.get());
    server_remote_ = remote_endpoint(server_.get());

    hosts_->make_client_vanish();
    client_.reset();  // its RST (abortive close) is dropped like everything else

    SocketFilter f;
    f.states = StateSet::of(TcpState::kEstablished);
    f.ipv4 = !v6;
    f.ipv6 = v6;
    established_.emplace(compile_query(f));
  }

  // The one ESTABLISHED socket of the server namespace: the server end.
  TcpSocket scan_server_end() {
    auto sockets = scan_sockets(*scanner_, *established_);
    if (sockets.size() != 1) {
      ADD_FAILURE() << "expected exactly the server end, found " << sockets.size() << " ESTABLISHED sockets";
      return sockets.empty() ? TcpSocket{} : sockets.front();
    }
    return sockets.front();
  }

  // Declaration order is teardown order reversed: sockets go before the hosts.
  std::optional<TestHosts> hosts_;
  std::optional<SocketScanner> scanner_;
  std::optional<ScanQuery> established_;
  UniqueFd listener_, client_, server_;
  Endpoint server_local_, server_remote_;
};

TEST_P(ScannerHalfOpenTest, IdleServerEndStaysEstablishedWhileLastReceiveGrows) {
  const TcpSocket first = scan_server_end();
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(first.family, GetParam());
  EXPECT_EQ(first.state, static_cast<uint8_t>(TcpState::kEstablished));
  EXPECT_EQ(first.local, server_local_.address) << first.local.to_string();
  EXPECT_EQ(first.local_port, server_local_.port);
  EXPECT_EQ(first.remote, server_remote_.address) << first.remote.to_string();
  EXPECT_EQ(first.remote_port, server_remote_.port);
  EXPECT_EQ(first.local.to_string(), GetParam() == Family::kIPv6 ? TestHosts::kServer6 : TestHosts::kServer4);
  EXPECT_EQ(first.remote.to_string(), GetParam() == Family::kIPv6 ? TestHosts::kClient6 : TestHosts::kClient4);
  EXPECT_EQ(first.uid, ::geteuid());
  EXPECT_EQ(first.inode, socket_inode(server_.get()));
  EXPECT_NE(first.cookie, 0u);
  ASSERT_TRUE(first.info.has_value());
  ASSERT_TRUE(first.info->last_data_recv_ms.has_value());
  ASSERT_TRUE(first.info->unacked.has_value());
  EXPECT_EQ(*first.info->unacked, 0u) << "nothing unacknowledged was sent to the vanished client";
  EXPECT_EQ(first.timer, 0) << "an idle half-open connection runs no timer at all";

  std::this_thread::sleep_for(1500ms);

  const TcpSocket second = scan_server_end();
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(second.state, static_cast<uint8_t>(TcpState::kEstablished));
  EXPECT_EQ(second.cookie, first.cookie) << "the cookie names the socket while it lives";
  EXPECT_EQ(second.inode, first.inode);
  EXPECT_EQ(second.raw_id, first.raw_id);
  ASSERT_TRUE(second.info && second.info->last_data_recv_ms);
  EXPECT_GE(*second.info->last_data_recv_ms, *first.info->last_data_recv_ms + 1000)
      << "first scan " << *first.info->last_data_recv_ms << " ms, 1.5 s later " << *second.info->last_data_recv_ms
      << " ms";
}

TEST_P(ScannerHalfOpenTest, SendingToTheVanishedPeerRetransmitsWithBackoff) {
  const TcpSocket before = scan_server_end();
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(before.info && before.info->backoff && before.info->retransmits && before.info->unacked);
  EXPECT_EQ(*before.info->retransmits, 0);
  EXPECT_EQ(*before.info->backoff, 0);

  write_all(server_.get(), std::string(1000, 'x'));

  // The first RTO is ~200 ms here and doubles each time: two retransmissions
  // take well under a second. 15 s only bounds a broken kernel or test.
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  std::optional<TcpSocket> seen;
  uint8_t first_backoff = 0;
  bool first = true;
  while (std::chrono::steady_clock::now() < deadline) {
    TcpSocket s = scan_server_end();
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(s.info && s.info->unacked && s.info->retransmits && s.info->backoff);
    EXPECT_EQ(s.cookie, before.cookie);
    if (first) first_backoff = *s.info->backoff, first = false;
    seen = s;
    if (*s.info->unacked > 0 && *s.info->retransmits >= 2 && *s.info->backoff > first_backoff) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(seen.has_value());
  const TcpInfo& ti = *seen->info;
  EXPECT_EQ(seen->state, static_cast<uint8_t>(TcpState::kEstablished));
  EXPECT_GT(*ti.unacked, 0u);
  EXPECT_GE(*ti.retransmits, 2) << "unacked " << *ti.unacked << ", backoff " << int{*ti.backoff};
  EXPECT_GT(*ti.backoff, first_backoff) << "retransmits " << int{*ti.retransmits};
  EXPECT_GE(*ti.backoff, 2);
  ASSERT_TRUE(ti.rto_us.has_value());
  ASSERT_TRUE(before.info->rto_us.has_value());
  EXPECT_GT(*ti.rto_us, *before.info->rto_us) << "the RTO backs off too";
  EXPECT_EQ(seen->timer, 1) << "the retransmit timer runs";
  EXPECT_GT(seen->send_queue, 0u);
  // The peer acknowledged nothing since it vanished.
  ASSERT_TRUE(ti.last_ack_recv_ms && before.info->last_ack_recv_ms);
  EXPECT_GE(*ti.last_ack_recv_ms, *before.info->last_ack_recv_ms);
}

INSTANTIATE_TEST_SUITE_P(Families, ScannerHalfOpenTest, ::testing::Values(Family::kIPv4, Family::kIPv6),
                         [](const ::testing::TestParamInfo<Family>& p) {
                           return p.param == Family::kIPv4 ? std::string("IPv4") : std::string("IPv6");
                         });

}  // namespace
}  // namespace tcpreap::test
