// The probe segment: keepalive's segment from the local end, a pure function.

#include <gtest/gtest.h>

#include "verify/liveness_prober.h"

namespace tcpreap {
namespace {

IpAddress v4(const char* text) { return *IpAddress::parse(text); }

Flow local_to_peer() { return Flow{v4("10.0.0.1"), v4("10.0.0.2"), 2181, 40000}; }

// A challenge ACK as the local socket sent it: seq = snd_nxt, ack = rcv_nxt.
TcpSegment challenge_ack(uint32_t snd_nxt, uint32_t rcv_nxt) {
  TcpSegment s;
  s.flow = local_to_peer();
  s.flags = tcp_flag::kAck;
  s.seq = snd_nxt;
  s.ack = rcv_nxt;
  s.window = 502;
  return s;
}

TEST(LivenessProbe, IsKeepalivesSegmentFromTheLocalEnd) {
  const TcpSegment p = liveness_probe(local_to_peer(), challenge_ack(1000, 77));
  EXPECT_EQ(p.flow, local_to_peer()) << "from the local socket to its peer";
  EXPECT_EQ(p.flags, tcp_flag::kAck) << "a bare ACK: no SYN, no RST, no FIN";
  EXPECT_EQ(p.seq, 999u) << "snd_nxt - 1: just below the peer's window";
  EXPECT_EQ(p.ack, 77u) << "rcv_nxt: acknowledges exactly what was received";
  EXPECT_EQ(p.window, 502) << "the window the socket itself advertises";
  EXPECT_EQ(p.payload_len, 0u);
}

TEST(LivenessProbe, SequenceNumberWrapsBelowZero) {
  EXPECT_EQ(liveness_probe(local_to_peer(), challenge_ack(0, 5)).seq, 0xffffffffu);
}

TEST(LivenessProbe, BuildsAndParsesBackToTheSameSegment) {
  const TcpSegment p = liveness_probe(local_to_peer(), challenge_ack(123456, 654321));
  auto packet = build_segment(p);
  ASSERT_TRUE(packet) << packet.error().message();
  auto back = parse_segment(packet->data());
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->flow, p.flow);
  EXPECT_EQ(back->seq, p.seq);
  EXPECT_EQ(back->ack, p.ack);
  EXPECT_EQ(back->flags, p.flags);
}

}  // namespace
}  // namespace tcpreap
