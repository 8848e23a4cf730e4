#pragma once
// Builds SOCK_DIAG reply datagrams by hand, byte for byte, so tests can break
// exactly one field. Buffers come from std::vector: 16-byte aligned, as the
// decoder requires of netlink buffers.

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace tcpreap::testing {

inline void append(std::vector<uint8_t>& b, const void* p, size_t n) {
  const auto* c = static_cast<const uint8_t*>(p);
  b.insert(b.end(), c, c + n);
}

inline void pad4(std::vector<uint8_t>& b) { b.resize(NLMSG_ALIGN(b.size())); }

// An IPv4 or IPv6 inet_diag_msg with the given endpoints.
inline inet_diag_msg diag_msg(int family, uint8_t state, const char* src, uint16_t sport, const char* dst,
                              uint16_t dport, uint64_t cookie = 0x1122334455667788ull) {
  inet_diag_msg m{};
  m.idiag_family = static_cast<uint8_t>(family);
  m.idiag_state = state;
  m.id.idiag_sport = htons(sport);
  m.id.idiag_dport = htons(dport);
  inet_pton(family, src, m.id.idiag_src);
  inet_pton(family, dst, m.id.idiag_dst);
  m.id.idiag_if = 3;
  m.id.idiag_cookie[0] = static_cast<uint32_t>(cookie);
  m.id.idiag_cookie[1] = static_cast<uint32_t>(cookie >> 32);
  m.idiag_uid = 1000;
  m.idiag_inode = 4242;
  m.idiag_rqueue = 7;
  m.idiag_wqueue = 9;
  m.idiag_timer = 1;
  m.idiag_expires = 300;
  return m;
}

inline tcp_info sample_tcp_info() {
  tcp_info ti{};
  ti.tcpi_state = 1;
  ti.tcpi_retransmits = 3;
  ti.tcpi_probes = 2;
  ti.tcpi_backoff = 4;
  ti.tcpi_rto = 3'264'000;
  ti.tcpi_unacked = 5;
  ti.tcpi_last_data_sent = 120;
  ti.tcpi_last_data_recv = 45'000;
  ti.tcpi_last_ack_recv = 44'000;
  ti.tcpi_rtt = 250;
  ti.tcpi_total_retrans = 17;
  return ti;
}

// An attribute: header, payload, padding.
inline void put_attr(std::vector<uint8_t>& b, uint16_t type, const void* data, size_t len) {
  nlattr a{static_cast<uint16_t>(NLA_HDRLEN + len), type};
  append(b, &a, sizeof a);
  append(b, data, len);
  pad4(b);
}

// The payload of a SOCK_DIAG_BY_FAMILY reply: inet_diag_msg, then an
// INET_DIAG_INFO of `info_len` bytes taken from `info` (zeros beyond it).
inline std::vector<uint8_t> socket_payload(const inet_diag_msg& m, const tcp_info* info = nullptr,
                                           size_t info_len = sizeof(tcp_info)) {
  std::vector<uint8_t> b;
  append(b, &m, sizeof m);
  pad4(b);
  if (info) {
    std::vector<uint8_t> raw(info_len, 0);
    if (info_len > 0) std::memcpy(raw.data(), info, std::min(info_len, sizeof *info));
    put_attr(b, INET_DIAG_INFO, raw.data(), raw.size());
  }
  return b;
}

// Appends one netlink message with `payload` to a datagram.
inline void put_message(std::vector<uint8_t>& dgram, uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid,
                        const std::vector<uint8_t>& payload) {
  nlmsghdr h{static_cast<uint32_t>(NLMSG_HDRLEN + payload.size()), type, flags, seq, pid};
  append(dgram, &h, sizeof h);
  append(dgram, payload.data(), payload.size());
  pad4(dgram);
}

inline std::vector<uint8_t> int_payload(int v) {
  std::vector<uint8_t> b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

inline std::vector<uint8_t> error_payload(int error) {
  nlmsgerr e{};
  e.error = error;
  std::vector<uint8_t> b(sizeof e);
  std::memcpy(b.data(), &e, sizeof e);
  return b;
}

}  // namespace tcpreap::testing
