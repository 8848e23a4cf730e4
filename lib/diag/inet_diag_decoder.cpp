#include "diag/inet_diag_decoder.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/tcp.h>
#include <sys/socket.h>

#include <cstddef>
#include <string>

namespace tcpreap {

namespace {

// Copies tcp_info field `member` into `out` if the kernel's tcp_info reaches
// that far. A shorter tcp_info (older kernel) leaves it absent.
template <typename T, typename Field>
void take(const uint8_t* data, size_t len, size_t offset, std::optional<T>& out) {
  if (offset + sizeof(Field) > len) return;
  Field v;
  std::memcpy(&v, data + offset, sizeof v);
  out = static_cast<T>(v);
}

#define TCPREAP_TAKE(member, out)                                                                      \
  take<std::remove_reference_t<decltype(*(out))>, decltype(tcp_info::member)>(data, len,               \
                                                                              offsetof(tcp_info, member), \
                                                                              (out))

void decode_tcp_info(const uint8_t* data, size_t len, TcpInfo& ti) {
  ti.reported_len = static_cast<uint16_t>(len);
  TCPREAP_TAKE(tcpi_retransmits, ti.retransmits);
  TCPREAP_TAKE(tcpi_probes, ti.probes);
  TCPREAP_TAKE(tcpi_backoff, ti.backoff);
  TCPREAP_TAKE(tcpi_rto, ti.rto_us);
  TCPREAP_TAKE(tcpi_unacked, ti.unacked);
  TCPREAP_TAKE(tcpi_last_data_sent, ti.last_data_sent_ms);
  TCPREAP_TAKE(tcpi_last_data_recv, ti.last_data_recv_ms);
  TCPREAP_TAKE(tcpi_last_ack_recv, ti.last_ack_recv_ms);
  TCPREAP_TAKE(tcpi_rtt, ti.rtt_us);
  TCPREAP_TAKE(tcpi_total_retrans, ti.total_retrans);
}

#undef TCPREAP_TAKE

}  // namespace

Status decode_inet_diag(std::span<const uint8_t> payload, TcpSocket& s) {
  if (payload.size() < sizeof(inet_diag_msg))
    return Error(0, "inet_diag message of " + std::to_string(payload.size()) +
                        " bytes is shorter than struct inet_diag_msg (" +
                        std::to_string(sizeof(inet_diag_msg)) + ")");
  // Copied out, not cast in place: the buffer promises no alignment.
  inet_diag_msg m;
  std::memcpy(&m, payload.data(), sizeof m);

  if (m.idiag_family == AF_INET) {
    s.family = Family::kIPv4;
    s.local = IpAddress::v4(m.id.idiag_src);
    s.remote = IpAddress::v4(m.id.idiag_dst);
  } else if (m.idiag_family == AF_INET6) {
    s.family = Family::kIPv6;
    s.local = IpAddress::v6(m.id.idiag_src);
    s.remote = IpAddress::v6(m.id.idiag_dst);
  } else {
    return Error(0, "inet_diag message has address family " + std::to_string(m.idiag_family) +
                        ", neither AF_INET nor AF_INET6");
  }
  s.state = m.idiag_state;
  s.local_port = ntohs(m.id.idiag_sport);
  s.remote_port = ntohs(m.id.idiag_dport);
  s.interface = m.id.idiag_if;
  s.uid = m.idiag_uid;
  s.inode = m.idiag_inode;
  s.cookie = static_cast<uint64_t>(m.id.idiag_cookie[1]) << 32 | m.id.idiag_cookie[0];
  s.recv_queue = m.idiag_rqueue;
  s.send_queue = m.idiag_wqueue;
  s.timer = m.idiag_timer;
  s.timer_expires_ms = m.idiag_expires;
  std::memcpy(s.raw_id.data(), &m.id, sizeof m.id);
  s.info.reset();

  // Attributes start at the aligned end of inet_diag_msg. The walk checks
  // what libmnl's mnl_attr_ok() checks, inline: two calls per attribute
  // through the PLT, five attributes per socket, cost ~4% of a whole scan
  // (tests/bench). Where libmnl would silently stop (a length past the end,
  // a header cut short) this is an error, with the numbers.
  size_t offset = NLMSG_ALIGN(sizeof(inet_diag_msg));
  while (offset < payload.size()) {
    const size_t left = payload.size() - offset;
    nlattr attr;  // copied out: no alignment assumed
    if (left < sizeof attr)
      return Error(0, "attribute at offset " + std::to_string(offset) + ": only " + std::to_string(left) +
                          " bytes left, less than an attribute header");
    std::memcpy(&attr, payload.data() + offset, sizeof attr);
    if (attr.nla_len < sizeof attr || attr.nla_len > left)
      return Error(0, "attribute at offset " + std::to_string(offset) + " claims " +
                          std::to_string(attr.nla_len) + " bytes, " + std::to_string(left) + " left");
    if ((attr.nla_type & NLA_TYPE_MASK) == INET_DIAG_INFO)
      decode_tcp_info(payload.data() + offset + NLA_HDRLEN, attr.nla_len - NLA_HDRLEN, s.info.emplace());
    offset += NLA_ALIGN(attr.nla_len);
  }
  return Ok{};
}

Result<TcpSocket> decode_inet_diag(std::span<const uint8_t> payload) {
  TcpSocket s;
  if (auto st = decode_inet_diag(payload, s); !st) return st.error();
  return s;
}

}  // namespace tcpreap
