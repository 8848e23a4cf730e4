#pragma once
// What the decision engine says about one socket, and why.

#include <cstdint>

#include "config/config.h"

namespace tcpreap {

enum class Verdict : uint8_t {
  kOutOfScope,  // no policy matches it
  kProtected,   // a policy matches, but a protect rule forbids touching it
  kAlive,       // in scope, and nothing says it is dead
  kSuspect,     // looks dead, on fewer consecutive scans than the policy's confirm
  kVerifying,   // silent on `confirm` scans, and the policy verifies: its peer is being probed
  kDead,        // looks dead on `confirm` consecutive scans (and, if verified, no probe was answered): to be reaped
};
// "out-of-scope", "protected", "alive", "suspect", "verifying", "dead"
const char* verdict_name(Verdict v);

enum class DeadReason : uint8_t {
  kNone,
  kSilent,        // nothing received for dead_when.silent_for
  kUnacked,       // data or zero-window probes outstanding, no ACK for dead_when.unacked_for
  kStateTimeout,  // in a state for longer than dead_when.in_state_for allows
  kPerPeerLimit,  // one of the longest-silent connections of a peer over per_peer_limit.max
};
const char* reason_name(DeadReason r);  // "", "silent", "unacked", "state-timeout", "per-peer-limit"

// The figures a verdict was drawn from (milliseconds unless named).
struct Figures {
  uint32_t last_recv_ms = 0;      // since anything (data or ACK) arrived
  uint32_t unacked_for_ms = 0;    // lower bound of the time data/probes went unacknowledged; 0: nothing outstanding
  uint32_t in_state_ms = 0;       // lower bound of the time in the current state
  uint32_t unacked = 0;
  uint8_t retransmits = 0;
  uint8_t backoff = 0;
  uint8_t probes = 0;
  uint32_t peer_connections = 0;  // the policy's connections to this remote address (per-peer limit)
  bool operator==(const Figures&) const = default;
};

// Where the liveness check of a socket stands (policy `verify`). All zero
// when its policy does not verify or it is not silent.
struct ProbeState {
  uint8_t wanted = 0;          // the policy's verify.probes; 0: no verification
  uint8_t sent = 0;            // probes sent since the socket last looked alive
  uint8_t failures = 0;        // consecutive attempts that could not send a probe
  bool due = false;            // a probe should go out now (verdict verifying)
  uint32_t since_last_ms = 0;  // since the last probe (or failed attempt); 0 when none
  bool deferred = false;       // due, but verify.max_per_scan was reached: due again next turn
  bool operator==(const ProbeState&) const = default;
};

struct Decision {
  Verdict verdict = Verdict::kOutOfScope;
  int policy = -1;  // index into Config::policies; -1 when out of scope
  DeadReason reason = DeadReason::kNone;  // set for suspect and dead
  Duration threshold{};                   // the configured limit the figures crossed
  Figures figures;
  uint32_t dead_scans = 0;  // consecutive scans it looked dead, this one included
  uint32_t confirm = 1;     // scans needed
  bool held_back = false;   // dead, but a cap (max_per_scan, reap.max_per_minute) kept it for a later scan
  ProbeState probe;         // verifying, and dead after verification
  bool operator==(const Decision&) const = default;
};

}  // namespace tcpreap
