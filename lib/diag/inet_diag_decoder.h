#pragma once
// Decodes one SOCK_DIAG_BY_FAMILY reply: struct inet_diag_msg, then netlink
// attributes. Every length is checked against what the buffer really holds.

#include <cstdint>
#include <span>

#include "core/error.h"
#include "net/tcp_socket.h"

namespace tcpreap {

// `payload` is the message without its nlmsghdr (any alignment). Unknown attributes are skipped; INET_DIAG_INFO of any length
// is accepted (read what fits). Errors (errno 0) name the offending offset
// and lengths.
//
// Decodes into `out`, overwriting every field: the scan path reuses one
// TcpSocket for a whole dump rather than building and moving a new one per
// socket. After an error `out` holds no meaningful value.
Status decode_inet_diag(std::span<const uint8_t> payload, TcpSocket& out);

// The same, returning a fresh value: for tests and tools off the scan path.
Result<TcpSocket> decode_inet_diag(std::span<const uint8_t> payload);

}  // namespace tcpreap
