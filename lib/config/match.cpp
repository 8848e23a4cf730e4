#include "config/match.h"

#include <algorithm>

namespace tcpreap {

namespace {

bool any_port(const std::vector<PortRange>& ranges, uint16_t port) {
  return std::any_of(ranges.begin(), ranges.end(), [&](const PortRange& r) { return r.contains(port); });
}

bool any_prefix(const std::vector<Cidr>& prefixes, const IpAddress& a) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const Cidr& c) { return c.contains(a); });
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

bool Match::matches(const TcpSocket& s) const {
  if (!states.contains_reported(s.state)) return false;
  if (!local_ports.empty() && !any_port(local_ports, s.local_port)) return false;
  if (!remote_ports.empty() && !any_port(remote_ports, s.remote_port)) return false;
  if (!ports.empty() && !any_port(ports, s.local_port) && !any_port(ports, s.remote_port)) return false;
  if (!local.empty() && !any_prefix(local, s.local)) return false;
  if (!remote.empty() && !any_prefix(remote, s.remote)) return false;
  return true;
}

std::vector<AnyOf> Match::to_groups() const {
  std::vector<AnyOf> groups;
  auto add = [&](auto&& fill) {
    AnyOf g;
    fill(g);
    if (!g.empty()) groups.push_back(std::move(g));
  };
  add([&](AnyOf& g) { for (const auto& r : local_ports) g.push_back(Condition::local_port(r)); });
  add([&](AnyOf& g) { for (const auto& r : remote_ports) g.push_back(Condition::remote_port(r)); });
  add([&](AnyOf& g) {
    for (const auto& r : ports) {
      g.push_back(Condition::local_port(r));
      g.push_back(Condition::remote_port(r));
    }
  });
  add([&](AnyOf& g) { for (const auto& c : local) g.push_back(Condition::local_prefix(c)); });
  add([&](AnyOf& g) { for (const auto& c : remote) g.push_back(Condition::remote_prefix(c)); });
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
