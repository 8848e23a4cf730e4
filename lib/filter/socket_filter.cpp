#include "filter/socket_filter.h"

#include <algorithm>

namespace tcpreap {

bool Condition::matches(const TcpSocket& s) const {
  switch (kind) {
    case Kind::kLocalPort:
      return ports.contains(s.local_port);
    case Kind::kRemotePort:
      return ports.contains(s.remote_port);
    case Kind::kLocalPrefix:
      return prefix.contains(s.local);
    case Kind::kRemotePrefix:
      return prefix.contains(s.remote);
  }
  return false;
}

bool SocketFilter::matches(const TcpSocket& s) const {
  if (!wants(s.family)) return false;
  if (!states.contains_reported(s.state)) return false;
  auto holds = [&](const Clause& clause) {
    return std::all_of(clause.begin(), clause.end(), [&](const AnyOf& group) {
      return std::any_of(group.begin(), group.end(), [&](const Condition& c) { return c.matches(s); });
    });
  };
  return holds(all_of) && (any_clause.empty() || std::any_of(any_clause.begin(), any_clause.end(), holds));
}

}  // namespace tcpreap
