#include "wire/neighbour_pins.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <algorithm>

namespace tcpreap {

namespace {

// The states a pin may be in while it is ours: created STALE, it is DELAY
// once a packet used it (the add itself sends what an INCOMPLETE entry had
// queued), PROBE 5 s later.
constexpr uint16_t kPinStates = NUD_STALE | NUD_DELAY | NUD_PROBE;

bool holds_pin(const NeighbourInfo& n, const std::vector<uint8_t>& null_lladdr) {
  return n.state && (*n.state & kPinStates) && n.lladdr == null_lladdr;
}

}  // namespace

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
  if (auto s = rtnl_->add_neighbour(route->oif, target, null_lladdr, NUD_STALE, kNeighbourPinProtocol); !s) {
    note = "neighbour " + where + " is " + nud_state_name(before->state) +
           "; pinning it failed: " + s.error().message();
    return std::nullopt;
  }
  // Ours only if it now holds our address: a valid entry that appeared
  // in between kept its own, and is not ours to delete.
  auto after = rtnl_->neighbour(route->oif, target);
  if (!after || !holds_pin(*after, null_lladdr)) {
    note = "neighbour " + where + " changed while being pinned; left alone";
    return std::nullopt;
  }
  Pin pin{route->oif, target, null_lladdr, 1,
          "neighbour " + where + " was " + nud_state_name(before->state) +
              ": pinned it (STALE, null link-layer address) for the answer"};
  note = pin.what;
  pins_.push_back(std::move(pin));
  return pins_.size() - 1;
}

void NeighbourPins::release(size_t i) {
  if (i < pins_.size() && pins_[i].users > 0 && --pins_[i].users == 0) drop(i);
}

void NeighbourPins::drop(size_t i) {
  Pin& p = pins_[i];
  p.users = 0;
  auto now = rtnl_->neighbour(p.ifindex, p.addr);
  if (!now) {
    errors_ += (errors_.empty() ? "" : "; ") + now.error().message();
    return;
  }
  // Healed by the neighbour (its own address) or reverted (FAILED, or a
  // new resolution under way): the kernel's now, not ours to delete.
  if (!holds_pin(*now, p.lladdr)) return;
  if (auto s = rtnl_->remove(p.ifindex, p.addr); !s)
    errors_ += (errors_.empty() ? "" : "; ") + s.error().message();
}

bool is_pin(const NeighbourEntry& e) {
  return e.protocol == kNeighbourPinProtocol && e.lladdr && !e.lladdr->empty() &&
         std::all_of(e.lladdr->begin(), e.lladdr->end(), [](uint8_t b) { return b == 0; });
}

std::string PinSweep::note() const {
  std::string out;
  if (removed > 0)
    out = "removed " + std::to_string(removed) + " neighbour entr" + (removed == 1 ? "y" : "ies") +
          " pinned by another tcpreap process (protocol " + std::to_string(kNeighbourPinProtocol) +
          ", null link-layer address): left by one that died, or held by one running now, whose current "
          "challenge then goes unanswered";
  if (!errors.empty())
    out += (out.empty() ? "" : "; ") +
           std::string("removing neighbour entries left by another tcpreap process failed: ") + errors;
  return out;
}

PinSweep sweep_left_pins(RouteNetlink& rtnl) {
  PinSweep sweep;
  auto fail = [&](const Error& e) { sweep.errors += (sweep.errors.empty() ? "" : "; ") + e.message(); };
  for (Family family : {Family::kIPv4, Family::kIPv6}) {
    auto entries = rtnl.neighbours(family);
    if (!entries) {
      fail(entries.error());
      continue;
    }
    for (const NeighbourEntry& e : *entries) {
      if (!is_pin(e)) continue;
      if (auto s = rtnl.remove(e.ifindex, e.addr); s)
        ++sweep.removed;
      else
        fail(s.error());
    }
  }
  return sweep;
}

}  // namespace tcpreap
