#pragma once
// TCP segments on the wire: building the bare segments RST injection sends
// (an IP header and a 20-byte TCP header, no options, no payload) and
// parsing the headers of captured ones. Pure functions of bytes: no sockets,
// no allocation.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "net/ip_address.h"

namespace tcpreap {

// The TCP header's flag bits (RFC 9293, section 3.1).
namespace tcp_flag {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kUrg = 0x20;
}  // namespace tcp_flag

// One direction of a connection as it appears in packets: both addresses of
// one family. A dual-stack IPv6 socket talking to an IPv4 peer sends IPv4
// packets: its Flow holds the unmapped IPv4 addresses.
struct Flow {
  IpAddress src;
  IpAddress dst;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;

  Flow reversed() const { return {dst, src, dst_port, src_port}; }
  bool operator==(const Flow&) const = default;
};

struct FlowHash {
  size_t operator()(const Flow& f) const;
};

struct TcpSegment {
  Flow flow;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;  // tcp_flag bits
  uint16_t window = 0;
  // Parsing: the payload length the IP header declares (the captured frame
  // may be shorter: captures keep only the headers). Building: must be 0.
  uint32_t payload_len = 0;

  bool has(uint8_t flag) const { return (flags & flag) != 0; }
  bool operator==(const TcpSegment&) const = default;
};

// The RFC 1071 Internet checksum of `data` (an odd last byte is padded with
// zero), continuing from the 32-bit partial sum `sum` of earlier data.
uint16_t internet_checksum(std::span<const uint8_t> data, uint32_t sum = 0);

// The TCP checksum of `tcp` (header and payload, its checksum field zeroed)
// over the pseudo-header of src/dst: RFC 9293 3.1 for IPv4, RFC 8200 8.1 for
// IPv6. The kernel verifies it on segments RST injection sends, even
// looped back through `lo`: a wrong one is dropped silently (only
// TcpInCsumErrors moves).
uint16_t tcp_checksum(const IpAddress& src, const IpAddress& dst, std::span<const uint8_t> tcp);

// A packet for a raw IPPROTO_RAW socket (the header is ours).
struct Packet {
  static constexpr size_t kMaxSize = 40 + 20;  // IPv6 header + TCP header
  std::array<uint8_t, kMaxSize> bytes{};
  size_t size = 0;

  std::span<const uint8_t> data() const { return {bytes.data(), size}; }
};

// An IPv4 (20-byte header, DF, TTL 64, id 0 so the kernel picks one) or IPv6
// (hop limit 64, flow label 0) packet carrying a 20-byte TCP header with
// `segment`'s fields and both checksums computed. Fails when the addresses
// are of different families or payload_len is not 0.
Result<Packet> build_segment(const TcpSegment& segment);

// The IP and TCP headers of a frame that starts at the IP header (an
// AF_PACKET SOCK_DGRAM capture). Checks every length against both the frame
// and the declared lengths; never reads outside `frame`. Refuses non-TCP
// packets, IPv4 fragments other than the first, and IPv6 extension headers.
// Does not verify the TCP checksum: outgoing packets are captured before the
// device (or nobody) fills it in (CHECKSUM_PARTIAL).
Result<TcpSegment> parse_segment(std::span<const uint8_t> frame);

}  // namespace tcpreap
