#include "wire/packet_resources.h"

#include "netlink/netlink_socket.h"

namespace tcpreap {

Result<PacketResources> PacketResources::open() {
  auto capture = PacketCapture::open();
  if (!capture) return capture.error();
  auto sender = RawSender::open();
  if (!sender) return sender.error();
  PacketResources res(std::move(*capture), std::move(*sender));
  if (auto rt = NetlinkSocket::open(NETLINK_ROUTE); rt) {
    res.rtnl_.emplace(std::move(*rt));
    res.open_note_ = sweep_left_pins(*res.rtnl_).note();
  } else {
    res.rtnl_error_ = rt.error().message();
  }
  return res;
}

}  // namespace tcpreap
