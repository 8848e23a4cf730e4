#include "verify/probe_outcome.h"

namespace tcpreap {

const char* probe_result_name(ProbeResult r) {
  switch (r) {
    case ProbeResult::kSent: return "sent";
    case ProbeResult::kAnswered: return "answered";
    case ProbeResult::kPeerReset: return "peer-reset";
    case ProbeResult::kGone: return "gone";
    case ProbeResult::kNotEstablished: return "not-established";
    case ProbeResult::kNoAnswer: return "no-answer";
    case ProbeResult::kFailed: return "failed";
  }
  return "?";
}

}  // namespace tcpreap
