#pragma once
// Network namespaces for kernel tests.
//
// A socket (TCP or netlink) belongs for life to the network namespace its
// creating thread was in. So one test process can hold the server end, the
// client end and a SOCK_DIAG scanner of the server's namespace: create each
// inside a ScopedNetns of the right namespace, use it anywhere.

#include <cstdint>
#include <string>
#include <vector>

#include "support/unique_fd.h"

namespace tcpreap::test {

// Moves the calling thread into the named namespace (/run/netns/NAME) and
// back into the one it was in when it goes. Nests.
class ScopedNetns {
 public:
  explicit ScopedNetns(const std::string& name);
  ~ScopedNetns();
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;

 private:
  UniqueFd original_;
};

// A namespace name unique in this machine and process: "trp<pid><tag><n>".
// Fits an interface name (15 characters) for tags of one letter.
std::string unique_netns_name(char tag);

// One named network namespace with lo up, deleted by name when it goes.
class NamedNetns {
 public:
  explicit NamedNetns(std::string name);  // `ip netns add NAME`
  ~NamedNetns();                          // `ip netns del NAME`
  NamedNetns(const NamedNetns&) = delete;
  NamedNetns& operator=(const NamedNetns&) = delete;

  const std::string& name() const { return name_; }

  // `ip -n NAME args...`, failing (throwing) with ip's stderr.
  void ip(std::initializer_list<std::string> args) const;
  // Runs `nft -f -` inside the namespace with `script` on stdin.
  void nft(const std::string& script) const;

 private:
  std::string name_;
};

// Two hosts on one link: a server and a client namespace joined by a veth.
//   server: 10.231.0.1/24, fd00:231::1/64      client: 10.231.0.2/24, fd00:231::2/64
class TestHosts {
 public:
  static constexpr const char* kServer4 = "10.231.0.1";
  static constexpr const char* kClient4 = "10.231.0.2";
  static constexpr const char* kServer6 = "fd00:231::1";
  static constexpr const char* kClient6 = "fd00:231::2";

  TestHosts();
  ~TestHosts() = default;  // deletes both namespaces, and with them the veth

  const std::string& server() const { return server_.name(); }
  const std::string& client() const { return client_.name(); }
  const NamedNetns& server_ns() const { return server_; }
  const NamedNetns& client_ns() const { return client_; }

  // The client host disappears silently, like a host powered off: inside
  // its namespace nftables drops all IPv4/IPv6 input and output (ND
  // included) and all ARP. Then close the client sockets: whatever they send
  // (FIN, RST) never leaves. The server sees nothing, ever.
  void make_client_vanish() const;

  // Only some of the client's connections die silently: from now on the
  // client host drops every segment of these local ports, both ways (a
  // table of its own per call).
  void drop_client_ports(const std::vector<uint16_t>& ports);

 private:
  NamedNetns server_;
  NamedNetns client_;
  int port_tables_ = 0;
};

}  // namespace tcpreap::test
