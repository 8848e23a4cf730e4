#pragma once
// Which sockets a scan wants, as a value: states, families, and a
// conjunction of "any of" groups over ports and address prefixes. The same
// value is compiled to kernel bytecode (bytecode_compiler.h) and evaluated in
// user space (matches); the two must agree.

#include <vector>

#include "net/tcp_socket.h"
#include "net/ip_address.h"
#include "net/port_range.h"
#include "net/tcp_state.h"

namespace tcpreap {

// One condition on one end of a socket.
struct Condition {
  enum class Kind : uint8_t { kLocalPort, kRemotePort, kLocalPrefix, kRemotePrefix };
  Kind kind = Kind::kLocalPort;
  PortRange ports;  // for the port kinds
  Cidr prefix;      // for the prefix kinds

  static Condition local_port(PortRange r) { return {Kind::kLocalPort, r, {}}; }
  static Condition remote_port(PortRange r) { return {Kind::kRemotePort, r, {}}; }
  static Condition local_prefix(Cidr c) { return {Kind::kLocalPrefix, {}, c}; }
  static Condition remote_prefix(Cidr c) { return {Kind::kRemotePrefix, {}, c}; }

  bool matches(const TcpSocket& s) const;
  bool operator==(const Condition&) const = default;
};

// True when at least one of its conditions holds. An empty group never holds.
using AnyOf = std::vector<Condition>;
// True when every one of its groups holds. An empty clause always holds.
using Clause = std::vector<AnyOf>;

struct SocketFilter {
  StateSet states = StateSet::all();
  bool ipv4 = true;
  bool ipv6 = true;
  Clause all_of;                   // every group must hold,
  std::vector<Clause> any_clause;  // and, unless empty, at least one clause

  bool wants(Family f) const { return f == Family::kIPv4 ? ipv4 : ipv6; }
  // The user-space twin of the compiled filter.
  bool matches(const TcpSocket& s) const;
};

}  // namespace tcpreap
