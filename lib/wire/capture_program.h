#pragma once
// The classic BPF programs a PacketCapture runs: which TCP segments, of
// which flows and in which direction, reach user space. Pure functions of
// their arguments: no sockets.

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

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
// 400 exact IPv4 flows or 117 exact IPv6 flows fit: CaptureSession::start()
// tries the next, coarser match when attaching fails so.
std::optional<std::vector<sock_filter>> compile_capture_program(std::span<const Flow> flows, CaptureMatch match,
                                                                CaptureDirection direction = CaptureDirection::kSent);

// `ret #0`: accepts nothing.
std::vector<sock_filter> drop_all_program();

}  // namespace tcpreap
