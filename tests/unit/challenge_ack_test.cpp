// What of the challenge-ACK learner needs no kernel: the flow a socket's
// segments carry on the wire. (Learning itself: tests/integration,
// rst_injector_test and liveness_probe_test.)

#include "wire/challenge_ack.h"

#include <gtest/gtest.h>

namespace tcpreap {
namespace {

TEST(WireFlow, DualStackSocketWithIPv4PeerSpeaksIPv4) {
  TcpSocket s;
  s.family = Family::kIPv6;
  s.local = *IpAddress::parse("::ffff:10.0.0.1");
  s.remote = *IpAddress::parse("::ffff:10.0.0.2");
  s.local_port = 2181;
  s.remote_port = 40000;
  auto f = wire_flow(s);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, (Flow{*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.2"), 2181, 40000}));
  s.remote = *IpAddress::parse("fd00::2");
  EXPECT_FALSE(wire_flow(s)) << "ends of two families are no connection on the wire";
}

// Flows are compared and hashed whole: bytes an IPv4 address does not use
// must not tell two equal flows apart.
TEST(WireFlow, UnusedBytesOfIpv4AddressesAreZeroed) {
  TcpSocket s;
  s.family = Family::kIPv4;
  s.local = *IpAddress::parse("10.0.0.1");
  s.local.bytes[15] = 0xaa;  // beyond the 4 bytes an IPv4 address uses
  s.remote = *IpAddress::parse("10.0.0.2");
  s.remote.bytes[4] = 0x55;
  s.local_port = 1;
  s.remote_port = 2;
  auto f = wire_flow(s);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, (Flow{*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.2"), 1, 2}));
}

}  // namespace
}  // namespace tcpreap
