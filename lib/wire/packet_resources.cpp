#include "wire/packet_resources.h"

#include "netlink/netlink_socket.h"

namespace tcpreap {

Result<PacketResources> PacketResources::open(const SocketMaker& maker) {
  auto capture = PacketCapture::open(maker);
  if (!capture) return capture.error();
  auto sender = RawSender::open(maker);
  if (!sender) return sender.error();
  PacketResources res(std::move(*capture), std::move(*sender));
  if (auto rt = NetlinkSocket::open(NETLINK_ROUTE, maker); rt) {
    res.rtnl_.emplace(std::move(*rt));
    res.open_note_ = sweep_left_pins(*res.rtnl_).note();
  } else {
    res.rtnl_error_ = rt.error().message();
  }
  return res;
}

}  // namespace tcpreap
