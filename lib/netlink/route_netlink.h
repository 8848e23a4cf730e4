#pragma once
// A small synchronous NETLINK_ROUTE client (libmnl): the route to a peer,
// an interface, and neighbour entries - what RST injection needs to handle a
// dead on-link peer whose neighbour entry failed. Not thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "core/error.h"
#include "net/ip_address.h"
#include "netlink/netlink_socket.h"

namespace tcpreap {

// Neighbour states (include/uapi/linux/neighbour.h) in which a packet to the
// neighbour is queued for resolution instead of reaching the device: the
// entry is missing (NUD_NONE), resolving (INCOMPLETE) or failed (FAILED:
// the next packet starts a new resolution and is queued).
bool neighbour_unresolved(std::optional<uint16_t> state);
// "REACHABLE", "FAILED|..." ; "absent" for no entry.
std::string nud_state_name(std::optional<uint16_t> state);

struct RouteInfo {
  uint8_t type = RTN_UNSPEC;
  uint32_t oif = 0;
  std::optional<IpAddress> gateway;
  bool foreign_gateway = false;  // RTA_VIA: a gateway of the other family
};

struct NeighbourInfo {
  std::optional<uint16_t> state;  // absent: no entry
  std::vector<uint8_t> lladdr;
};

struct LinkInfo {
  std::string name;
  uint32_t flags = 0;
  size_t addr_len = 0;
};

class RouteNetlink {
 public:
  explicit RouteNetlink(NetlinkSocket socket);

  // The route the kernel would use to reach `dst` from `src`.
  Result<RouteInfo> route_to(const IpAddress& dst, const IpAddress& src);
  // The neighbour entry of `addr` on interface `ifindex` (RTM_GETNEIGH
  // without a dump: Linux 5.0+); no state when there is none.
  Result<NeighbourInfo> neighbour(uint32_t ifindex, const IpAddress& addr);
  Result<LinkInfo> link(uint32_t ifindex);
  // Creates `addr` -> `lladdr` as NUD_PERMANENT, never replacing a valid
  // entry (see the definition).
  Status add_permanent(uint32_t ifindex, const IpAddress& addr, const std::vector<uint8_t>& lladdr);
  // Deletes the entry; one already gone is fine.
  Status remove(uint32_t ifindex, const IpAddress& addr);

 private:
  // Requests are small; replies are one message (a link without its
  // statistics is a few KiB).
  static constexpr size_t kBufferSize = 32 * 1024;

  nlmsghdr* start(uint16_t type, uint16_t flags);
  Status transact(nlmsghdr* nlh, mnl_cb_t cb, void* data);

  NetlinkSocket socket_;
  std::array<uint8_t, 512> request_{};
  std::vector<uint8_t> buffer_;
  uint32_t seq_ = 0;
};

}  // namespace tcpreap
