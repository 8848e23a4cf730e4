#pragma once
// What happened when tcpreap acted on one socket. Every action ends in one of
// these, never in silence: `ss -K` exits 0 having done nothing, and users are
// bitten by it.

#include <cstdint>
#include <string>

namespace tcpreap {

enum class ReapResult : uint8_t {
  kDone,            // the socket is gone: destroyed, or reset by an injected RST
  kAlreadyGone,     // it no longer existed (SOCK_DESTROY: ENOENT; RST: no socket answered)
  kUnsupported,     // the kernel cannot (SOCK_DESTROY: EOPNOTSUPP, no CONFIG_INET_DIAG_DESTROY)
  kNotPermitted,    // missing capability (EPERM: CAP_NET_ADMIN for destroy, CAP_NET_RAW for RST)
  kNotEstablished,  // RST: a SYN-ACK answered, no established socket had the 4-tuple (embryo reset)
  kNoAnswer,        // RST: no challenge ACK after every retry (rate limit, dead neighbour, ...)
  kFailed,          // anything else: `errnum` and `detail` say what
};
const char* reap_result_name(ReapResult r);  // "done", "already-gone", "unsupported", ...

enum class ReapVia : uint8_t { kDestroy, kRst };
const char* reap_via_name(ReapVia v);  // "destroy", "rst"

struct ReapOutcome {
  ReapResult result = ReapResult::kFailed;
  ReapVia via = ReapVia::kDestroy;
  int errnum = 0;      // the errno behind the result, when there is one
  std::string detail;  // a few words for the operator, may be empty

  bool ok() const { return result == ReapResult::kDone || result == ReapResult::kAlreadyGone; }
};

}  // namespace tcpreap
