#pragma once
// Sending hand-built IP packets: raw IPPROTO_RAW sockets, one per family,
// whose packets carry their own IP header (IP_HDRINCL / IPV6_HDRINCL are
// implied by IPPROTO_RAW). The source address is whatever the header says:
// RST injection spoofs the peer.

#include <cstdint>

#include "core/error.h"
#include "net/ip_address.h"
#include "core/unique_fd.h"
#include "netns/socket_maker.h"
#include "wire/tcp_packet.h"

namespace tcpreap {

// Not thread-safe. Sockets stay in the network namespace they were opened in.
class RawSender {
 public:
  // Opens both sockets in the maker's network namespace. Needs CAP_NET_RAW
  // there (EPERM otherwise, said so in the error). A kernel or namespace
  // without IPv6 (EAFNOSUPPORT) leaves only IPv4: has_ipv6() tells.
  static Result<RawSender> open(const SocketMaker& maker = SocketMaker::here());

  bool has_ipv6() const { return v6_.valid(); }

  // Sends `packet` (its header's destination must be `dst`) and returns once
  // the kernel took it. `scope_id`: the interface of an IPv6 link-local
  // destination, else 0. Blocks while the socket's send buffer is full.
  Status send(const Packet& packet, const IpAddress& dst, uint32_t scope_id = 0);

  // Builds `segment` and sends it to its flow's destination. `interface`
  // (a socket's bound or incoming interface) scopes an IPv6 link-local
  // destination and is ignored for any other.
  Status send_segment(const TcpSegment& segment, uint32_t interface);

 private:
  RawSender(UniqueFd v4, UniqueFd v6) : v4_(std::move(v4)), v6_(std::move(v6)) {}
  UniqueFd v4_;
  UniqueFd v6_;
};

}  // namespace tcpreap
