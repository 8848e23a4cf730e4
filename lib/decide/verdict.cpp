#include "decide/verdict.h"

namespace tcpreap {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kOutOfScope: return "out-of-scope";
    case Verdict::kProtected: return "protected";
    case Verdict::kAlive: return "alive";
    case Verdict::kSuspect: return "suspect";
    case Verdict::kVerifying: return "verifying";
    case Verdict::kDead: return "dead";
  }
  return "?";
}

const char* reason_name(DeadReason r) {
  switch (r) {
    case DeadReason::kNone: return "";
    case DeadReason::kSilent: return "silent";
    case DeadReason::kUnacked: return "unacked";
    case DeadReason::kStateTimeout: return "state-timeout";
    case DeadReason::kPerPeerLimit: return "per-peer-limit";
  }
  return "?";
}

}  // namespace tcpreap
