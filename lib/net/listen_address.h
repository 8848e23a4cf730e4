#pragma once
// Where the metrics exporter listens, "address:port": the one rule for
// `metrics.listen`, read by the config loader and bound by DaemonMetrics, so
// that what a config accepts is exactly what the daemon can bind.
//
// The address is an IPv4 literal ("127.0.0.1", "0.0.0.0" for every IPv4
// address): the exporter (civetweb in Debian 12's prometheus-cpp) cannot
// bind IPv6. Names, "localhost" among them, are refused: the config
// promises an address (tcpreap.yaml(5)), and a name would be resolved by
// whatever the host's resolver says at each start.

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace tcpreap {

struct ListenAddress {
  std::array<uint8_t, 4> ipv4{};  // network order
  uint16_t port = 0;              // 1..65535

  // The normal form: "127.0.0.1:10126" (no leading zeros in the port).
  std::string to_string() const;
  // For bind(2).
  sockaddr_in to_sockaddr() const;
  bool operator==(const ListenAddress&) const = default;
};

// "address:port" with the address an IPv4 literal and the port 1..65535.
// The error's message is a whole sentence quoting what is wrong, written
// for the config's diagnostics: "'127.0.0.1' has no port (...)", "'[::1]:80':
// the metrics exporter cannot listen on IPv6; ...", "'localhost' is not an
// IP address (...)", "'127.0.0.1:0': the port must be 1-65535".
Result<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace tcpreap
