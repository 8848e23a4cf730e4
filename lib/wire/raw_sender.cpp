#include "wire/raw_sender.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace tcpreap {

Result<RawSender> RawSender::open(const SocketMaker& maker) {
  // The maker's error names a missing CAP_NET_RAW.
  auto v4 = maker.make(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (!v4) return v4.error().wrap("opening the raw IPv4 sender");
  auto v6 = maker.make(AF_INET6, SOCK_RAW, IPPROTO_RAW);
  if (!v6 && v6.error().errnum() != EAFNOSUPPORT) return v6.error().wrap("opening the raw IPv6 sender");
  // Raw sockets receive nothing of IPPROTO_RAW, but keep the receive queue
  // empty anyway: nothing here ever reads it.
  int zero = 0;
  (void)::setsockopt(v4->get(), SOL_SOCKET, SO_RCVBUF, &zero, sizeof zero);
  return RawSender(std::move(*v4), v6 ? std::move(*v6) : UniqueFd());
}

Status RawSender::send(const Packet& packet, const IpAddress& dst, uint32_t scope_id) {
  sockaddr_storage ss{};
  socklen_t len;
  int fd;
  if (dst.family == Family::kIPv4) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, dst.bytes.data(), 4);
    std::memcpy(&ss, &sin, sizeof sin);
    len = sizeof sin;
    fd = v4_.get();
  } else {
    if (!v6_) return Error(EAFNOSUPPORT, "sending to " + dst.to_string() + ": no IPv6 in this network namespace");
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    // sin6_port stays 0: for IPPROTO_RAW the header's next header rules.
    std::memcpy(&sin6.sin6_addr, dst.bytes.data(), 16);
    sin6.sin6_scope_id = scope_id;
    std::memcpy(&ss, &sin6, sizeof sin6);
    len = sizeof sin6;
    fd = v6_.get();
  }
  while (true) {
    const ssize_t n = ::sendto(fd, packet.bytes.data(), packet.size, 0, reinterpret_cast<const sockaddr*>(&ss), len);
    if (n >= 0) {
      if (static_cast<size_t>(n) != packet.size)
        return Error(0, "raw send to " + dst.to_string() + " took " + std::to_string(n) + " of " +
                            std::to_string(packet.size) + " bytes");
      return Ok{};
    }
    if (errno == EINTR) continue;
    // EPERM here is usually a firewall OUTPUT rule dropping the packet.
    return Error(errno, "raw send to " + dst.to_string());
  }
}

Status RawSender::send_segment(const TcpSegment& segment, uint32_t interface) {
  auto packet = build_segment(segment);
  if (!packet) return packet.error();
  const IpAddress& dst = segment.flow.dst;
  const bool link_local = dst.family == Family::kIPv6 && dst.bytes[0] == 0xfe && (dst.bytes[1] & 0xc0) == 0x80;
  return send(*packet, dst, link_local ? interface : 0);
}

}  // namespace tcpreap
