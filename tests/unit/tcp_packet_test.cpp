// Packets RST injection builds and parses, byte for byte, and the classic BPF
// capture program, run through a small interpreter here (and checked by the
// kernel's own verifier on a throwaway socket, which needs no privileges).

#include "wire/tcp_packet.h"

#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "core/unique_fd.h"
#include "wire/packet_capture.h"

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

// ---- The capture program ----------------------------------------------------------

// A classic BPF interpreter for the instructions the program uses, with the
// kernel's rules: loads outside the packet return 0 (drop), ancillary loads
// read pkttype and protocol, and running off the end is an error.
struct Frame {
  Bytes bytes;
  uint8_t pkttype = PACKET_OUTGOING;
  uint16_t protocol = ETH_P_IP;  // host order, as SKF_AD_PROTOCOL gives it
};

std::optional<uint32_t> run(const std::vector<sock_filter>& prog, const Frame& f, std::string* error) {
  uint32_t a = 0, x = 0;
  auto load = [&](uint32_t off, int size, bool& ok) -> uint32_t {
    if (off >= static_cast<uint32_t>(SKF_AD_OFF)) {
      const uint32_t anc = off - static_cast<uint32_t>(SKF_AD_OFF);
      if (anc == SKF_AD_PKTTYPE) return f.pkttype;
      if (anc == SKF_AD_PROTOCOL) return f.protocol;
      ok = false;
      return 0;
    }
    if (off + static_cast<uint32_t>(size) > f.bytes.size()) {
      ok = false;
      return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < size; ++i) v = v << 8 | f.bytes[off + static_cast<uint32_t>(i)];
    return v;
  };
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& i = prog[pc];
    bool ok = true;
    switch (i.code) {
      case BPF_LD | BPF_W | BPF_ABS: a = load(i.k, 4, ok); break;
      case BPF_LD | BPF_H | BPF_ABS: a = load(i.k, 2, ok); break;
      case BPF_LD | BPF_B | BPF_ABS: a = load(i.k, 1, ok); break;
      case BPF_LD | BPF_W | BPF_IND: a = load(x + i.k, 4, ok); break;
      case BPF_LD | BPF_H | BPF_IND: a = load(x + i.k, 2, ok); break;
      case BPF_LD | BPF_B | BPF_IND: a = load(x + i.k, 1, ok); break;
      case BPF_LDX | BPF_B | BPF_MSH: x = 4 * (load(i.k, 1, ok) & 0xf); break;
      case BPF_JMP | BPF_JEQ | BPF_K: pc += (a == i.k) ? i.jt : i.jf; break;
      case BPF_JMP | BPF_JSET | BPF_K: pc += (a & i.k) ? i.jt : i.jf; break;
      case BPF_JMP | BPF_JA: pc += i.k; break;
      case BPF_RET | BPF_K: return i.k;
      default:
        *error = "unknown op code " + std::to_string(i.code) + " at " + std::to_string(pc);
        return std::nullopt;
    }
    if (!ok) return 0;  // the kernel drops the packet
  }
  *error = "ran off the end of the program";
  return std::nullopt;
}

uint32_t verdict(const std::vector<sock_filter>& prog, const Frame& f) {
  std::string error;
  auto r = run(prog, f, &error);
  EXPECT_TRUE(r.has_value()) << error;
  return r.value_or(0);
}

Frame frame_of(const TcpSegment& s) {
  Frame f{bytes_of(*build_segment(s)), PACKET_OUTGOING, 0};
  f.protocol = s.flow.src.family == Family::kIPv4 ? ETH_P_IP : ETH_P_IPV6;
  return f;
}

// Every jump lands inside the program and it ends in a return.
void expect_well_formed(const std::vector<sock_filter>& prog) {
  ASSERT_FALSE(prog.empty());
  ASSERT_LE(prog.size(), static_cast<size_t>(BPF_MAXINSNS));
  EXPECT_EQ(prog.back().code, BPF_RET | BPF_K);
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& i = prog[pc];
    if (BPF_CLASS(i.code) != BPF_JMP) continue;
    if (BPF_OP(i.code) == BPF_JA) {
      EXPECT_LT(pc + 1 + i.k, prog.size()) << pc;
    } else {
      EXPECT_LT(pc + 1 + i.jt, prog.size()) << pc;
      EXPECT_LT(pc + 1 + i.jf, prog.size()) << pc;
    }
  }
  // The kernel's own checker (sk_chk_filter) on a socket nobody uses; no
  // privileges needed.
  // ENOMEM is the optmem_max charge of a long program, not a malformed one.
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(s.valid());
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
  if (::setsockopt(s.get(), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0) {
    EXPECT_EQ(errno, ENOMEM) << "the kernel refused the program: " << std::strerror(errno);
  }
}

std::vector<sock_filter> program(std::span<const Flow> flows, CaptureMatch m) {
  auto p = compile_capture_program(flows, m);
  EXPECT_TRUE(p.has_value()) << "too long";
  return p.value_or(drop_all_program());
}

const Flow kFlow4{ip("10.231.0.1"), ip("10.231.0.2"), 8080, 40000};
const Flow kFlow6{ip("fd00:231::1"), ip("fd00:231::2"), 443, 51234};

TcpSegment from(const Flow& f, uint8_t flags = tcp_flag::kAck) {
  TcpSegment s;
  s.flow = f;
  s.flags = flags;
  s.ack = 1;
  return s;
}

TEST(CaptureProgram, ExactFlowsAcceptOnlyTheirOutgoingSegments) {
  const std::vector<Flow> flows{kFlow4, kFlow6, kFlow4};  // a duplicate is compiled once
  const std::vector<sock_filter> p = program(flows, CaptureMatch::kExactFlows);
  expect_well_formed(p);
  // 9 dispatch + IPv4 (8 checks + 7 per flow + 1) + IPv6 (4 + 19 per flow + 1).
  EXPECT_EQ(p.size(), 9u + (8 + 7 + 1) + (4 + 19 + 1));

  for (const Flow& f : flows) {
    SCOPED_TRACE(f.src.to_string());
    EXPECT_EQ(verdict(p, frame_of(from(f))), kCaptureSnapLen);
    EXPECT_EQ(verdict(p, frame_of(from(f, tcp_flag::kSyn | tcp_flag::kAck))), kCaptureSnapLen);
    EXPECT_EQ(verdict(p, frame_of(from(f, tcp_flag::kRst | tcp_flag::kAck))), kCaptureSnapLen);

    Frame in = frame_of(from(f));
    in.pkttype = PACKET_HOST;  // the arriving copy on lo
    EXPECT_EQ(verdict(p, in), 0u);
    EXPECT_EQ(verdict(p, frame_of(from(f.reversed()))), 0u) << "our own spoofed direction";
    Flow other = f;
    other.dst_port++;
    EXPECT_EQ(verdict(p, frame_of(from(other))), 0u) << "another peer port";
    other = f;
    other.src_port++;
    EXPECT_EQ(verdict(p, frame_of(from(other))), 0u) << "another local port";
    other = f;
    other.dst.bytes[f.dst.size() - 1] ^= 1;
    EXPECT_EQ(verdict(p, frame_of(from(other))), 0u) << "another peer address";
    other = f;
    other.src.bytes[0] ^= 1;
    EXPECT_EQ(verdict(p, frame_of(from(other))), 0u) << "another local address";
    Frame wrong_proto = frame_of(from(f));
    wrong_proto.protocol = ETH_P_ARP;
    EXPECT_EQ(verdict(p, wrong_proto), 0u);
    // Every truncation of the headers: loads past the end drop.
    const Frame whole = frame_of(from(f));
    for (size_t n = 0; n < whole.bytes.size(); ++n) {
      Frame cut = whole;
      cut.bytes.resize(n);
      EXPECT_EQ(verdict(p, cut), 0u) << n;
    }
  }
  // Not TCP; a later IPv4 fragment; an IPv6 extension header.
  Frame udp = frame_of(from(kFlow4));
  udp.bytes[9] = IPPROTO_UDP;
  EXPECT_EQ(verdict(p, udp), 0u);
  Frame fragment = frame_of(from(kFlow4));
  fragment.bytes[7] = 1;
  EXPECT_EQ(verdict(p, fragment), 0u);
  Frame first_fragment = frame_of(from(kFlow4));
  first_fragment.bytes[6] |= 0x20;  // MF with offset 0 carries the TCP header
  EXPECT_EQ(verdict(p, first_fragment), kCaptureSnapLen);
  Frame hop_by_hop = frame_of(from(kFlow6));
  hop_by_hop.bytes[6] = 0;
  EXPECT_EQ(verdict(p, hop_by_hop), 0u);
}

TEST(CaptureProgram, Ipv4OptionsMoveTheTcpHeader) {
  const std::vector<Flow> flows{kFlow4};
  Frame f = frame_of(from(kFlow4));
  f.bytes[0] = 0x46;                                    // IHL 6: one 4-byte option
  f.bytes.insert(f.bytes.begin() + 20, {1, 1, 1, 0});  // NOP NOP NOP EOL
  EXPECT_EQ(verdict(program(flows, CaptureMatch::kExactFlows), f), kCaptureSnapLen);
  EXPECT_EQ(verdict(program(flows, CaptureMatch::kSourcePorts), f), kCaptureSnapLen);
}

TEST(CaptureProgram, EmptyAcceptsNothing) {
  for (CaptureMatch m : {CaptureMatch::kExactFlows, CaptureMatch::kSourcePorts, CaptureMatch::kAnyTcp}) {
    const std::vector<sock_filter> p = program({}, m);
    expect_well_formed(p);
    EXPECT_EQ(verdict(p, frame_of(from(kFlow4))), 0u);
    EXPECT_EQ(verdict(p, frame_of(from(kFlow6))), 0u);
  }
  expect_well_formed(drop_all_program());
  EXPECT_EQ(verdict(drop_all_program(), frame_of(from(kFlow4))), 0u);
}

// Coarser programs, for when an exact one is too long or too big to attach:
// their source ports, or any TCP; user space checks the 4-tuple.
TEST(CaptureProgram, SourcePortsAndAnyTcp) {
  std::vector<Flow> flows;
  for (uint16_t i = 0; i < 300; ++i) {
    Flow f = kFlow6;
    f.dst_port = static_cast<uint16_t>(10000 + i);  // a server: one local port, many peers
    flows.push_back(f);
  }
  flows.push_back(kFlow4);
  const std::vector<sock_filter> ports = program(flows, CaptureMatch::kSourcePorts);
  expect_well_formed(ports);
  EXPECT_EQ(ports.size(), 9u + (8 + 1 + 2 + 1) + (4 + 1 + 2 + 1)) << "one local port per family";
  Flow stranger = kFlow6;
  stranger.dst = ip("fd00::99");  // same local port: let through, user space decides
  EXPECT_EQ(verdict(ports, frame_of(from(stranger))), kCaptureSnapLen);
  stranger.src_port = 1;
  EXPECT_EQ(verdict(ports, frame_of(from(stranger))), 0u);
  EXPECT_EQ(verdict(ports, frame_of(from(kFlow4))), kCaptureSnapLen);
  Frame in = frame_of(from(kFlow4));
  in.pkttype = PACKET_HOST;
  EXPECT_EQ(verdict(ports, in), 0u);

  const std::vector<sock_filter> any = program(flows, CaptureMatch::kAnyTcp);
  expect_well_formed(any);
  EXPECT_EQ(verdict(any, frame_of(from(stranger))), kCaptureSnapLen);
  EXPECT_EQ(verdict(any, in), 0u) << "still outgoing only";
  Frame udp = frame_of(from(kFlow4));
  udp.bytes[9] = IPPROTO_UDP;
  EXPECT_EQ(verdict(any, udp), 0u);
}

TEST(CaptureProgram, TooLongIsNothingAndBigProgramsKeepTheirJumps) {
  std::vector<Flow> flows;
  for (uint32_t i = 0; i < 5000; ++i) {
    Flow f = i % 2 ? kFlow6 : kFlow4;
    f.src_port = static_cast<uint16_t>(1024 + i);  // a client: a local port each
    flows.push_back(f);
  }
  EXPECT_FALSE(compile_capture_program(flows, CaptureMatch::kExactFlows).has_value());
  EXPECT_FALSE(compile_capture_program(flows, CaptureMatch::kSourcePorts).has_value()) << "2 per distinct port";
  expect_well_formed(program(flows, CaptureMatch::kAnyTcp));

  // 150 of each: 9 + (8 + 150 * 7 + 1) + (4 + 150 * 19 + 1) = 3923 instructions.
  const std::vector<sock_filter> exact = program(std::span(flows).first(300), CaptureMatch::kExactFlows);
  EXPECT_EQ(exact.size(), 3923u);
  expect_well_formed(exact);
  // The `ja` to the IPv6 section and every block's jumps hold up at this size.
  EXPECT_EQ(verdict(exact, frame_of(from(flows[0]))), kCaptureSnapLen);
  EXPECT_EQ(verdict(exact, frame_of(from(flows[298]))), kCaptureSnapLen);
  EXPECT_EQ(verdict(exact, frame_of(from(flows[299]))), kCaptureSnapLen);
  EXPECT_EQ(verdict(exact, frame_of(from(flows[300]))), 0u);
  EXPECT_EQ(verdict(exact, frame_of(from(flows[301]))), 0u);
  const std::vector<sock_filter> ports = program(std::span(flows).first(2000), CaptureMatch::kSourcePorts);
  expect_well_formed(ports);
  EXPECT_EQ(verdict(ports, frame_of(from(flows[1999]))), kCaptureSnapLen);
  EXPECT_EQ(verdict(ports, frame_of(from(flows[2000]))), 0u);
}

// ---- UniqueFd ---------------------------------------------------------------------

TEST(UniqueFd, OwnsMovesReleasesAndResets) {
  static_assert(!std::is_copy_constructible_v<UniqueFd>);
  static_assert(!std::is_convertible_v<int, UniqueFd>);
  static_assert(!std::is_convertible_v<UniqueFd, int>);
  UniqueFd a(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(a.valid());
  const int raw = a.get();
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(b.get(), raw);
  const int released = b.release();
  EXPECT_EQ(released, raw);
  EXPECT_FALSE(b.valid());
  b.reset(released);
  EXPECT_EQ(b.get(), raw);
  b.reset();
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1) << "reset() closes";
}

}  // namespace
}  // namespace tcpreap
