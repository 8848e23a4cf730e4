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
  return std::all_of(all_of.begin(), all_of.end(), [&](const AnyOf& group) {
    return std::any_of(group.begin(), group.end(), [&](const Condition& c) { return c.matches(s); });
  });
}

}  // namespace tcpreap
