#pragma once
// Capturing the segments local sockets send (challenge ACKs) or receive
// (answers to liveness probes): an
// AF_PACKET SOCK_DGRAM socket on every interface of the namespace ("cooked":
// frames start at the IP header whatever the link type) with a classic BPF
// program that lets through only the segments being waited for.

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/unique_fd.h"
#include "wire/tcp_packet.h"

namespace tcpreap {

// Bytes of each accepted frame the program keeps: the largest IPv4 header
// (60) or the IPv6 header (40) and a 20-byte TCP header fit, with room.
inline constexpr uint32_t kCaptureSnapLen = 128;

// How precisely a capture program selects segments. The user of the capture
// checks the 4-tuple of every frame anyway; the program only keeps the rest
// of the namespace's traffic out of user space.
enum class CaptureMatch : uint8_t {
  kExactFlows,   // TCP from exactly these (src, sport, dst, dport): 7 (IPv4) or 19 (IPv6) instructions a flow
  kSourcePorts,  // TCP from these source ports: 2 instructions a distinct port
  kAnyTcp,       // all TCP: when even the port list does not fit
};

// Which frames of a flow a program takes. On `lo` a looped-back segment
// shows twice, leaving (PACKET_OUTGOING) and arriving (PACKET_HOST): each
// direction takes it once.
enum class CaptureDirection : uint8_t {
  kSent,      // sent by this host (pkttype PACKET_OUTGOING)
  kReceived,  // addressed to this host (pkttype PACKET_HOST)
};

// A program accepting (kCaptureSnapLen bytes of) frames that are
//   - of `direction`,
//   - IPv4 or IPv6 (skb->protocol), TCP with its whole 20-byte header in the
//     frame, not a later IPv4 fragment (IPv6 extension headers are not
//     followed: such segments are not accepted),
//   - of one of `flows` (each in the direction to match: src = the local
//     socket) as precisely as `match` says.
// Nothing when it would exceed BPF_MAXINSNS. An empty `flows` gives a
// program that accepts nothing.
//
// Fitting BPF_MAXINSNS is not enough: the kernel charges the program, as
// translated to eBPF, against net.core.optmem_max (sk_filter_charge()), and
// SO_ATTACH_FILTER fails with ENOMEM beyond. With the default 128 KiB, about
// 400 exact IPv4 flows or 117 exact IPv6 flows fit: try the next, coarser
// match when attaching fails so.
std::optional<std::vector<sock_filter>> compile_capture_program(std::span<const Flow> flows, CaptureMatch match,
                                                                CaptureDirection direction = CaptureDirection::kSent);

// `ret #0`: accepts nothing.
std::vector<sock_filter> drop_all_program();

struct CapturedFrame {
  size_t size = 0;        // bytes stored in the caller's buffer
  size_t wire_size = 0;   // bytes the program kept (more than size: the buffer was short)
  int ifindex = 0;        // the interface it was seen on
  uint8_t pkttype = 0;    // PACKET_OUTGOING, PACKET_HOST, ...
};

// An AF_PACKET capture on all interfaces of the network namespace it was
// opened in. Not thread-safe.
class PacketCapture {
 public:
  // Opens the socket with a program that accepts nothing, then binds it to
  // every protocol (ETH_P_ALL) on every interface: no frame is queued that a
  // program did not accept. Needs CAP_NET_RAW (EPERM otherwise, said so in
  // the error). Non-blocking.
  static Result<PacketCapture> open();

  // Replaces the program. Frames the previous program accepted and nobody
  // read yet are discarded: afterwards next() returns only frames `program`
  // accepted. The kernel checks the program (EINVAL when malformed).
  Status set_program(std::span<const sock_filter> program);

  // The next queued frame, copied into `buffer`; nothing when none is
  // queued (never blocks: poll fd() for POLLIN).
  Result<std::optional<CapturedFrame>> next(std::span<uint8_t> buffer);

  // Frames the kernel dropped since the last call because the socket's
  // receive buffer was full (PACKET_STATISTICS; reading resets it).
  Result<uint32_t> take_drops();

  int fd() const { return fd_.get(); }

 private:
  explicit PacketCapture(UniqueFd fd) : fd_(std::move(fd)) {}
  Status attach(std::span<const sock_filter> program);
  UniqueFd fd_;
};

}  // namespace tcpreap
