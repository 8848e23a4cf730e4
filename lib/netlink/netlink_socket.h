#pragma once
// An open, bound netlink socket (libmnl), closed when the object dies.

#include <memory>

#include "netlink/netlink_transport.h"
#include "netns/socket_maker.h"

struct mnl_socket;

namespace tcpreap {

class NetlinkSocket final : public NetlinkTransport {
 public:
  // Opens and binds a socket of `bus` (NETLINK_SOCK_DIAG, ...) in the
  // maker's network namespace, which it keeps for life.
  static Result<NetlinkSocket> open(int bus, const SocketMaker& maker = SocketMaker::here());

  NetlinkSocket(NetlinkSocket&&) noexcept = default;
  NetlinkSocket& operator=(NetlinkSocket&&) noexcept = default;

  uint32_t portid() const override;
  Status send(std::span<const uint8_t> messages) override;
  Result<size_t> receive(std::span<uint8_t> buffer) override;
  int fd() const;

 private:
  struct Close {
    void operator()(mnl_socket* s) const;
  };
  explicit NetlinkSocket(mnl_socket* s) : socket_(s) {}
  std::unique_ptr<mnl_socket, Close> socket_;
};

}  // namespace tcpreap
