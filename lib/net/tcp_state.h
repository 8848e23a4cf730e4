#pragma once
// TCP states with the kernel's numbering (include/net/tcp_states.h) and sets
// of them as inet_diag's idiag_states bitmask.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tcpreap {

enum class TcpState : uint8_t {
  kEstablished = 1,
  kSynSent = 2,
  kSynRecv = 3,
  kFinWait1 = 4,
  kFinWait2 = 5,
  kTimeWait = 6,
  kClose = 7,
  kCloseWait = 8,
  kLastAck = 9,
  kListen = 10,
  kClosing = 11,
  kNewSynRecv = 12,  // a request socket; inet_diag reports it as SYN-RECV
};

// As `ss` prints them: "ESTAB", "SYN-SENT", ... "UNKNOWN" for other values.
const char* state_label(uint8_t kernel_state);

// A set of states, bit n = state n: exactly idiag_states.
class StateSet {
 public:
  constexpr StateSet() = default;
  constexpr explicit StateSet(uint32_t mask) : mask_(mask) {}

  static constexpr StateSet of(TcpState s) { return StateSet(1u << static_cast<unsigned>(s)); }
  // Every state a socket can be dumped in. Never ~0: on 6.8+ that also walks
  // the bind hash for TCP_BOUND_INACTIVE sockets (kernel-notes, "Scan cost").
  static constexpr StateSet all() { return StateSet(0x1ffe); }
  // What `ss` shows without -a: the states of a connection with a peer.
  static StateSet connected();
  // The connected states past the handshake: both ends have agreed on
  // sequence numbers, so the socket answers an out-of-window SYN with a
  // challenge ACK (RFC 5961) and an in-window RST closes it.
  static StateSet synchronized();

  // A comma-separated list of `ss` state filter names: "established",
  // "close-wait,fin-wait-1", or the groups "all", "connected", "synchronized".
  static Result<StateSet> parse_list(std::string_view text);

  constexpr uint32_t mask() const { return mask_; }
  constexpr bool empty() const { return mask_ == 0; }
  bool contains(uint8_t kernel_state) const { return kernel_state < 32 && (mask_ >> kernel_state) & 1; }
  // Whether a dumped socket's state is in the set as the kernel filters:
  // request sockets, selected by TCP_NEW_SYN_RECV, are reported as SYN-RECV.
  bool contains_reported(uint8_t reported_state) const;
  StateSet operator|(StateSet o) const { return StateSet(mask_ | o.mask_); }
  // The mask to send: SYN-RECV also asks for request sockets (TCP_NEW_SYN_RECV).
  uint32_t kernel_mask() const;
  bool operator==(const StateSet&) const = default;

  // The ss(8) filter names parse_list reads back to this set: the group name
  // when it is exactly "all", "connected" or "synchronized", otherwise one
  // name per state in kernel order ("established", "close-wait"). Empty for
  // an empty set.
  std::vector<std::string> names() const;

 private:
  uint32_t mask_ = 0;
};

}  // namespace tcpreap
