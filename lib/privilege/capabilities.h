#pragma once
// The capabilities tcpreap uses, and dropping every other one.
//
// tcpreap needs two: CAP_NET_ADMIN (SOCK_DESTROY; pinning a neighbour entry
// so that a probe or RST to a vanished on-link peer leaves) and CAP_NET_RAW
// (the raw sockets of probes and RST injection, the AF_PACKET capture of
// their answers). Run as root, or as any user holding just those two, the
// daemon keeps them and gives up the rest before it starts a thread.

#include <cstdint>
#include <string>

#include "core/error.h"

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

// The calling thread's sets, read from the kernel.
Result<CapabilitySets> read_capability_sets();

// What `now` should become: only CAP_NET_ADMIN and CAP_NET_RAW, each where
// it already is (nothing is gained), raised to effective where permitted.
// The bounding set shrinks only when `now` may (CAP_SETPCAP effective or
// permitted); otherwise it stays, and no_new_privs guards it.
CapabilitySets capability_target(const CapabilitySets& now);

struct CapabilityDrop {
  CapabilitySets before;
  CapabilitySets after;
  bool has(int cap) const { return (after.effective >> cap) & 1; }
  // Capabilities in any set before and in none after.
  int dropped() const;
  // "CAP_NET_ADMIN and CAP_NET_RAW held; 39 others dropped", or which of
  // the two is missing.
  std::string summary() const;
};

// Drops every capability but the two, sets no_new_privs (nothing tcpreap
// runs may gain privileges), and reads the result back. Process-wide only
// when called before any thread starts: capabilities are per thread, and
// threads inherit them. Calls capset only when something is to be dropped,
// so that it works under a unit whose SystemCallFilter= refuses capset and
// that already grants exactly the two.
Result<CapabilityDrop> drop_capabilities();

// "CAP_NET_ADMIN", or "cap_N" for a number libcap does not name.
std::string capability_name(int cap);

}  // namespace tcpreap
