#include "wire/tcp_packet.h"

#include <netinet/in.h>

#include <cstring>
#include <string>

namespace tcpreap {

namespace {

constexpr size_t kIpv4HeaderSize = 20;  // without options
constexpr size_t kIpv6HeaderSize = 40;
constexpr size_t kTcpHeaderSize = 20;  // without options

// Big-endian accessors on a buffer whose size the caller has checked.
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 |
         p[3];
}
void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}

// The un-complemented, un-folded 32-bit sum of 16-bit big-endian words.
uint32_t partial_sum(std::span<const uint8_t> data, uint32_t sum) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += get16(data.data() + i);
    sum = (sum & 0xffff) + (sum >> 16);  // fold as we go: no overflow however long
  }
  if (i < data.size()) sum += static_cast<uint32_t>(data[i]) << 8;
  return sum;
}

Error malformed(const std::string& what) { return Error(0, "malformed captured packet: " + what); }

// The 20-byte TCP header at `tcp` (the caller checked 20 bytes are there).
TcpSegment read_tcp(const uint8_t* tcp, const IpAddress& src, const IpAddress& dst) {
  TcpSegment s;
  s.flow = {src, dst, get16(tcp), get16(tcp + 2)};
  s.seq = get32(tcp + 4);
  s.ack = get32(tcp + 8);
  s.flags = tcp[13];
  s.window = get16(tcp + 14);
  return s;
}

// Checks the TCP header at `offset` against the frame and against the
// `declared` bytes the IP header says follow it (0 = unknown, see below),
// then reads it.
Result<TcpSegment> tcp_after(std::span<const uint8_t> frame, size_t offset, size_t declared, const IpAddress& src,
                             const IpAddress& dst) {
  if (frame.size() < offset + kTcpHeaderSize)
    return malformed("TCP header at offset " + std::to_string(offset) + " needs " +
                     std::to_string(offset + kTcpHeaderSize) + " bytes, the frame has " +
                     std::to_string(frame.size()));
  const uint8_t* tcp = frame.data() + offset;
  const size_t data_offset = static_cast<size_t>(tcp[12] >> 4) * 4;
  if (data_offset < kTcpHeaderSize) return malformed("TCP data offset " + std::to_string(data_offset) + " < 20");
  // A BIG TCP GSO packet (over 64 KiB, Linux 6.3+) carries 0 as its IP
  // length; its real size lives only in the skb. Count what was captured.
  if (declared == 0) declared = frame.size() - offset;
  if (declared < data_offset)
    return malformed("TCP header of " + std::to_string(data_offset) + " bytes in an IP payload of " +
                     std::to_string(declared));
  TcpSegment s = read_tcp(tcp, src, dst);
  s.payload_len = static_cast<uint32_t>(declared - data_offset);
  return s;
}

}  // namespace

size_t FlowHash::operator()(const Flow& f) const {
  // FNV-1a over the bytes that make a Flow equal.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint8_t b) { h = (h ^ b) * 1099511628211ull; };
  mix(static_cast<uint8_t>(f.src.family));
  for (size_t i = 0; i < f.src.size(); ++i) mix(f.src.bytes[i]);
  for (size_t i = 0; i < f.dst.size(); ++i) mix(f.dst.bytes[i]);
  mix(static_cast<uint8_t>(f.src_port >> 8));
  mix(static_cast<uint8_t>(f.src_port));
  mix(static_cast<uint8_t>(f.dst_port >> 8));
  mix(static_cast<uint8_t>(f.dst_port));
  return static_cast<size_t>(h);
}

uint16_t internet_checksum(std::span<const uint8_t> data, uint32_t sum) {
  sum = partial_sum(data, sum);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint16_t tcp_checksum(const IpAddress& src, const IpAddress& dst, std::span<const uint8_t> tcp) {
  // The pseudo-header is summed, never sent: addresses, zero, protocol and
  // the TCP length (IPv4: 16 bits; IPv6: 32 bits, with the protocol as the
  // last byte of a 32-bit "next header" word). Both sum the same way.
  uint32_t sum = partial_sum({src.bytes.data(), src.size()}, 0);
  sum = partial_sum({dst.bytes.data(), dst.size()}, sum);
  sum += IPPROTO_TCP;
  sum += static_cast<uint32_t>(tcp.size() >> 16);
  sum += static_cast<uint32_t>(tcp.size() & 0xffff);
  return internet_checksum(tcp, sum);
}

Result<Packet> build_segment(const TcpSegment& seg) {
  const Flow& f = seg.flow;
  if (f.src.family != f.dst.family)
    return Error(0, "building a TCP segment from " + f.src.to_string() + " to " + f.dst.to_string() +
                        ": the addresses are of different families");
  if (seg.payload_len != 0) return Error(0, "building a TCP segment: payloads are not supported");

  Packet p;
  const bool v6 = f.src.family == Family::kIPv6;
  const size_t ip_size = v6 ? kIpv6HeaderSize : kIpv4HeaderSize;
  uint8_t* ip = p.bytes.data();
  uint8_t* tcp = ip + ip_size;
  p.size = ip_size + kTcpHeaderSize;

  put16(tcp, f.src_port);
  put16(tcp + 2, f.dst_port);
  put32(tcp + 4, seg.seq);
  put32(tcp + 8, seg.ack);
  tcp[12] = static_cast<uint8_t>((kTcpHeaderSize / 4) << 4);  // data offset, no options
  tcp[13] = seg.flags;
  put16(tcp + 14, seg.window);
  // tcp[16..17] checksum below, tcp[18..19] urgent pointer 0.
  put16(tcp + 16, tcp_checksum(f.src, f.dst, {tcp, kTcpHeaderSize}));

  if (v6) {
    ip[0] = 6 << 4;  // version; traffic class and flow label 0
    put16(ip + 4, kTcpHeaderSize);  // payload length: IPV6_HDRINCL does not fill it
    ip[6] = IPPROTO_TCP;            // next header
    ip[7] = 64;                     // hop limit
    std::memcpy(ip + 8, f.src.bytes.data(), 16);
    std::memcpy(ip + 24, f.dst.bytes.data(), 16);
  } else {
    ip[0] = 4 << 4 | kIpv4HeaderSize / 4;  // version, IHL
    put16(ip + 2, static_cast<uint16_t>(p.size));
    // ip[4..5] id 0: raw_send_hdrinc() picks one.
    put16(ip + 6, 0x4000);  // DF, offset 0
    ip[8] = 64;             // TTL
    ip[9] = IPPROTO_TCP;
    std::memcpy(ip + 12, f.src.bytes.data(), 4);
    std::memcpy(ip + 16, f.dst.bytes.data(), 4);
    // The kernel recomputes it for IP_HDRINCL; filled in so the bytes are a
    // complete, valid packet on their own.
    put16(ip + 10, internet_checksum({ip, kIpv4HeaderSize}));
  }
  return p;
}

Result<TcpSegment> parse_segment(std::span<const uint8_t> frame) {
  if (frame.empty()) return malformed("empty frame");
  const int version = frame[0] >> 4;
  if (version == 4) {
    if (frame.size() < kIpv4HeaderSize)
      return malformed("IPv4 header needs 20 bytes, the frame has " + std::to_string(frame.size()));
    const size_t ihl = static_cast<size_t>(frame[0] & 0x0f) * 4;
    if (ihl < kIpv4HeaderSize) return malformed("IPv4 header length " + std::to_string(ihl) + " < 20");
    if (frame.size() < ihl)
      return malformed("IPv4 header of " + std::to_string(ihl) + " bytes in a frame of " +
                       std::to_string(frame.size()));
    if (frame[9] != IPPROTO_TCP) return malformed("IPv4 protocol " + std::to_string(frame[9]) + " is not TCP");
    const uint16_t fragment_offset = get16(frame.data() + 6) & 0x1fff;
    if (fragment_offset != 0)
      return malformed("IPv4 fragment at offset " + std::to_string(fragment_offset * 8) + " has no TCP header");
    const size_t total = get16(frame.data() + 2);
    if (total != 0 && total < ihl)
      return malformed("IPv4 total length " + std::to_string(total) + " < header length " + std::to_string(ihl));
    return tcp_after(frame, ihl, total == 0 ? 0 : total - ihl, IpAddress::v4(frame.data() + 12),
                     IpAddress::v4(frame.data() + 16));
  }
  if (version == 6) {
    if (frame.size() < kIpv6HeaderSize)
      return malformed("IPv6 header needs 40 bytes, the frame has " + std::to_string(frame.size()));
    if (frame[6] != IPPROTO_TCP)
      return malformed("IPv6 next header " + std::to_string(frame[6]) + " is not TCP (extension headers are not parsed)");
    return tcp_after(frame, kIpv6HeaderSize, get16(frame.data() + 4), IpAddress::v6(frame.data() + 8),
                     IpAddress::v6(frame.data() + 24));
  }
  return malformed("IP version " + std::to_string(version));
}

}  // namespace tcpreap
