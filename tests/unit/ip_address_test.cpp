#include "net/ip_address.h"

#include <gtest/gtest.h>

namespace tcpreap {
namespace {

TEST(IpAddress, ParsesBothFamiliesAndBrackets) {
  auto v4 = IpAddress::parse("10.1.2.3");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->family, Family::kIPv4);
  EXPECT_EQ(v4->to_string(), "10.1.2.3");
  auto v6 = IpAddress::parse("[fd00::1]");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family, Family::kIPv6);
  EXPECT_EQ(v6->to_string(), "fd00::1");
  EXPECT_FALSE(IpAddress::parse("[10.1.2.3]").ok());
  EXPECT_FALSE(IpAddress::parse("").ok());
  EXPECT_FALSE(IpAddress::parse("10.1.2").ok());
  EXPECT_FALSE(IpAddress::parse("fd00:::1").ok());
  EXPECT_EQ(IpAddress::parse("nonsense").error().message(), "'nonsense' is not an IP address");
}

TEST(IpAddress, KnowsV4MappedAddresses) {
  auto m = *IpAddress::parse("::ffff:192.0.2.1");
  EXPECT_TRUE(m.is_v4_mapped());
  EXPECT_EQ(m.unmapped(), *IpAddress::parse("192.0.2.1"));
  EXPECT_FALSE(IpAddress::parse("::1")->is_v4_mapped());
  EXPECT_FALSE(IpAddress::parse("192.0.2.1")->is_v4_mapped());
}

TEST(Cidr, ParsesPrefixesAndHosts) {
  EXPECT_EQ(Cidr::parse("10.0.0.0/8")->to_string(), "10.0.0.0/8");
  EXPECT_EQ(Cidr::parse("fd00::/8")->to_string(), "fd00::/8");
  EXPECT_EQ(Cidr::parse("[fd00::]/8")->to_string(), "fd00::/8");
  EXPECT_EQ(Cidr::parse("10.1.2.3")->prefix_len, 32);
  EXPECT_EQ(Cidr::parse("::1")->prefix_len, 128);
  EXPECT_EQ(Cidr::parse("0.0.0.0/0")->prefix_len, 0);
  EXPECT_EQ(Cidr::parse("10.0.0.0/33").error().message(), "'10.0.0.0/33': prefix length must be 0..32");
  EXPECT_EQ(Cidr::parse("10.0.0.0/").error().message(), "'10.0.0.0/': prefix length must be 0..32");
  EXPECT_EQ(Cidr::parse("10.0.0.0/8x").error().message(), "'10.0.0.0/8x': prefix length must be 0..32");
  EXPECT_EQ(Cidr::parse("10.0.0.1/8").error().message(), "'10.0.0.1/8' has host bits set; did you mean 10.0.0.0/8?");
  EXPECT_EQ(Cidr::parse("fd00::1/64").error().message(), "'fd00::1/64' has host bits set; did you mean fd00::/64?");
  EXPECT_FALSE(Cidr::parse("host/8").ok());
}

TEST(Cidr, ContainsLikeTheKernelFilter) {
  const Cidr ten = *Cidr::parse("10.0.0.0/8");
  EXPECT_TRUE(ten.contains(*IpAddress::parse("10.255.0.1")));
  EXPECT_FALSE(ten.contains(*IpAddress::parse("11.0.0.1")));
  EXPECT_TRUE(ten.contains(*IpAddress::parse("::ffff:10.1.1.1")));  // a dual-stack socket's IPv4 peer
  EXPECT_FALSE(ten.contains(*IpAddress::parse("fd00::1")));
  const Cidr odd = *Cidr::parse("192.168.0.0/23");
  EXPECT_TRUE(odd.contains(*IpAddress::parse("192.168.1.255")));
  EXPECT_FALSE(odd.contains(*IpAddress::parse("192.168.2.0")));
  const Cidr any6 = *Cidr::parse("::/0");
  EXPECT_TRUE(any6.contains(*IpAddress::parse("2001:db8::1")));
  EXPECT_FALSE(any6.contains(*IpAddress::parse("10.0.0.1")));
  const Cidr any4 = *Cidr::parse("0.0.0.0/0");
  EXPECT_TRUE(any4.contains(*IpAddress::parse("::ffff:1.2.3.4")));
  EXPECT_FALSE(any4.contains(*IpAddress::parse("::1")));
}

}  // namespace
}  // namespace tcpreap
