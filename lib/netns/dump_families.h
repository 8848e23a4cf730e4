#pragma once
// Which families of a namespace's SOCK_DIAG dump are worth asking for: the
// one place that decides it, for every scan (the daemon's turn and `tcpreap
// reap` through NamespaceTools, `tcpreap list` itself).
//
// Why: a dump walks the whole established hash the namespaces share, ~1.2 us
// per socket of the machine, whatever it lists; IPv4 and IPv6 are a walk
// each (kernel-notes, "Scan cost"). A family whose "inuse" counter reads 0
// (netns/tcp_socket_count.h: sockstat "TCP: inuse", sockstat6 "TCP6: inuse")
// holds no socket such a dump could list - when the dump asks only for states
// inuse counts (in_use_counts()). TIME-WAIT, an orphan's FIN-WAIT-2, request
// sockets (SYN-RECV) and CLOSE are not counted: asking for any of them dumps
// every family. A namespace with neither family in use needs no dump at all.
//
// Every doubt dumps: no counters (not opened), a counter that cannot be read
// or parsed. A kernel without IPv6 (no sockstat6) has no IPv6 socket: its
// IPv6 dump is skipped as one at 0.

#include <optional>

#include "core/error.h"
#include "net/ip_address.h"
#include "net/tcp_state.h"
#include "netns/socket_maker.h"
#include "netns/tcp_socket_count.h"

namespace tcpreap {

// A set of the two families a dump can ask for.
struct DumpFamilies {
  bool ipv4 = true;
  bool ipv6 = true;

  static constexpr DumpFamilies both() { return {true, true}; }
  static constexpr DumpFamilies none() { return {false, false}; }
  bool has(Family f) const { return f == Family::kIPv4 ? ipv4 : ipv6; }
  bool any() const { return ipv4 || ipv6; }
  // The families of this set that `other` lacks.
  DumpFamilies without(DumpFamilies other) const { return {ipv4 && !other.ipv4, ipv6 && !other.ipv6}; }
  // The families in both.
  DumpFamilies operator&(DumpFamilies other) const { return {ipv4 && other.ipv4, ipv6 && other.ipv6}; }
  bool operator==(const DumpFamilies&) const = default;
};

// The rule: with `counts` read just now, which families a dump of `states`
// must be made for. A family is left out only when in_use_counts(states)
// and its count is 0; an Error in `counts` leaves nothing out.
DumpFamilies families_to_dump(StateSet states, const Result<TcpInUse>& counts);

// One namespace's counters, held to apply the rule before each dump.
// Move-only: it holds two descriptors, and with them the namespace (drop it
// with the namespace's other tools). families_to_dump() is thread-safe.
class FamilyDumpGate {
 public:
  // The counters of `maker`'s namespace: TcpSocketCount::open_here() for
  // SocketMaker::here(), open_in() otherwise (CAP_SYS_ADMIN). When they
  // cannot be opened the gate dumps every family: the skip is only an
  // optimisation, never a reason to fail.
  static FamilyDumpGate open(const SocketMaker& maker);
  // A gate on `count`; nullopt: every family is dumped. (Tests feed counts
  // from files: TcpSocketCount::open_files.)
  explicit FamilyDumpGate(std::optional<TcpSocketCount> count) : count_(std::move(count)) {}

  // families_to_dump() on the counters read now; reads nothing when
  // `states` holds a state inuse does not count. No allocation unless a
  // read fails.
  DumpFamilies families_to_dump(StateSet states) const;
  // Whether counters are held (false: every family is always dumped).
  bool counted() const { return count_.has_value(); }

 private:
  std::optional<TcpSocketCount> count_;
};

}  // namespace tcpreap
