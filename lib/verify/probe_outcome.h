#pragma once
// What probing one socket's peer gave (see liveness_prober.h).

#include <chrono>
#include <cstdint>
#include <string>

namespace tcpreap {

enum class ProbeResult : uint8_t {
  kSent,            // learnt the sequence numbers and sent the probe; no answer seen
                    // in the watch window (the following scans may still see one)
  kAnswered,        // the peer ACKed the probe: it is alive
  kPeerReset,       // the peer answered RST: it has lost the connection (rebooted),
                    // and the kernel closed the local socket on that RST
  kGone,            // the local socket was gone before a probe could be sent
  kNotEstablished,  // a listener, not an established socket, holds the 4-tuple
  kNoAnswer,        // the local socket answered no SYN: sequence numbers unknown, no probe sent
  kFailed,          // refused (state), or a send or the capture failed; `detail` says which
};
// "sent", "answered", "peer-reset", "gone", "not-established", "no-answer", "failed"
const char* probe_result_name(ProbeResult r);

// Whether a probe reached the wire (the peer may have seen it).
inline bool probe_was_sent(ProbeResult r) {
  return r == ProbeResult::kSent || r == ProbeResult::kAnswered || r == ProbeResult::kPeerReset;
}

struct ProbeOutcome {
  ProbeResult result = ProbeResult::kFailed;
  int errnum = 0;
  std::string detail;
  // When the probe left (probe_was_sent()): the next one is spaced from here.
  std::chrono::steady_clock::time_point sent_at{};
};

// Probing tallied over many sockets and scans: the decision engine keeps
// it (decide/decision_engine.h) and the daemon's metrics export it
// (metrics/daemon_metrics.h), which may not include decide/ - so it is
// defined here, with the outcomes it counts, where both can see it.
struct ProbeCounters {
  uint64_t sent = 0;        // probes that reached the wire
  uint64_t answered = 0;    // ...that the peer ACKed (seen directly, or by a scan)
  uint64_t unanswered = 0;  // ...whose interval passed with nothing received
  uint64_t peer_reset = 0;  // ...that the peer answered with RST
  uint64_t failed = 0;      // attempts that sent no probe (no challenge ACK, refused, error)
  bool operator==(const ProbeCounters&) const = default;
};

}  // namespace tcpreap
