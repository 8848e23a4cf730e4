#include "reap/reap_outcome.h"

namespace tcpreap {

const char* reap_result_name(ReapResult r) {
  switch (r) {
    case ReapResult::kDone: return "done";
    case ReapResult::kAlreadyGone: return "already-gone";
    case ReapResult::kUnsupported: return "unsupported";
    case ReapResult::kNotPermitted: return "not-permitted";
    case ReapResult::kNotEstablished: return "not-established";
    case ReapResult::kNoAnswer: return "no-answer";
    case ReapResult::kFailed: return "failed";
  }
  return "?";
}

const char* reap_via_name(ReapVia v) { return v == ReapVia::kDestroy ? "destroy" : "rst"; }

}  // namespace tcpreap
