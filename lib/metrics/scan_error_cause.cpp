#include "metrics/scan_error_cause.h"

#include <cerrno>

namespace tcpreap {

const char* scan_error_cause_name(ScanErrorCause cause) {
  switch (cause) {
    case ScanErrorCause::kBufferOverrun:
      return "buffer-overrun";
    case ScanErrorCause::kDescriptors:
      return "descriptors";
    case ScanErrorCause::kPermission:
      return "permission";
    case ScanErrorCause::kInterrupted:
      return "interrupted";
    case ScanErrorCause::kProtocol:
      return "protocol";
    case ScanErrorCause::kOther:
      return "other";
  }
  return "other";
}

ScanErrorCause scan_error_cause(const Error& error) {
  switch (error.errnum()) {
    case ENOBUFS:
      return ScanErrorCause::kBufferOverrun;
    case EMFILE:
    case ENFILE:
      return ScanErrorCause::kDescriptors;
    case EPERM:
    case EACCES:
      return ScanErrorCause::kPermission;
    // SocketScanner::scan() gives up with EAGAIN after kMaxPasses passes in
    // a row flagged NLM_F_DUMP_INTR; nothing else in a scan says EAGAIN (its
    // netlink socket blocks and has no receive timeout).
    case EAGAIN:
      return ScanErrorCause::kInterrupted;
    // The dump reader and decoder report what they cannot make sense of
    // with no errno.
    case 0:
    case EBADMSG:
    case EPROTO:
    case ENOSPC:
      return ScanErrorCause::kProtocol;
    default:
      return ScanErrorCause::kOther;
  }
}

}  // namespace tcpreap
