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

// Every socket of the scanner's namespace, in any state.
std::vector<TcpSocket> all_sockets(SocketScanner& scanner);

bool cookie_present(SocketScanner& scanner, uint64_t cookie);

// The socket of the scanner's namespace whose local end is `fd`'s (the
// scanner and `fd` in one namespace); throws when there is none.
TcpSocket socket_of(SocketScanner& scanner, int fd);

// What the application sees on its next recv(): 0 for data, -1 for EOF,
// else the errno (EAGAIN: nothing happened). Waits up to `wait_ms` for
// something to happen.
int next_recv(int fd, int wait_ms = 5000);

}  // namespace tcpreap::test
