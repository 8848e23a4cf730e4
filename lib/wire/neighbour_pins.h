#pragma once
// Temporary neighbour entries ("pins"), so that a segment to an unreachable
// on-link peer still reaches a device (and the capture). An on-link peer
// whose neighbour entry is unresolved (absent, INCOMPLETE or FAILED)
// swallows every segment to it before any device sees it - a challenge ACK
// included. A pin is a NUD_STALE entry with a null link-layer address,
// marked with kNeighbourPinProtocol: a STALE entry lets a packet out at once
// to its cached address (__neigh_event_send()), so the segments leave - to
// nobody. The process deletes its pins as soon as no socket needs them.
//
// Nothing outlives the process. If it dies holding a pin (SIGKILL, the OOM
// killer, a watchdog abort), the entry reverts by itself, because STALE is
// a state the kernel leaves on its own:
//  - once used (by the challenge ACK, or by any packet of the host to that
//    neighbour) it is DELAY; delay_first_probe_time (5 s) later PROBE; its
//    unicast solicitations to the null address go unanswered, and
//    ucast_probes x retrans_time (3 x 1 s) later it is FAILED: unresolved
//    as it was before, and resolved afresh by the next packet
//    (neigh_timer_handler()). Measured on Linux 6.18, IPv4 and IPv6:
//    FAILED 8.5-9 s after the first use;
//  - an ARP or ND message from the neighbour overrides it at once (a STALE
//    entry is no NUD_PERMANENT one, which only an administrator changes);
//  - not used yet, it stays STALE until one of those happens, until the
//    next tcpreap opens in this namespace (sweep_left_pins()), or until
//    garbage collection (only above gc_thresh1 entries).
// Worst case: once, the host's traffic to that neighbour - unreachable when
// it was pinned - goes to the null address for those ~9 s (delay_first_
// probe_time + ucast_probes x retrans_time). What may stay for good is
// harmless: a FAILED entry with our marker, or one the neighbour healed
// (its own address, our marker); the sweep leaves both alone.
//
// Why STALE: NUD_PERMANENT (what tcpreap used before) stays until deleted -
// a SIGKILL left the peer unreachable for good. An entry created in
// NUD_PROBE (or DELAY) reverts even unused, but after only ucast_probes x
// retrans_time from its creation (3 s; 0.6 s with retrans_time_ms=200),
// which a learn call (up to attempts x retry_after = 2.4 s) may outlast.
// STALE is usable until first used, then for the ~9 s above.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/ip_address.h"
#include "netlink/route_netlink.h"

namespace tcpreap {

// NDA_PROTOCOL of every pin: says "tcpreap made this". 231 is no RTPROT_*
// of include/uapi/linux/rtnetlink.h, not in iproute2's rt_protos, and not
// taken by the routing daemons we know of (FRR 186-198, Calico 80). The
// protocol alone proves nothing: the kernel also stamps it on an entry our
// add left unchanged (see RouteNetlink::add_neighbour), so a pin is this
// protocol AND a null link-layer address.
inline constexpr uint8_t kNeighbourPinProtocol = 231;

// The entries one piece of work made, each shared by the sockets whose peer
// it serves; deleted when the last of them releases it and, in any case,
// when the NeighbourPins goes. A valid entry is never replaced.
class NeighbourPins {
 public:
  // `rtnl` may be null (no route netlink socket): `why_not` says why.
  NeighbourPins(RouteNetlink* rtnl, std::string why_not) : rtnl_(rtnl), why_not_(std::move(why_not)) {}
  NeighbourPins(const NeighbourPins&) = delete;
  NeighbourPins& operator=(const NeighbourPins&) = delete;
  ~NeighbourPins();

  // Pins the neighbour through which `local` reaches `peer` if it is
  // unresolved (needs CAP_NET_ADMIN). Returns the pin to release later, or
  // nothing (not needed, not possible, or the entry is not ours after the
  // add: a valid one appeared meanwhile); `note` says what was found or
  // done. A pin shared with earlier sockets is not looked at again.
  std::optional<size_t> acquire(const IpAddress& peer, const IpAddress& local, std::string& note);
  // Deletes the entry when its last user releases it - if it still holds
  // the null address: one a neighbour's ARP or ND healed meanwhile, or one
  // that reverted to FAILED, is left as the kernel has it.
  void release(size_t pin);

  // Deletion failures, for the record ("" when none).
  const std::string& errors() const { return errors_; }

 private:
  struct Pin {
    uint32_t ifindex;
    IpAddress addr;
    std::vector<uint8_t> lladdr;  // the null address, of the link's length
    int users;
    std::string what;
  };
  void drop(size_t i);

  RouteNetlink* rtnl_;
  std::string why_not_;
  std::vector<Pin> pins_;
  std::string errors_;
};

// Whether `e` is a pin: our protocol and a null link-layer address.
bool is_pin(const NeighbourEntry& e);

struct PinSweep {
  size_t removed = 0;
  std::string errors;  // "" when every dump and deletion worked
  // "" when nothing was removed and nothing failed; else a sentence.
  std::string note() const;
};

// Deletes every pin of the namespace of `rtnl` (IPv4 and IPv6, all
// interfaces): those of a process that died holding them, before they
// reverted by themselves. Called when tcpreap opens its packet resources
// (RstInjector::open(), LivenessProber::open()); a failure is a note, not
// a reason not to open.
//
// The trade-off: a second tcpreap starting in the namespace (`tcpreap
// kill` while tcpreapd runs) also deletes the pins the daemon holds at that
// moment. The daemon's challenge ACK then goes unanswered: for a probe a
// failure, which never counts towards reaping; for RST injection a
// kNoAnswer, retried the next turn. (A probe already learnt goes to nobody
// either way.) Safe, never wrong.
PinSweep sweep_left_pins(RouteNetlink& rtnl);

}  // namespace tcpreap
