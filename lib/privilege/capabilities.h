#pragma once
// The capabilities tcpreap uses, and dropping every other one.
//
// tcpreap needs two: CAP_NET_ADMIN (SOCK_DESTROY; pinning a neighbour entry
// so that a probe or RST to a vanished on-link peer leaves) and CAP_NET_RAW
// (the raw sockets of probes and RST injection, the AF_PACKET capture of
// their answers). Run as root, or as any user holding just those two, the
// daemon keeps them and gives up the rest before it starts a thread.

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"
#include "privilege/user_identity.h"

namespace tcpreap {

// One bit per capability number (1 << CAP_NET_ADMIN, ...), for each set of
// the calling thread.
struct CapabilitySets {
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
  uint64_t ambient = 0;
  uint64_t bounding = 0;

  bool operator==(const CapabilitySets&) const = default;
};

// CAP_NET_ADMIN | CAP_NET_RAW.
uint64_t network_capabilities();
// CAP_SYS_ADMIN | CAP_SYS_PTRACE: what namespaces.scan: all takes besides -
// setns() into another network namespace, and opening another user's
// /proc/PID/ns/net (netns/namespace_sockets.h, netns/netns_discovery.h).
uint64_t namespace_capabilities();

// The calling thread's sets, read from the kernel.
Result<CapabilitySets> read_capability_sets();

// What `now` should become: only the capabilities of `keep` (a subset of
// network_capabilities() | namespace_capabilities()), each where it already is (nothing is gained),
// raised to effective where permitted. The bounding set shrinks only when
// `now` may (CAP_SETPCAP effective or permitted); otherwise it stays, and
// no_new_privs guards it.
CapabilitySets capability_target(const CapabilitySets& now, uint64_t keep = network_capabilities());

struct CapabilityDrop {
  CapabilitySets before;
  CapabilitySets after;
  // The user switched to (drop_capabilities' `become`), if any.
  std::optional<UserIdentity> user;
  bool has(int cap) const { return (after.effective >> cap) & 1; }
  // Capabilities in any set before and in none after.
  int dropped() const;
  // "CAP_NET_ADMIN and CAP_NET_RAW held; 39 others dropped", or which of
  // the two is missing; CAP_SYS_ADMIN and CAP_SYS_PTRACE named when held.
  std::string summary() const;
};

// Drops every capability but those of `keep`, sets no_new_privs (nothing
// tcpreap runs may gain privileges), and reads the result back.
//
// With `become`, and only when the process runs as root (any of its uids
// 0), it first becomes that user: no supplementary groups, the user's uid
// and primary gid as real, effective and saved ids, keeping the
// capabilities of `keep` it had (libcap's cap_setgroups/cap_setuid; needs
// CAP_SETGID and CAP_SETUID, which are dropped with the rest). A process
// that is not root keeps its ids: under systemd's DynamicUser= nothing
// changes. Becoming root (uid 0) is refused: say nothing instead.
//
// Process-wide only when called before any thread starts: ids and
// capabilities are per thread, and threads inherit them. Calls capset only
// when something is to be dropped, so that it works under a unit whose
// SystemCallFilter= refuses capset and that already grants exactly the two.
Result<CapabilityDrop> drop_capabilities(uint64_t keep = network_capabilities(),
                                         const std::optional<UserIdentity>& become = std::nullopt);

// "CAP_NET_ADMIN", or "cap_N" for a number libcap does not name.
std::string capability_name(int cap);

}  // namespace tcpreap
