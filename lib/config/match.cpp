#include "config/match.h"

#include <algorithm>

namespace tcpreap {

namespace {

// A match's groups, in order: one per non-empty list, each item of it giving
// its conditions (an item of `ports` gives two: either end). The kernel
// filter (to_groups) and the user-space predicate (matches) are both read
// from this one description, so the two cannot drift apart.
//
// Calls group(list, conditions_of) for each non-empty list, in order, until
// one returns false; conditions_of(item, each) calls each(condition) for
// each condition of an item until one returns true, and says whether one did.
template <typename Group>
bool for_each_group(const Match& m, Group&& group) {
  const auto local_port = [](const PortRange& r, auto&& each) { return each(Condition::local_port(r)); };
  const auto remote_port = [](const PortRange& r, auto&& each) { return each(Condition::remote_port(r)); };
  const auto either_port = [](const PortRange& r, auto&& each) {
    return each(Condition::local_port(r)) || each(Condition::remote_port(r));
  };
  const auto local_prefix = [](const Cidr& c, auto&& each) { return each(Condition::local_prefix(c)); };
  const auto remote_prefix = [](const Cidr& c, auto&& each) { return each(Condition::remote_prefix(c)); };
  const auto visit = [&](const auto& list, const auto& conditions_of) {
    return list.empty() || group(list, conditions_of);
  };
  return visit(m.local_ports, local_port) && visit(m.remote_ports, remote_port) && visit(m.ports, either_port) &&
         visit(m.local, local_prefix) && visit(m.remote, remote_prefix);
}

// Whether the union of `outer` contains every port of every range in `inner`.
bool ports_cover(const std::vector<PortRange>& outer, const std::vector<PortRange>& inner) {
  std::vector<PortRange> sorted = outer;
  std::sort(sorted.begin(), sorted.end(), [](const PortRange& a, const PortRange& b) { return a.first < b.first; });
  for (const PortRange& want : inner) {
    uint32_t next = want.first;  // the first port not yet covered
    for (const PortRange& r : sorted) {
      if (r.first > next) break;
      if (r.last >= next) next = static_cast<uint32_t>(r.last) + 1;
      if (next > want.last) break;
    }
    if (next <= want.last) return false;
  }
  return true;
}

// Whether every prefix of `inner` lies inside one prefix of `outer`.
bool prefixes_cover(const std::vector<Cidr>& outer, const std::vector<Cidr>& inner) {
  return std::all_of(inner.begin(), inner.end(), [&](const Cidr& in) {
    return std::any_of(outer.begin(), outer.end(), [&](const Cidr& out) {
      return out.address.family == in.address.family && out.prefix_len <= in.prefix_len && out.contains(in.address);
    });
  });
}

}  // namespace

// Runs per socket per scan: conditions are built on the stack, nothing is
// allocated.
bool Match::matches(const TcpSocket& s) const {
  if (!states.contains_reported(s.state)) return false;
  const auto holds = [&](const Condition& c) { return c.matches(s); };
  return for_each_group(*this, [&](const auto& list, const auto& conditions_of) {
    return std::any_of(list.begin(), list.end(), [&](const auto& item) { return conditions_of(item, holds); });
  });
}

std::vector<AnyOf> Match::to_groups() const {
  std::vector<AnyOf> groups;
  for_each_group(*this, [&](const auto& list, const auto& conditions_of) {
    AnyOf& g = groups.emplace_back();
    for (const auto& item : list) {
      conditions_of(item, [&](const Condition& c) {
        g.push_back(c);
        return false;  // every condition of the item
      });
    }
    return true;
  });
  return groups;
}

// Conservative: true only when coverage follows list by list. A `false`
// may still hide coverage (say, through v4-mapped prefixes); it never
// claims coverage that is not there.
bool Match::is_covered_by(const Match& other) const {
  if ((states.kernel_mask() & ~other.states.kernel_mask()) != 0) return false;
  if (!other.local_ports.empty() && (local_ports.empty() || !ports_cover(other.local_ports, local_ports))) return false;
  if (!other.remote_ports.empty() && (remote_ports.empty() || !ports_cover(other.remote_ports, remote_ports)))
    return false;
  if (!other.ports.empty()) {
    // Either end in other.ports: enough if one of our own port lists lies inside it.
    const bool covered = (!local_ports.empty() && ports_cover(other.ports, local_ports)) ||
                         (!remote_ports.empty() && ports_cover(other.ports, remote_ports)) ||
                         (!ports.empty() && ports_cover(other.ports, ports));
    if (!covered) return false;
  }
  if (!other.local.empty() && (local.empty() || !prefixes_cover(other.local, local))) return false;
  if (!other.remote.empty() && (remote.empty() || !prefixes_cover(other.remote, remote))) return false;
  return true;
}

}  // namespace tcpreap
