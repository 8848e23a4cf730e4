#include "wire/neighbour_pins.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

namespace tcpreap {

NeighbourPins::~NeighbourPins() {
  for (size_t i = 0; i < pins_.size(); ++i)
    if (pins_[i].users > 0) drop(i);
}

std::optional<size_t> NeighbourPins::acquire(const IpAddress& peer, const IpAddress& local, std::string& note) {
  if (!rtnl_) {
    note = "cannot check the neighbour: " + why_not_;
    return std::nullopt;
  }
  auto route = rtnl_->route_to(peer, local);
  if (!route) {
    note = route.error().message();
    return std::nullopt;
  }
  if (route->type != RTN_UNICAST || route->oif == 0) {
    note = "the route to " + peer.to_string() + " is not a unicast route through a device (type " +
           std::to_string(route->type) + "): no neighbour to pin";
    return std::nullopt;
  }
  const IpAddress target = route->gateway.value_or(peer);
  if (route->foreign_gateway || target.family != peer.family) {
    note = "the route to " + peer.to_string() + " has a gateway of another family: not pinned";
    return std::nullopt;
  }
  for (size_t i = 0; i < pins_.size(); ++i) {
    if (pins_[i].users > 0 && pins_[i].ifindex == route->oif && pins_[i].addr == target) {
      ++pins_[i].users;
      note = pins_[i].what;
      return i;
    }
  }
  auto link = rtnl_->link(route->oif);
  if (!link) {
    note = link.error().message();
    return std::nullopt;
  }
  const std::string where = target.to_string() + " on " + link->name;
  auto before = rtnl_->neighbour(route->oif, target);
  if (!before) {
    note = before.error().message();
    return std::nullopt;
  }
  if (!neighbour_unresolved(before->state) || (link->flags & IFF_NOARP) || link->addr_len == 0) {
    note = "neighbour " + where + " is " + nud_state_name(before->state) + ": not the reason, not pinned";
    return std::nullopt;
  }
  const std::vector<uint8_t> null_lladdr(link->addr_len, 0);
  if (auto s = rtnl_->add_permanent(route->oif, target, null_lladdr); !s) {
    note = "neighbour " + where + " is " + nud_state_name(before->state) + "; pinning it failed: " + s.error().message();
    return std::nullopt;
  }
  // Ours only if it now holds our address: a valid entry that appeared
  // in between kept its own, and is not ours to delete.
  auto after = rtnl_->neighbour(route->oif, target);
  if (!after || after->state != NUD_PERMANENT || after->lladdr != null_lladdr) {
    note = "neighbour " + where + " changed while being pinned; left alone";
    return std::nullopt;
  }
  Pin pin{route->oif, target, 1,
          "neighbour " + where + " was " + nud_state_name(before->state) + ": pinned it NUD_PERMANENT for the answer"};
  note = pin.what;
  pins_.push_back(std::move(pin));
  return pins_.size() - 1;
}

void NeighbourPins::release(size_t i) {
  if (i < pins_.size() && pins_[i].users > 0 && --pins_[i].users == 0) drop(i);
}

void NeighbourPins::drop(size_t i) {
  pins_[i].users = 0;
  if (auto s = rtnl_->remove(pins_[i].ifindex, pins_[i].addr); !s)
    errors_ += (errors_.empty() ? "" : "; ") + s.error().message();
}

}  // namespace tcpreap
