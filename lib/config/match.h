#pragma once
// Which sockets a policy or a protect rule selects: the user-space predicate,
// its kernel-filter groups, and whether one selection covers another.

#include <vector>

#include "filter/socket_filter.h"
#include "net/ip_address.h"
#include "net/port_range.h"
#include "net/tcp_socket.h"
#include "net/tcp_state.h"

namespace tcpreap {

// Which sockets a policy or a protect rule is about. Every non-empty list
// must hold (one of its items does); an empty list means any.
struct Match {
  std::vector<PortRange> local_ports;
  std::vector<PortRange> remote_ports;
  std::vector<PortRange> ports;  // at either end
  std::vector<Cidr> local;       // local address prefixes
  std::vector<Cidr> remote;      // remote address prefixes
  StateSet states;

  // Exactly what a SocketFilter of `states` and to_groups() decides for a
  // socket of either family, through the same Condition::matches; allocates
  // nothing (it runs per socket per scan).
  bool matches(const TcpSocket& s) const;
  // The port and prefix lists as kernel-filter groups, one per non-empty
  // list, in field order (states aside: they go in the dump's state mask).
  std::vector<AnyOf> to_groups() const;
  // Whether every socket this match selects is also selected by `other`
  // (used to find policies that can never decide).
  bool is_covered_by(const Match& other) const;
  bool operator==(const Match&) const = default;
};

}  // namespace tcpreap
