#include "netlink/netlink_socket.h"

#include <libmnl/libmnl.h>
#include <sys/socket.h>

#include <cerrno>

namespace tcpreap {

void NetlinkSocket::Close::operator()(mnl_socket* s) const { mnl_socket_close(s); }

Result<NetlinkSocket> NetlinkSocket::open(int bus, const SocketMaker& maker) {
  auto fd = maker.make(AF_NETLINK, SOCK_RAW, bus);
  if (!fd) return fd.error();
  // libmnl only reads the address (getsockname) and wraps the descriptor;
  // from then on mnl_socket_close() closes it.
  mnl_socket* s = mnl_socket_fdopen(fd->get());
  if (!s) return Error(errno, "wrapping netlink socket (bus " + std::to_string(bus) + ") for libmnl");
  (void)fd->release();
  NetlinkSocket owned(s);
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) return Error(errno, "binding netlink socket");
  // Errors then carry only the request's header, not the whole request.
  int one = 1;
  mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &one, sizeof one);  // best effort: 4.3+
  return owned;
}

uint32_t NetlinkSocket::portid() const { return mnl_socket_get_portid(socket_.get()); }

int NetlinkSocket::fd() const { return mnl_socket_get_fd(socket_.get()); }

Status NetlinkSocket::send(std::span<const uint8_t> messages) {
  ssize_t n = mnl_socket_sendto(socket_.get(), messages.data(), messages.size());
  if (n < 0) return Error(errno, "sending netlink request");
  if (static_cast<size_t>(n) != messages.size())
    return Error(0, "netlink request of " + std::to_string(messages.size()) + " bytes sent only " +
                        std::to_string(n));
  return Ok{};
}

Result<size_t> NetlinkSocket::receive(std::span<uint8_t> buffer) {
  while (true) {
    // libmnl turns a datagram cut short by the buffer (MSG_TRUNC) into ENOSPC.
    ssize_t n = mnl_socket_recvfrom(socket_.get(), buffer.data(), buffer.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    return Error(errno, "receiving netlink reply");
  }
}

}  // namespace tcpreap
