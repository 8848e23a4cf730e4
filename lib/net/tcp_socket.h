#pragma once
// One TCP socket as the kernel's SOCK_DIAG dump describes it: a plain value,
// decoded from an inet_diag_msg and its INET_DIAG_INFO attribute.

#include <linux/inet_diag.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

#include "net/ip_address.h"

namespace tcpreap {

// The struct tcp_info fields a reaper decides on. Each is absent when the
// kernel's tcp_info was too short to carry it (an older kernel); a longer one
// is read as far as these fields go.
struct TcpInfo {
  std::optional<uint8_t> retransmits;       // consecutive RTO retransmissions now
  std::optional<uint8_t> probes;            // unanswered zero-window / keepalive probes
  std::optional<uint8_t> backoff;           // RTO exponential backoff shift
  std::optional<uint32_t> rto_us;
  std::optional<uint32_t> unacked;          // segments sent and not yet ACKed
  std::optional<uint32_t> last_data_sent_ms;
  std::optional<uint32_t> last_data_recv_ms;
  std::optional<uint32_t> last_ack_recv_ms;
  std::optional<uint32_t> rtt_us;
  std::optional<uint32_t> total_retrans;
  uint16_t reported_len = 0;  // bytes of tcp_info the kernel sent

  // Time since anything at all (data or ACK) arrived from the peer.
  std::optional<uint32_t> last_recv_ms() const;

  bool operator==(const TcpInfo&) const = default;
};

struct TcpSocket {
  Family family = Family::kIPv4;
  uint8_t state = 0;  // kernel numbering, see net/tcp_state.h
  IpAddress local;
  IpAddress remote;
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
  uint32_t interface = 0;  // ifindex the socket is bound to, 0 for none
  uint32_t uid = 0;
  uint32_t inode = 0;
  uint64_t cookie = 0;  // the kernel's idiag_cookie: unique while the socket lives
  uint32_t recv_queue = 0;
  uint32_t send_queue = 0;
  uint8_t timer = 0;  // idiag_timer: 0 none, 1 retransmit, 2 keepalive, 3 TIME-WAIT, 4 zero-window probe
  uint32_t timer_expires_ms = 0;
  std::optional<TcpInfo> info;  // absent for TIME-WAIT and request sockets

  // The dumped inet_diag_sockid byte for byte, cookie included: what
  // SOCK_DESTROY needs to hit exactly this socket and not a recycled 4-tuple.
  std::array<uint8_t, sizeof(inet_diag_sockid)> raw_id{};
  inet_diag_sockid sockid() const {
    inet_diag_sockid id;
    std::memcpy(&id, raw_id.data(), sizeof id);
    return id;
  }

  bool operator==(const TcpSocket&) const = default;
};

}  // namespace tcpreap
