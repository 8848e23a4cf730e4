#pragma once
// TCP sockets for kernel tests. Each is created in the calling thread's
// network namespace (see ScopedNetns) and stays there. Failures throw
// SupportError.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/ip_address.h"
#include "support/unique_fd.h"

namespace tcpreap::test {

struct Endpoint {
  IpAddress address;
  uint16_t port = 0;
};

struct BindOptions {
  std::string address;    // "" = the wildcard of the family of the peer
  uint16_t port = 0;      // 0 = the kernel picks
  bool v6only = true;     // IPv6 sockets only: false makes a dual-stack socket
};

// A listening socket on `address` ("127.0.0.1", "::", "fd00::1"); port 0
// lets the kernel pick one (local_endpoint() tells which).
UniqueFd tcp_listen(const std::string& address, uint16_t port = 0, bool v6only = true);

// A connected socket: bound as `bind` says, then connected (blocking) to
// address:port. IPv6 when `address` holds a ':' ("::ffff:127.0.0.1" too).
// Its close is abortive (SO_LINGER 0: RST, no orphan left retransmitting a
// FIN into a dead peer and pinning its namespace); graceful_close() is the
// other kind.
UniqueFd tcp_connect(const std::string& address, uint16_t port, const BindOptions& bind = {});

// Starts connecting and returns at once (non-blocking connect, EINPROGRESS):
// the socket is in SYN-SENT until the handshake completes, if it does.
UniqueFd tcp_start_connect(const std::string& address, uint16_t port, const BindOptions& bind = {});

// The next connection of `listener`, waiting up to `timeout`; abortive close
// as for tcp_connect.
UniqueFd tcp_accept(int listener, std::chrono::milliseconds timeout = std::chrono::seconds(5));

// A normal close: FIN, then whatever TCP does (TIME-WAIT for an active closer).
void graceful_close(UniqueFd& fd);

Endpoint local_endpoint(int fd);
Endpoint remote_endpoint(int fd);

void write_all(int fd, std::string_view data);
// Exactly n bytes, or throws after `timeout` (or on EOF).
std::string read_exact(int fd, size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The socket's inode number, as SOCK_DIAG reports it (idiag_inode).
uint64_t socket_inode(int fd);

}  // namespace tcpreap::test
