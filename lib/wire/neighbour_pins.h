#pragma once
// Temporary neighbour entries, so that a segment to an unreachable on-link
// peer still reaches a device (and the capture). An on-link peer whose
// neighbour entry is unresolved (absent, INCOMPLETE or FAILED) swallows
// every segment to it before any device sees it - a challenge ACK included.
// A NUD_PERMANENT entry with a null link-layer address lets such segments
// out (to nobody), and is deleted as soon as no socket needs it.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "net/ip_address.h"
#include "netlink/route_netlink.h"

namespace tcpreap {

// The entries one piece of work made, each shared by the sockets whose peer
// it serves; deleted when the last of them releases it and, in any case,
// when the NeighbourPins goes. A valid entry is never replaced.
class NeighbourPins {
 public:
  // `rtnl` may be null (no route netlink socket): `why_not` says why.
  NeighbourPins(RouteNetlink* rtnl, std::string why_not) : rtnl_(rtnl), why_not_(std::move(why_not)) {}
  NeighbourPins(const NeighbourPins&) = delete;
  NeighbourPins& operator=(const NeighbourPins&) = delete;
  ~NeighbourPins();

  // Pins the neighbour through which `local` reaches `peer` if it is
  // unresolved (needs CAP_NET_ADMIN). Returns the pin to release later, or
  // nothing (not needed, not possible); `note` says what was found or done.
  std::optional<size_t> acquire(const IpAddress& peer, const IpAddress& local, std::string& note);
  void release(size_t pin);

  // Deletion failures, for the record ("" when none).
  const std::string& errors() const { return errors_; }

 private:
  struct Pin {
    uint32_t ifindex;
    IpAddress addr;
    int users;
    std::string what;
  };
  void drop(size_t i);

  RouteNetlink* rtnl_;
  std::string why_not_;
  std::vector<Pin> pins_;
  std::string errors_;
};

}  // namespace tcpreap
