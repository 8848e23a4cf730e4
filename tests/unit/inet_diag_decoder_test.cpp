#include "diag/inet_diag_decoder.h"

#include <gtest/gtest.h>

#include "net/tcp_state.h"
#include "unit/netlink_builder.h"

namespace tcpreap {
namespace {

using testing::diag_msg;
using testing::sample_tcp_info;
using testing::socket_payload;

Result<TcpSocket> decode(const std::vector<uint8_t>& b) { return decode_inet_diag({b.data(), b.size()}); }

TEST(InetDiagDecoder, DecodesIPv4SocketWithTcpInfo) {
  const tcp_info ti = sample_tcp_info();
  auto r = decode(socket_payload(diag_msg(AF_INET, 1, "10.0.0.1", 2181, "10.9.8.7", 40000), &ti));
  ASSERT_TRUE(r.ok()) << r.error().message();
  const TcpSocket& s = *r;
  EXPECT_EQ(s.family, Family::kIPv4);
  EXPECT_EQ(s.state, static_cast<uint8_t>(TcpState::kEstablished));
  EXPECT_EQ(s.local.to_string(), "10.0.0.1");
  EXPECT_EQ(s.remote.to_string(), "10.9.8.7");
  EXPECT_EQ(s.local_port, 2181);
  EXPECT_EQ(s.remote_port, 40000);
  EXPECT_EQ(s.interface, 3u);
  EXPECT_EQ(s.uid, 1000u);
  EXPECT_EQ(s.inode, 4242u);
  EXPECT_EQ(s.cookie, 0x1122334455667788ull);
  EXPECT_EQ(s.recv_queue, 7u);
  EXPECT_EQ(s.send_queue, 9u);
  EXPECT_EQ(s.timer, 1);
  EXPECT_EQ(s.timer_expires_ms, 300u);
  ASSERT_TRUE(s.info);
  EXPECT_EQ(s.info->retransmits, 3);
  EXPECT_EQ(s.info->probes, 2);
  EXPECT_EQ(s.info->backoff, 4);
  EXPECT_EQ(s.info->rto_us, 3'264'000u);
  EXPECT_EQ(s.info->unacked, 5u);
  EXPECT_EQ(s.info->last_data_sent_ms, 120u);
  EXPECT_EQ(s.info->last_data_recv_ms, 45'000u);
  EXPECT_EQ(s.info->last_ack_recv_ms, 44'000u);
  EXPECT_EQ(s.info->last_recv_ms(), 44'000u);
  EXPECT_EQ(s.info->rtt_us, 250u);
  EXPECT_EQ(s.info->total_retrans, 17u);
  EXPECT_EQ(s.info->reported_len, sizeof(tcp_info));
}

TEST(InetDiagDecoder, KeepsTheSockidVerbatimForSockDestroy) {
  const inet_diag_msg m = diag_msg(AF_INET6, 1, "fd00::1", 2181, "fd00::2", 50000);
  auto r = decode(socket_payload(m));
  ASSERT_TRUE(r.ok());
  const inet_diag_sockid id = r->sockid();
  EXPECT_EQ(std::memcmp(&id, &m.id, sizeof id), 0);
}

TEST(InetDiagDecoder, DecodesIPv6WithoutTcpInfo) {
  auto r = decode(socket_payload(diag_msg(AF_INET6, 6, "fd00::1", 443, "::ffff:10.1.2.3", 1234)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->family, Family::kIPv6);
  EXPECT_EQ(r->local.to_string(), "fd00::1");
  EXPECT_EQ(r->remote.to_string(), "::ffff:10.1.2.3");
  EXPECT_TRUE(r->remote.is_v4_mapped());
  EXPECT_FALSE(r->info);
}

TEST(InetDiagDecoder, ShortTcpInfoYieldsOnlyTheFieldsThatFit) {
  const tcp_info ti = sample_tcp_info();
  // 24 bytes hold tcpi_rto (offset 8) but not tcpi_unacked (offset 24).
  auto r = decode(socket_payload(diag_msg(AF_INET, 1, "10.0.0.1", 1, "10.0.0.2", 2), &ti, 24));
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE(r->info);
  EXPECT_EQ(r->info->reported_len, 24);
  EXPECT_EQ(r->info->retransmits, 3);
  EXPECT_EQ(r->info->backoff, 4);
  EXPECT_EQ(r->info->rto_us, 3'264'000u);
  EXPECT_FALSE(r->info->unacked);
  EXPECT_FALSE(r->info->last_data_recv_ms);
  EXPECT_FALSE(r->info->total_retrans);
  EXPECT_FALSE(r->info->last_recv_ms());
}

TEST(InetDiagDecoder, EmptyTcpInfoHasNoFields) {
  const tcp_info ti = sample_tcp_info();
  auto r = decode(socket_payload(diag_msg(AF_INET, 1, "10.0.0.1", 1, "10.0.0.2", 2), &ti, 0));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->info);
  EXPECT_EQ(r->info->reported_len, 0);
  EXPECT_EQ(*r->info, TcpInfo{});
}

TEST(InetDiagDecoder, LongerTcpInfoFromANewerKernelIsReadAsFarAsKnown) {
  const tcp_info ti = sample_tcp_info();
  auto r = decode(socket_payload(diag_msg(AF_INET, 1, "10.0.0.1", 1, "10.0.0.2", 2), &ti, sizeof(tcp_info) + 64));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->info->reported_len, sizeof(tcp_info) + 64);
  EXPECT_EQ(r->info->total_retrans, 17u);
  EXPECT_EQ(r->info->last_data_recv_ms, 45'000u);
}

TEST(InetDiagDecoder, SkipsUnknownAttributes) {
  auto b = socket_payload(diag_msg(AF_INET, 1, "10.0.0.1", 1, "10.0.0.2", 2));
  const uint8_t junk[5] = {1, 2, 3, 4, 5};
  testing::put_attr(b, 200, junk, sizeof junk);
  const tcp_info ti = sample_tcp_info();
  testing::put_attr(b, INET_DIAG_INFO, &ti, sizeof ti);
  auto r = decode(b);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE(r->info);
  EXPECT_EQ(r->info->unacked, 5u);
}

TEST(InetDiagDecoder, AcceptsALastAttributeWithoutItsPadding) {
  auto b = socket_payload(diag_msg(AF_INET, 1, "10.0.0.1", 1, "10.0.0.2", 2));
  const uint8_t three[3] = {1, 2, 3};
  testing::put_attr(b, 200, three, sizeof three);
  b.pop_back();  // the padding byte
  EXPECT_TRUE(decode(b).ok());
}

TEST(InetDiagDecoder, RejectsAMessageShorterThanInetDiagMsg) {
  auto b = socket_payload(diag_msg(AF_INET, 1, "10.0.0.1", 1, "10.0.0.2", 2));
  b.resize(sizeof(inet_diag_msg) - 1);
  auto r = decode(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum(), 0);
  EXPECT_EQ(r.error().message(), "inet_diag message of 71 bytes is shorter than struct inet_diag_msg (72)");
}

TEST(InetDiagDecoder, RejectsAnAttributeLengthPastTheEnd) {
  const tcp_info ti = sample_tcp_info();
  auto b = socket_payload(diag_msg(AF_INET, 1, "10.0.0.1", 1, "10.0.0.2", 2), &ti);
  b.resize(b.size() - 8);  // the attribute now claims 8 bytes more than there are
  auto r = decode(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "attribute at offset 72 claims " + std::to_string(NLA_HDRLEN + sizeof ti) +
                                     " bytes, " + std::to_string(NLA_HDRLEN + sizeof ti - 8) + " left");
}

TEST(InetDiagDecoder, RejectsAnAttributeLengthBelowItsHeader) {
  auto b = socket_payload(diag_msg(AF_INET, 1, "10.0.0.1", 1, "10.0.0.2", 2));
  nlattr a{2, INET_DIAG_INFO};
  testing::append(b, &a, sizeof a);
  auto r = decode(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "attribute at offset 72 claims 2 bytes, 4 left");
}

TEST(InetDiagDecoder, RejectsATruncatedAttributeHeader) {
  auto b = socket_payload(diag_msg(AF_INET, 1, "10.0.0.1", 1, "10.0.0.2", 2));
  b.push_back(8);
  b.push_back(0);
  auto r = decode(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "attribute at offset 72: only 2 bytes left, less than an attribute header");
}

TEST(InetDiagDecoder, RejectsAnUnknownFamily) {
  auto m = diag_msg(AF_INET, 1, "10.0.0.1", 1, "10.0.0.2", 2);
  m.idiag_family = AF_UNIX;
  auto r = decode(socket_payload(m));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "inet_diag message has address family 1, neither AF_INET nor AF_INET6");
}

}  // namespace
}  // namespace tcpreap
