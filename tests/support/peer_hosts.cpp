#include "support/peer_hosts.h"

#include <cerrno>

#include "support/privileges.h"
#include "support/scan.h"
#include "support/tcp.h"

namespace tcpreap::test {

void PeerHostsTest::SetUp() {
  TCPREAP_REQUIRE_ROOT();
  hosts_.emplace();
  ScopedNetns in(hosts_->server());
  for (int k = 0; k < 2; ++k) {
    listener4_[k] = tcp_listen("0.0.0.0");
    port_[k] = local_endpoint(listener4_[k].get()).port;
    listener6_[k] = tcp_listen("::", port_[k]);
  }
  scanner_.emplace(open_scanner());
}

PeerConn PeerHostsTest::connect(bool v6, int which) {
  PeerConn c;
  c.v6 = v6;
  {
    ScopedNetns in(hosts_->client());
    c.client = tcp_connect(v6 ? TestHosts::kServer6 : TestHosts::kServer4, port_[which]);
  }
  c.server = tcp_accept(v6 ? listener6_[which].get() : listener4_[which].get());
  c.client_port = local_endpoint(c.client.get()).port;
  write_all(c.client.get(), "hello");
  EXPECT_EQ(read_exact(c.server.get(), 5), "hello");
  write_all(c.server.get(), "hi");
  EXPECT_EQ(read_exact(c.client.get(), 2), "hi");
  ScopedNetns in(hosts_->server());
  c.cookie = socket_of(*scanner_, c.server.get()).cookie;
  return c;
}

void PeerHostsTest::kill_peers(const std::vector<PeerConn*>& dead) {
  std::vector<uint16_t> ports;
  for (PeerConn* c : dead) ports.push_back(c->client_port);
  hosts_->drop_client_ports(ports);
}

bool PeerHostsTest::present(const PeerConn& c) {
  ScopedNetns in(hosts_->server());
  return cookie_present(*scanner_, c.cookie);
}

void PeerHostsTest::expect_untouched(PeerConn& c) {
  EXPECT_EQ(next_recv(c.server.get(), 0), EAGAIN);
  EXPECT_EQ(next_recv(c.client.get(), 0), EAGAIN);
  write_all(c.client.get(), "ping");
  EXPECT_EQ(read_exact(c.server.get(), 4), "ping");
  write_all(c.server.get(), "pong");
  EXPECT_EQ(read_exact(c.client.get(), 4), "pong");
}

}  // namespace tcpreap::test
