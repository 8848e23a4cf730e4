#pragma once
// One scan's sockets as a vector, for assertions.

#include <vector>

#include "diag/socket_scanner.h"

namespace tcpreap::test {

// The sockets one scan of `query` finds; throws SupportError if it fails.
std::vector<TcpSocket> scan_sockets(SocketScanner& scanner, const ScanQuery& query);

// A scanner of the calling thread's namespace; throws if it cannot open.
SocketScanner open_scanner();

// ScanQuery::compile, throwing on error.
ScanQuery compile_query(const SocketFilter& filter);

}  // namespace tcpreap::test
