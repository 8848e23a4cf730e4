#pragma once
// A server host and the client host of its connections, for tests of what
// tcpreap does to live and dead peers: TestHosts, two server ports with an
// IPv4 and an IPv6 listener each, and a SOCK_DIAG scanner of the server's
// namespace. Derive a gtest fixture from it.

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "diag/socket_scanner.h"
#include "support/netns.h"
#include "support/unique_fd.h"

namespace tcpreap::test {

// One connection from the client host to the server, both ends held here.
struct PeerConn {
  UniqueFd client;
  UniqueFd server;
  uint16_t client_port = 0;
  uint64_t cookie = 0;  // the server end's
  bool v6 = false;
};

class PeerHostsTest : public ::testing::Test {
 protected:
  void SetUp() override;  // skips without root

  // A connection to server port `which` (0 or 1), with one exchange each
  // way, then idle.
  PeerConn connect(bool v6, int which = 0);

  // The peers of `dead` die silently: the client host drops everything of
  // their ports from now on. Their client sockets stay open and idle.
  void kill_peers(const std::vector<PeerConn*>& dead);

  // Whether the server end is still there (by cookie).
  bool present(const PeerConn& c);

  // The application of a live connection is none the worse: nothing
  // pending on either end, and a message goes each way.
  void expect_untouched(PeerConn& c);

  std::optional<TestHosts> hosts_;
  UniqueFd listener4_[2], listener6_[2];
  uint16_t port_[2] = {0, 0};
  std::optional<SocketScanner> scanner_;
};

}  // namespace tcpreap::test
