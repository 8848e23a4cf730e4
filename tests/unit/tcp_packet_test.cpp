// Packets RST injection builds and parses, byte for byte: checksums,
// building, and parsing with every length checked.

#include "wire/tcp_packet.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <random>
#include <string>
#include <vector>

namespace tcpreap {
namespace {

using Bytes = std::vector<uint8_t>;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

Bytes hex(const std::string& text) {
  Bytes out;
  std::string digits;
  for (char c : text)
    if (c != ' ') digits += c;
  for (size_t i = 0; i + 1 < digits.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

Bytes bytes_of(const Packet& p) { return Bytes(p.data().begin(), p.data().end()); }

// An independent RFC 1071 checksum: a 64-bit sum of big-endian words,
// folded once at the end (the library folds as it goes).
uint16_t reference_checksum(const Bytes& data) {
  uint64_t sum = 0;
  for (size_t i = 0; i < data.size(); i += 2)
    sum += static_cast<uint64_t>(data[i]) << 8 | (i + 1 < data.size() ? data[i + 1] : 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// The pseudo-header and TCP segment of a built packet, as RFC 9293 / RFC
// 8200 lay them out, summed with the reference: 0 when the checksum is right.
uint16_t verify_tcp(const Bytes& packet) {
  const bool v6 = packet[0] >> 4 == 6;
  const size_t ip_len = v6 ? 40 : (packet[0] & 0xf) * 4u;
  const Bytes tcp(packet.begin() + static_cast<long>(ip_len), packet.end());
  Bytes pseudo;
  if (v6) {
    pseudo.insert(pseudo.end(), packet.begin() + 8, packet.begin() + 40);
    pseudo.insert(pseudo.end(), {0, 0, static_cast<uint8_t>(tcp.size() >> 8), static_cast<uint8_t>(tcp.size()), 0, 0, 0, 6});
  } else {
    pseudo.insert(pseudo.end(), packet.begin() + 12, packet.begin() + 20);
    pseudo.insert(pseudo.end(), {0, 6, static_cast<uint8_t>(tcp.size() >> 8), static_cast<uint8_t>(tcp.size())});
  }
  pseudo.insert(pseudo.end(), tcp.begin(), tcp.end());
  return reference_checksum(pseudo);
}

TcpSegment segment(const char* src, uint16_t sport, const char* dst, uint16_t dport, uint32_t seq, uint32_t ack,
                   uint8_t flags, uint16_t window) {
  TcpSegment s;
  s.flow = {ip(src), ip(dst), sport, dport};
  s.seq = seq;
  s.ack = ack;
  s.flags = flags;
  s.window = window;
  return s;
}

// ---- Checksums -------------------------------------------------------------------

TEST(InternetChecksum, KnownVectors) {
  // RFC 1071 section 3's example: the sum is ddf2, the checksum its complement.
  EXPECT_EQ(internet_checksum(hex("0001 f203 f4f5 f6f7")), 0x220d);
  // A well-known IPv4 header (checksum field zeroed) and its checksum b861;
  // summed with the checksum in place it verifies to 0.
  EXPECT_EQ(internet_checksum(hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7")), 0xb861);
  EXPECT_EQ(internet_checksum(hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7")), 0x0000);
  // An odd length pads with a zero byte.
  EXPECT_EQ(internet_checksum(hex("01")), static_cast<uint16_t>(~0x0100));
  EXPECT_EQ(internet_checksum({}), 0xffff);
}

TEST(InternetChecksum, AgreesWithTheReferenceOnRandomData) {
  std::mt19937 rng(1071);
  for (int round = 0; round < 500; ++round) {
    Bytes data(rng() % 3000);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    ASSERT_EQ(internet_checksum(data), reference_checksum(data)) << "size " << data.size();
  }
  // Worst case for carries: all ones, long.
  EXPECT_EQ(internet_checksum(Bytes(70000, 0xff)), reference_checksum(Bytes(70000, 0xff)));
}

// ---- Building ----------------------------------------------------------------------

TEST(BuildSegment, Ipv4SynExactBytes) {
  auto p = build_segment(segment("10.0.0.2", 40000, "10.0.0.1", 8080, 0x01020304, 0, tcp_flag::kSyn, 65535));
  ASSERT_TRUE(p.ok()) << p.error().message();
  // Checksums computed independently (Python's struct + RFC 1071).
  EXPECT_EQ(bytes_of(*p), hex("4500 0028 0000 4000 4006 26ce 0a00 0002 0a00 0001"    // IPv4, DF, TTL 64, TCP
                              "9c40 1f90 0102 0304 0000 0000 5002 ffff dc09 0000"));  // SYN, window 65535
  EXPECT_EQ(verify_tcp(bytes_of(*p)), 0);
  EXPECT_EQ(reference_checksum(Bytes(p->bytes.begin(), p->bytes.begin() + 20)), 0) << "IP header checksum";
}

TEST(BuildSegment, Ipv6RstExactBytes) {
  auto p = build_segment(segment("fd00:231::2", 51234, "fd00:231::1", 443, 0xdeadbeef, 0, tcp_flag::kRst, 0));
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(bytes_of(*p), hex("6000 0000 0014 0640"                          // payload 20, TCP, hop limit 64
                              "fd00 0231 0000 0000 0000 0000 0000 0002"      // source
                              "fd00 0231 0000 0000 0000 0000 0000 0001"      // destination
                              "c822 01bb dead beef 0000 0000 5004 0000 49ff 0000"));
  EXPECT_EQ(verify_tcp(bytes_of(*p)), 0);
}

TEST(BuildSegment, ChecksumsVerifyForRandomSegments) {
  std::mt19937 rng(5961);
  for (int i = 0; i < 200; ++i) {
    const bool v6 = i % 2;
    TcpSegment s;
    IpAddress a, b;
    a.family = b.family = v6 ? Family::kIPv6 : Family::kIPv4;
    for (auto& x : a.bytes) x = v6 ? static_cast<uint8_t>(rng()) : 0;
    for (auto& x : b.bytes) x = v6 ? static_cast<uint8_t>(rng()) : 0;
    if (!v6)
      for (int k = 0; k < 4; ++k) a.bytes[k] = static_cast<uint8_t>(rng()), b.bytes[k] = static_cast<uint8_t>(rng());
    s.flow = {a, b, static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng())};
    s.seq = static_cast<uint32_t>(rng());
    s.ack = static_cast<uint32_t>(rng());
    s.flags = static_cast<uint8_t>(rng() & 0x3f);
    s.window = static_cast<uint16_t>(rng());
    auto p = build_segment(s);
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(verify_tcp(bytes_of(*p)), 0) << i;
    auto back = parse_segment(p->data());
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(*back, s);
  }
}

TEST(BuildSegment, RefusesMixedFamiliesAndPayloads) {
  auto mixed = build_segment(segment("10.0.0.2", 1, "fd00::1", 2, 0, 0, tcp_flag::kSyn, 0));
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.error().message().find("different families"), std::string::npos);
  TcpSegment s = segment("10.0.0.2", 1, "10.0.0.1", 2, 0, 0, tcp_flag::kSyn, 0);
  s.payload_len = 1;
  EXPECT_FALSE(build_segment(s).ok());
}

// ---- Parsing ------------------------------------------------------------------------

// A challenge ACK as captured leaving: IPv4 with a 4-byte option (IHL 6),
// TCP with timestamps (data offset 8), 5 bytes of payload declared, cut
// after the TCP header by the capture's snap length.
Bytes captured_ipv4() {
  return hex("4600 003d 1234 4000 4006 0000 0a00 0001 0a00 0002 9404 0000"  // IHL 6, total 61, router alert
             "1f90 9c40 0000 0010 0000 0020 8018 01f5 0000 0000"            // ports, seq 16, ack 32, PSH|ACK
             "0101 080a 0000 0001 0000 0002");                              // NOP NOP timestamps
}

TEST(ParseSegment, Ipv4WithOptionsAndPayload) {
  Bytes f = captured_ipv4();
  auto s = parse_segment(f);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->flow, (Flow{ip("10.0.0.1"), ip("10.0.0.2"), 8080, 40000}));
  EXPECT_EQ(s->seq, 16u);
  EXPECT_EQ(s->ack, 32u);
  EXPECT_EQ(s->flags, tcp_flag::kAck | tcp_flag::kPsh);
  EXPECT_EQ(s->window, 0x01f5);
  EXPECT_EQ(s->payload_len, 61u - 24 - 32);  // total - IP header - TCP header
  // The snap length may cut even the TCP options: the base header suffices.
  auto cut = parse_segment({f.data(), 24 + 20});
  ASSERT_TRUE(cut.ok()) << cut.error().message();
  EXPECT_EQ(cut->ack, 32u);
  EXPECT_EQ(cut->payload_len, 5u);
}

TEST(ParseSegment, Ipv6) {
  auto p = build_segment(segment("fd00::1", 80, "fd00::2", 5555, 7, 9, tcp_flag::kAck, 100));
  ASSERT_TRUE(p.ok());
  Bytes f = bytes_of(*p);
  f[5] = 20 + 10;  // declare 10 bytes of payload the capture did not keep
  auto s = parse_segment(f);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->flow, (Flow{ip("fd00::1"), ip("fd00::2"), 80, 5555}));
  EXPECT_EQ(s->ack, 9u);
  EXPECT_EQ(s->payload_len, 10u);
}

TEST(ParseSegment, ZeroLengthMeansBigTcpAndCountsWhatWasCaptured) {
  Bytes f = bytes_of(*build_segment(segment("10.0.0.1", 1, "10.0.0.2", 2, 0, 0, tcp_flag::kAck, 0)));
  f[2] = f[3] = 0;
  f.insert(f.end(), 8, 0xaa);
  auto s = parse_segment(f);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->payload_len, 8u);
}

struct Broken {
  const char* what;
  size_t offset;
  uint8_t value;
  const char* message;  // a part of the error
};

TEST(ParseSegment, MalformedHeadersAreRefusedWithTheNumbers) {
  const Bytes v4 = bytes_of(*build_segment(segment("10.0.0.1", 1, "10.0.0.2", 2, 0, 0, tcp_flag::kAck, 0)));
  const Bytes v6 = bytes_of(*build_segment(segment("fd00::1", 1, "fd00::2", 2, 0, 0, tcp_flag::kAck, 0)));
  const Broken v4_cases[] = {
      {"IP version 5", 0, 0x55, "IP version 5"},
      {"IHL 4", 0, 0x44, "IPv4 header length 16 < 20"},
      {"IHL 15 > frame", 0, 0x4f, "IPv4 header of 60 bytes in a frame of 40"},
      {"UDP", 9, IPPROTO_UDP, "IPv4 protocol 17 is not TCP"},
      {"later fragment", 7, 0x10, "IPv4 fragment at offset 128"},
      {"total length < IHL", 3, 10, "IPv4 total length 10 < header length 20"},
      {"total length < IHL + TCP", 3, 30, "TCP header of 20 bytes in an IP payload of 10"},
      {"data offset 4", 32, 0x40, "TCP data offset 16 < 20"},
      {"data offset 15 > payload", 32, 0xf0, "TCP header of 60 bytes in an IP payload of 20"},
  };
  for (const Broken& b : v4_cases) {
    Bytes f = v4;
    f[b.offset] = b.value;
    auto s = parse_segment(f);
    ASSERT_FALSE(s.ok()) << b.what;
    EXPECT_NE(s.error().message().find(b.message), std::string::npos) << b.what << ": " << s.error().message();
    EXPECT_EQ(s.error().errnum(), 0);
  }
  const Broken v6_cases[] = {
      {"hop-by-hop header", 6, 0, "IPv6 next header 0 is not TCP"},
      {"payload 10", 5, 10, "TCP header of 20 bytes in an IP payload of 10"},
  };
  for (const Broken& b : v6_cases) {
    Bytes f = v6;
    f[b.offset] = b.value;
    auto s = parse_segment(f);
    ASSERT_FALSE(s.ok()) << b.what;
    EXPECT_NE(s.error().message().find(b.message), std::string::npos) << b.what << ": " << s.error().message();
  }
}

TEST(ParseSegment, EveryTruncationIsRefusedWithoutReadingPastTheEnd) {
  for (const Bytes& whole : {bytes_of(*build_segment(segment("10.0.0.1", 1, "10.0.0.2", 2, 0, 0, tcp_flag::kAck, 0))),
                             bytes_of(*build_segment(segment("fd00::1", 1, "fd00::2", 2, 0, 0, tcp_flag::kAck, 0)))}) {
    for (size_t n = 0; n < whole.size(); ++n) {
      // A copy of exactly n bytes: AddressSanitizer (TCPREAP_SANITIZE) catches
      // any read beyond it.
      const Bytes cut(whole.begin(), whole.begin() + static_cast<long>(n));
      auto s = parse_segment(cut);
      EXPECT_FALSE(s.ok()) << n << " of " << whole.size() << " bytes";
    }
    EXPECT_TRUE(parse_segment(whole).ok());
  }
}

TEST(ParseSegment, RandomGarbageNeverCrashes) {
  std::mt19937 rng(9293);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes f(rng() % 90);
    for (auto& b : f) b = static_cast<uint8_t>(rng());
    if (!f.empty()) f[0] = static_cast<uint8_t>((i % 2 ? 0x40 : 0x60) | (f[0] & 0x0f));
    if (f.size() > 9 && i % 3 == 0) f[9] = IPPROTO_TCP, f[6] = IPPROTO_TCP;
    auto s = parse_segment(f);
    parsed += s.ok();
  }
  // Some must get through, or the test tests only the first check.
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace tcpreap
