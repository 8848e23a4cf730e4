#pragma once
// Why a scan failed, in the closed set of words that label
// tcpreap_scan_errors_by_cause_total{cause}: few enough to create each
// series at start, plain enough to act on. Derived from the scan's Error
// (its errno, or none), as the scanner (diag/socket_scanner.h) reports it.

#include <array>
#include <cstdint>

#include "core/error.h"

namespace tcpreap {

enum class ScanErrorCause : uint8_t {
  kBufferOverrun,  // ENOBUFS: the dump outran the reader and the kernel dropped part of it
  kDescriptors,    // EMFILE, ENFILE: no descriptor for the netlink socket
  kPermission,     // EPERM, EACCES: refused (an LSM, a seccomp profile)
  kInterrupted,    // EAGAIN: every pass of the scan was flagged inconsistent (NLM_F_DUMP_INTR)
  kProtocol,       // a reply that makes no sense: malformed or unexpected (no errno, EBADMSG,
                   // EPROTO), or larger than the buffer (ENOSPC: libmnl's MSG_TRUNC)
  kOther,          // any other errno (the log line says which)
};

inline constexpr std::array kScanErrorCauses = {
    ScanErrorCause::kBufferOverrun, ScanErrorCause::kDescriptors, ScanErrorCause::kPermission,
    ScanErrorCause::kInterrupted,   ScanErrorCause::kProtocol,    ScanErrorCause::kOther,
};

// "buffer-overrun", "descriptors", "permission", "interrupted", "protocol", "other".
const char* scan_error_cause_name(ScanErrorCause cause);

ScanErrorCause scan_error_cause(const Error& error);

}  // namespace tcpreap
