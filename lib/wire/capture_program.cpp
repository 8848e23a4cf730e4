#include "wire/capture_program.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>

#include <algorithm>
#include <unordered_set>

namespace tcpreap {

namespace {

// ---- A tiny classic-BPF assembler -----------------------------------------
//
// Classic BPF (Documentation/networking/filter.rst): accumulator A, index X;
// conditional jumps skip jt/jf instructions forward (8 bits each), `ja`
// skips k (32 bits). Loads outside the packet end the program with "drop".
// For an AF_PACKET SOCK_DGRAM socket the program sees the frame from the
// network header on (packet_rcv() pulls outgoing frames to it too), so
// offset 0 is the first byte of the IP header.

sock_filter stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return sock_filter{code, jt, jf, k}; }

constexpr uint16_t kLdW = BPF_LD | BPF_W | BPF_ABS;    // A = u32 at [k]
constexpr uint16_t kLdH = BPF_LD | BPF_H | BPF_ABS;    // A = u16 at [k]
constexpr uint16_t kLdB = BPF_LD | BPF_B | BPF_ABS;    // A = u8 at [k]
constexpr uint16_t kLdWInd = BPF_LD | BPF_W | BPF_IND;  // A = u32 at [X + k]
constexpr uint16_t kLdHInd = BPF_LD | BPF_H | BPF_IND;  // A = u16 at [X + k]
constexpr uint16_t kLdBInd = BPF_LD | BPF_B | BPF_IND;  // A = u8 at [X + k]
constexpr uint16_t kLdxMsh = BPF_LDX | BPF_B | BPF_MSH;  // X = 4 * ([k] & 0xf): the IPv4 header length
constexpr uint16_t kJeq = BPF_JMP | BPF_JEQ | BPF_K;
constexpr uint16_t kJset = BPF_JMP | BPF_JSET | BPF_K;
constexpr uint16_t kJa = BPF_JMP | BPF_JA;
constexpr uint16_t kRet = BPF_RET | BPF_K;

// Ancillary loads: not packet bytes but skb fields (SKF_AD_*).
constexpr uint32_t kAncPktType = static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE);    // skb->pkt_type
constexpr uint32_t kAncProtocol = static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL);  // ntohs(skb->protocol)

constexpr uint32_t kIpv4Protocol = 9;       // IPv4 header: protocol byte
constexpr uint32_t kIpv4Fragment = 6;       // IPv4 header: flags and fragment offset
constexpr uint32_t kIpv4Src = 12;
constexpr uint32_t kIpv4Dst = 16;
constexpr uint32_t kIpv6NextHeader = 6;
constexpr uint32_t kIpv6Src = 8;
constexpr uint32_t kIpv6Dst = 24;
constexpr uint32_t kIpv6Tcp = 40;  // no extension headers

uint32_t be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 |
         p[3];
}

// One comparison of an exact-flow block: `load` at `offset`, equal to `value`.
struct Compare {
  uint16_t load;
  uint32_t offset;
  uint32_t value;
};

// A block that accepts when every comparison holds and otherwise falls to
// the instruction after it:
//        ld  c0 ; jeq v0, 0, <to end>
//        ld  c1 ; jeq v1, 0, <to end>   ...
//        ret #snap
// Each jf is local (at most 2 * 9 - 1 = 17 for IPv6), far below 255.
void exact_block(std::vector<sock_filter>& out, const std::vector<Compare>& cmps) {
  const size_t n = cmps.size();
  for (size_t i = 0; i < n; ++i) {
    out.push_back(stmt(cmps[i].load, cmps[i].offset));
    out.push_back(jump(kJeq, cmps[i].value, 0, static_cast<uint8_t>(2 * (n - i) - 1)));
  }
  out.push_back(stmt(kRet, kCaptureSnapLen));
}

// The flows' comparisons, the most selective first: the port pair tells
// apart nearly every packet of the namespace in one comparison.
std::vector<Compare> flow_compares(const Flow& f) {
  const uint32_t ports = static_cast<uint32_t>(f.src_port) << 16 | f.dst_port;
  if (f.src.family == Family::kIPv4)
    return {{kLdWInd, 0, ports}, {kLdW, kIpv4Src, be32(f.src.bytes.data())}, {kLdW, kIpv4Dst, be32(f.dst.bytes.data())}};
  std::vector<Compare> c{{kLdW, kIpv6Tcp, ports}};
  for (uint32_t w = 0; w < 4; ++w) c.push_back({kLdW, kIpv6Src + 4 * w, be32(f.src.bytes.data() + 4 * w)});
  for (uint32_t w = 0; w < 4; ++w) c.push_back({kLdW, kIpv6Dst + 4 * w, be32(f.dst.bytes.data() + 4 * w)});
  return c;
}

// The body of one family's section, after its header checks (for IPv4, X
// holds the IP header length): accepts what it matches, falls through
// otherwise.
void section_body(std::vector<sock_filter>& out, Family family, const std::vector<Flow>& flows, CaptureMatch match) {
  const bool v4 = family == Family::kIPv4;
  switch (match) {
    case CaptureMatch::kExactFlows:
      for (const Flow& f : flows) exact_block(out, flow_compares(f));
      return;
    case CaptureMatch::kSourcePorts: {
      std::vector<uint16_t> ports;
      for (const Flow& f : flows) ports.push_back(f.src_port);
      std::sort(ports.begin(), ports.end());
      ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
      out.push_back(v4 ? stmt(kLdHInd, 0) : stmt(kLdH, kIpv6Tcp));  // A = TCP source port
      for (uint16_t p : ports) {
        out.push_back(jump(kJeq, p, 0, 1));  //   jeq #port, 0, 1
        out.push_back(stmt(kRet, kCaptureSnapLen));  //   ret #snap
      }
      return;
    }
    case CaptureMatch::kAnyTcp:
      out.push_back(stmt(kRet, kCaptureSnapLen));
      return;
  }
}

// One family's section: `ret #0` alone when it has no flows; otherwise
//   IPv4:  ldb [9]; jeq #TCP, 1, 0; ret #0          not TCP: drop
//          ldh [6]; jset #0x1fff, 0, 1; ret #0      later fragment: no TCP header
//          ldxb 4*([0]&0xf)                         X = IP header length
//          ldb [x+19]                               the whole TCP header is there (else drop)
//   IPv6:  ldb [6]; jeq #TCP, 1, 0; ret #0          next header not TCP: drop
//          ldb [59]                                 the whole TCP header is there (else drop)
//          <body>
//          ret #0
std::vector<sock_filter> section(Family family, const std::vector<Flow>& flows, CaptureMatch match) {
  std::vector<sock_filter> out;
  if (!flows.empty()) {
    const bool v4 = family == Family::kIPv4;
    out.push_back(stmt(kLdB, v4 ? kIpv4Protocol : kIpv6NextHeader));
    out.push_back(jump(kJeq, IPPROTO_TCP, 1, 0));
    out.push_back(stmt(kRet, 0));
    if (v4) {
      out.push_back(stmt(kLdH, kIpv4Fragment));
      out.push_back(jump(kJset, 0x1fff, 0, 1));
      out.push_back(stmt(kRet, 0));
      out.push_back(stmt(kLdxMsh, 0));
      out.push_back(stmt(kLdBInd, 19));
    } else {
      out.push_back(stmt(kLdB, kIpv6Tcp + 19));
    }
    section_body(out, family, flows, match);
  }
  out.push_back(stmt(kRet, 0));
  return out;
}

// The whole program:
//    0  ld   [pkttype]
//    1  jeq  #PACKET_OUTGOING, 1, 0   (#PACKET_HOST for received frames)
//    2  ret  #0                       the other direction: drop
//    3  ld   [protocol]
//    4  jeq  #ETH_P_IP, 0, 1
//    5  ja   v4
//    6  jeq  #ETH_P_IPV6, 0, 1
//    7  ja   v6
//    8  ret  #0                       neither: drop
//   v4: <IPv4 section>
//   v6: <IPv6 section>
// `ja` carries a 32-bit offset: the sections may be thousands long.
std::vector<sock_filter> assemble(const std::vector<Flow>& v4, const std::vector<Flow>& v6, CaptureMatch match,
                                  CaptureDirection direction) {
  const std::vector<sock_filter> s4 = section(Family::kIPv4, v4, match);
  const std::vector<sock_filter> s6 = section(Family::kIPv6, v6, match);
  constexpr uint32_t kHeader = 9;
  std::vector<sock_filter> out{
      stmt(kLdW, kAncPktType),
      jump(kJeq, direction == CaptureDirection::kSent ? PACKET_OUTGOING : PACKET_HOST, 1, 0),
      stmt(kRet, 0),
      stmt(kLdW, kAncProtocol),
      jump(kJeq, ETH_P_IP, 0, 1),
      stmt(kJa, kHeader - 6),  // from 6 to 9
      jump(kJeq, ETH_P_IPV6, 0, 1),
      stmt(kJa, kHeader + static_cast<uint32_t>(s4.size()) - 8),  // from 8 to v6
      stmt(kRet, 0),
  };
  out.insert(out.end(), s4.begin(), s4.end());
  out.insert(out.end(), s6.begin(), s6.end());
  return out;
}

}  // namespace

std::optional<std::vector<sock_filter>> compile_capture_program(std::span<const Flow> flows, CaptureMatch match,
                                                                CaptureDirection direction) {
  std::vector<Flow> v4, v6;
  std::unordered_set<Flow, FlowHash> seen;
  for (const Flow& f : flows)
    if (seen.insert(f).second) (f.src.family == Family::kIPv4 ? v4 : v6).push_back(f);
  // Exact flows take 7 (IPv4) or 19 (IPv6) instructions each: a probe round
  // of 100 000 sockets would assemble 700 000 only to refuse them.
  if (match == CaptureMatch::kExactFlows && 7 * v4.size() + 19 * v6.size() > BPF_MAXINSNS) return std::nullopt;
  std::vector<sock_filter> code = assemble(v4, v6, match, direction);
  if (code.size() > BPF_MAXINSNS) return std::nullopt;
  return code;
}

std::vector<sock_filter> drop_all_program() { return {stmt(kRet, 0)}; }

}  // namespace tcpreap
