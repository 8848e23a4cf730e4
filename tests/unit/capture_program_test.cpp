// The classic BPF capture programs, run through a small interpreter here
// (and checked by the kernel's own verifier on a throwaway socket, which
// needs no privileges).

#include "wire/capture_program.h"

#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "wire/tcp_packet.h"

namespace tcpreap {
namespace {

using Bytes = std::vector<uint8_t>;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

Bytes bytes_of(const Packet& p) { return Bytes(p.data().begin(), p.data().end()); }

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

std::vector<sock_filter> program(std::span<const Flow> flows, CaptureMatch m,
                                 CaptureDirection d = CaptureDirection::kSent) {
  auto p = compile_capture_program(flows, m, d);
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

// The dispatch every program starts with, as capture_program.cpp draws it:
// the direction, then a jump to the section of the frame's family.
TEST(CaptureProgram, DispatchHeaderJumpsToEachFamilysSection) {
  const std::vector<Flow> flows{kFlow4, kFlow6};
  for (CaptureDirection d : {CaptureDirection::kSent, CaptureDirection::kReceived}) {
    const std::vector<sock_filter> p = program(flows, CaptureMatch::kExactFlows, d);
    ASSERT_EQ(p.size(), 9u + (8 + 7 + 1) + (4 + 19 + 1));
    EXPECT_EQ(p[0].code, BPF_LD | BPF_W | BPF_ABS);
    EXPECT_EQ(p[0].k, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE));
    EXPECT_EQ(p[1].code, BPF_JMP | BPF_JEQ | BPF_K);
    EXPECT_EQ(p[1].k, d == CaptureDirection::kSent ? PACKET_OUTGOING : PACKET_HOST);
    EXPECT_EQ(p[2].code, BPF_RET | BPF_K);
    EXPECT_EQ(p[2].k, 0u);
    EXPECT_EQ(p[3].k, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL));
    EXPECT_EQ(p[4].k, static_cast<uint32_t>(ETH_P_IP));
    EXPECT_EQ(p[5].code, BPF_JMP | BPF_JA);
    EXPECT_EQ(6 + p[5].k, 9u) << "IPv4: the section right after the header";
    EXPECT_EQ(p[6].k, static_cast<uint32_t>(ETH_P_IPV6));
    EXPECT_EQ(p[7].code, BPF_JMP | BPF_JA);
    EXPECT_EQ(8 + p[7].k, 9u + 16) << "IPv6: past the 16 instructions of the IPv4 section";
    EXPECT_EQ(p[8].code, BPF_RET | BPF_K);
    EXPECT_EQ(p[8].k, 0u);
    EXPECT_EQ(p[9].k, 9u) << "IPv4 section: the protocol byte";
    EXPECT_EQ(p[25].k, 6u) << "IPv6 section: the next header byte";
  }
}

// The liveness prober watches the peers' answers arriving: the same flows,
// the other pkttype.
TEST(CaptureProgram, ReceivedDirectionTakesOnlyArrivingFrames) {
  const std::vector<Flow> flows{kFlow4, kFlow6};
  for (CaptureMatch m : {CaptureMatch::kExactFlows, CaptureMatch::kSourcePorts, CaptureMatch::kAnyTcp}) {
    const std::vector<sock_filter> p = program(flows, m, CaptureDirection::kReceived);
    expect_well_formed(p);
    for (const Flow& f : flows) {
      Frame in = frame_of(from(f));
      in.pkttype = PACKET_HOST;
      EXPECT_EQ(verdict(p, in), kCaptureSnapLen) << static_cast<int>(m);
      EXPECT_EQ(verdict(p, frame_of(from(f))), 0u) << "leaving: " << static_cast<int>(m);
      in.pkttype = PACKET_BROADCAST;
      EXPECT_EQ(verdict(p, in), 0u) << static_cast<int>(m);
    }
  }
}

TEST(CaptureProgram, DropAllIsOneReturnOfNothing) {
  const std::vector<sock_filter> p = drop_all_program();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].code, BPF_RET | BPF_K);
  EXPECT_EQ(p[0].k, 0u);
}

}  // namespace
}  // namespace tcpreap
