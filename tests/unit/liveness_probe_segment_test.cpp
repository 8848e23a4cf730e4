// The probe segment and the probe report line: pure functions, no kernel.

#include <gtest/gtest.h>

#include "report/probe_report.h"
#include "verify/liveness_prober.h"
#include "wire/challenge_ack.h"

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

TEST(WireFlow, DualStackSocketWithIPv4PeerSpeaksIPv4) {
  TcpSocket s;
  s.family = Family::kIPv6;
  s.local = *IpAddress::parse("::ffff:10.0.0.1");
  s.remote = *IpAddress::parse("::ffff:10.0.0.2");
  s.local_port = 2181;
  s.remote_port = 40000;
  auto f = wire_flow(s);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, local_to_peer());
  s.remote = *IpAddress::parse("fd00::2");
  EXPECT_FALSE(wire_flow(s)) << "ends of two families are no connection on the wire";
}

TEST(ProbeLine, SaysNumberPolicyFiguresAndResult) {
  TcpSocket s;
  s.family = Family::kIPv4;
  s.local = v4("10.0.0.1");
  s.remote = v4("10.0.0.2");
  s.local_port = 2181;
  s.remote_port = 40000;
  Config c;
  Policy p;
  p.name = "zk";
  c.policies = {p};
  Decision d;
  d.verdict = Verdict::kVerifying;
  d.policy = 0;
  d.reason = DeadReason::kSilent;
  d.threshold = std::chrono::seconds(30);
  d.figures.last_recv_ms = 31'000;
  d.probe = ProbeState{.wanted = 3, .sent = 1, .failures = 0, .due = true, .since_last_ms = 5000};
  std::string out;
  ProbeOutcome sent{ProbeResult::kSent, 0, "probe sent", {}};
  append_probe_line({&s, &d, &c, &sent}, out);
  ProbeOutcome answered{ProbeResult::kAnswered, 0, "ack", {}};
  append_probe_line({&s, &d, &c, &answered}, out);
  ProbeOutcome failed{ProbeResult::kNoAnswer, 0, "no answer to 4 SYN(s)", {}};
  append_probe_line({&s, &d, &c, &failed}, out);
  EXPECT_EQ(out,
            "probe 2/3     10.0.0.1:2181 <- 10.0.0.2:40000                   zk: silent 31.0s >= 30s: sent\n"
            "probe 2/3     10.0.0.1:2181 <- 10.0.0.2:40000                   zk: silent 31.0s >= 30s: answered: alive\n"
            "probe FAILED  10.0.0.1:2181 <- 10.0.0.2:40000                   zk: silent 31.0s >= 30s: no-answer: no "
            "answer to 4 SYN(s)\n");
}

}  // namespace
}  // namespace tcpreap
