#include <gtest/gtest.h>

#include "net/ip_address.h"
#include "net/port_range.h"
#include "net/tcp_state.h"

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

TEST(PortRange, ParsesPortsRangesAndLists) {
  EXPECT_EQ(*PortRange::parse("2181"), (PortRange{2181, 2181}));
  EXPECT_EQ(*PortRange::parse("30000-32767"), (PortRange{30000, 32767}));
  EXPECT_EQ(*PortRange::parse("0-65535"), (PortRange{0, 65535}));
  EXPECT_TRUE(PortRange::parse("0-65535")->is_any());
  auto list = PortRange::parse_list("80,443,8000-8100");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[2], (PortRange{8000, 8100}));
  for (const char* bad : {"", "65536", "-1", "80-", "-80", "a", "80,", "1-2-3", " 80"})
    EXPECT_FALSE(PortRange::parse_list(bad).ok()) << bad;
  EXPECT_EQ(PortRange::parse("9-8").error().message(), "'9-8': the range's first port is above its last");
  EXPECT_EQ(PortRange::parse("70000").error().message(),
            "'70000' is not a port or port range (0-65535, e.g. 2181 or 30000-32767)");
}

TEST(StateSet, ParsesSsNamesAndGroups) {
  EXPECT_EQ(StateSet::parse_list("established")->mask(), 1u << 1);
  EXPECT_EQ(StateSet::parse_list("close-wait,fin-wait-1")->mask(), (1u << 8) | (1u << 4));
  EXPECT_EQ(StateSet::parse_list("listen")->mask(), 1u << 10);
  EXPECT_EQ(*StateSet::parse_list("all"), StateSet::all());
  EXPECT_EQ(*StateSet::parse_list("connected"), StateSet::connected());
  EXPECT_FALSE(StateSet::parse_list("synchronized")->contains(2));
  EXPECT_TRUE(StateSet::parse_list("synchronized")->contains(1));
  auto bad = StateSet::parse_list("established,nosuch");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message().rfind("unknown TCP state 'nosuch' (known: established, ", 0), 0u);
  EXPECT_FALSE(StateSet::parse_list("").ok());
}

TEST(StateSet, NeverAsksForEveryBit) {
  // ~0 would also walk the bind hash (TCP_BOUND_INACTIVE, 13) on 6.8+.
  EXPECT_EQ(StateSet::all().kernel_mask(), 0x1ffeu);
  EXPECT_EQ(StateSet::of(TcpState::kSynRecv).kernel_mask(), (1u << 3) | (1u << 12));
  EXPECT_EQ(StateSet::of(TcpState::kEstablished).kernel_mask(), 1u << 1);
}

TEST(StateSet, LabelsAsSs) {
  EXPECT_STREQ(state_label(1), "ESTAB");
  EXPECT_STREQ(state_label(8), "CLOSE-WAIT");
  EXPECT_STREQ(state_label(12), "SYN-RECV");
  EXPECT_STREQ(state_label(200), "UNKNOWN");
}

}  // namespace
}  // namespace tcpreap

namespace tcpreap {
namespace {

// Request sockets are dumped for TCP_NEW_SYN_RECV and reported as SYN-RECV.
TEST(StateSet, ReportedSynRecvMatchesEitherSynRecvBit) {
  EXPECT_TRUE(StateSet::of(TcpState::kNewSynRecv).contains_reported(3));
  EXPECT_TRUE(StateSet::of(TcpState::kSynRecv).contains_reported(3));
  EXPECT_FALSE(StateSet::of(TcpState::kEstablished).contains_reported(3));
  EXPECT_TRUE(StateSet::of(TcpState::kEstablished).contains_reported(1));
}

}  // namespace
}  // namespace tcpreap
