#pragma once
// A socket as the decoder makes it of a hand-built SOCK_DIAG message
// (netlink_builder.h): local port 2181, remote port 40000, cookie 42, and
// with `with_info` the sample tcp_info; for tests of what is shown of it.

#include <sys/socket.h>

#include "diag/inet_diag_decoder.h"
#include "unit/netlink_builder.h"

namespace tcpreap::testing {

// `family` AF_INET or AF_INET6, with addresses of that family.
inline TcpSocket decoded_socket(int family, const char* local, const char* remote, bool with_info) {
  const tcp_info ti = sample_tcp_info();
  auto b = socket_payload(diag_msg(family, 1, local, 2181, remote, 40000, 42), with_info ? &ti : nullptr);
  return *decode_inet_diag({b.data(), b.size()});
}

}  // namespace tcpreap::testing
