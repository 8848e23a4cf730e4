#pragma once
// A small synchronous NETLINK_ROUTE client (libmnl): the route to a peer,
// an interface, and neighbour entries - what RST injection needs to handle a
// dead on-link peer whose neighbour entry failed. Not thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "core/error.h"
#include "net/ip_address.h"
#include "netlink/neighbour_dump.h"
#include "netlink/netlink_socket.h"

namespace tcpreap {

// Neighbour states (include/uapi/linux/neighbour.h) in which a packet to the
// neighbour is queued for resolution instead of reaching the device: the
// entry is missing (NUD_NONE), resolving (INCOMPLETE) or failed (FAILED:
// the next packet starts a new resolution and is queued).
bool neighbour_unresolved(std::optional<uint16_t> state);
// "REACHABLE", "FAILED|..." ; "absent" for no entry.
std::string nud_state_name(std::optional<uint16_t> state);
// The states in which the kernel uses the entry's link-layer address (its
// NUD_VALID, which include/uapi does not export).
inline constexpr uint16_t kNudValid = NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY;

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
  // Creates `addr` -> `lladdr` in `state` (NUD_*), marked with `protocol`
  // (NDA_PROTOCOL, Linux 5.2+; 0 = none), never replacing a valid entry
  // (see the definition).
  Status add_neighbour(uint32_t ifindex, const IpAddress& addr, const std::vector<uint8_t>& lladdr, uint16_t state,
                       uint8_t protocol);
  // Deletes the entry; one already gone is fine.
  Status remove(uint32_t ifindex, const IpAddress& addr);
  // Every neighbour entry of one family's table (RTM_GETNEIGH dump), on all
  // interfaces. A dump the table changed under (NLM_F_DUMP_INTR) is done
  // again, a few times at most.
  Result<std::vector<NeighbourEntry>> neighbours(Family family);

 private:
  // Requests are small; a reply is one datagram (a link without its
  // statistics is a few KiB), and so is each part of a dump: the kernel
  // never makes one larger than 32 KiB (netlink_dump(), max_recvmsg_len).
  static constexpr size_t kBufferSize = 32 * 1024;
  static constexpr int kDumpAttempts = 3;

  nlmsghdr* start(uint16_t type, uint16_t flags);
  Status transact(nlmsghdr* nlh, mnl_cb_t cb, void* data);
  // The next datagram answering request `seq`: datagrams left over from an
  // earlier request (a dump abandoned on an error) are read and dropped.
  Result<std::span<const uint8_t>> receive_reply(uint32_t seq);

  NetlinkSocket socket_;
  std::array<uint8_t, 512> request_{};
  std::vector<uint8_t> buffer_;
  uint32_t seq_ = 0;
};

}  // namespace tcpreap
