#pragma once
// Whether this kernel can SOCK_DESTROY at all, asked once without touching
// a socket. Kernels built without CONFIG_INET_DIAG_DESTROY exist (Talos,
// Flatcar, LinuxKit); on them every destroy fails and the reaper falls back
// to RST injection.
//
// The question is a SOCK_DESTROY request for a socket that cannot exist:
// IPv4, 0.0.0.0:0 to 0.0.0.0:0, cookie 0. The kernel answers it thus:
//  - inet_diag_cmd_exact() answers EOPNOTSUPP when the TCP handler has no
//    destroy (tcp_diag_destroy is built only with CONFIG_INET_DIAG_DESTROY),
//    before looking for the socket;
//  - tcp_diag_destroy() looks the socket up first and answers ENOENT when
//    nothing matches. Nothing can: no socket is connected from or to port
//    0, and whatever a lookup found (a BPF sk_lookup program can pick any
//    socket) is then checked against the cookie, which is never 0
//    (sock_gen_cookie() hands out numbers from 1; sock_diag_check_cookie()
//    compares every cookie but INET_DIAG_NOCOOKIE, ~0).
// The capability check (sock_diag_destroy(), CAP_NET_ADMIN) comes only
// after a socket is found, so the question needs no privilege: without
// CAP_NET_ADMIN it is answered the same. An LSM may still refuse the
// message (EACCES), and the netlink socket may fail: then it cannot tell.

#include <cstdint>
#include <memory>

#include "core/error.h"
#include "netlink/netlink_transport.h"
#include "netns/socket_maker.h"

namespace tcpreap {

enum class DestroySupport : uint8_t {
  kSupported,    // ENOENT for the impossible socket: SOCK_DESTROY works here
  kUnsupported,  // EOPNOTSUPP: a kernel without CONFIG_INET_DIAG_DESTROY
};

// Asks over `transport`, a NETLINK_SOCK_DIAG socket (or a test's stand-in),
// one request and its answer. Any answer but ENOENT and EOPNOTSUPP, and any
// failure to send or receive, is an Error saying what came back: the
// caller cannot tell. (A kernel older than 4.5 knows no SOCK_DESTROY
// message and answers EINVAL, an Error too.) Should a destroy ever succeed,
// it is reported as kSupported: the kernel showed that it can.
Result<DestroySupport> probe_destroy_support(std::unique_ptr<NetlinkTransport> transport);

// The same on a NETLINK_SOCK_DIAG socket made in the maker's network
// namespace (whose kernel is the host's: the answer is the same in every
// namespace, bar an LSM), closed before it returns.
Result<DestroySupport> probe_destroy_support(const SocketMaker& maker = SocketMaker::here());

}  // namespace tcpreap
