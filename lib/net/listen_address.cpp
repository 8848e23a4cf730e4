#include "net/listen_address.h"

#include <charconv>
#include <cstring>

#include "core/message_text.h"
#include "net/ip_address.h"

namespace tcpreap {

std::string ListenAddress::to_string() const {
  return IpAddress::v4(ipv4.data()).to_string() + ":" + std::to_string(port);
}

sockaddr_in ListenAddress::to_sockaddr() const {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  std::memcpy(&sin.sin_addr, ipv4.data(), sizeof sin.sin_addr);
  return sin;
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return Error(0, quoted_text(text) + " has no port (write it as address:port, e.g. 127.0.0.1:10126)");
  const std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  auto address = IpAddress::parse(host);
  // IPv6 is told apart by its form, before the address is read: "::1" is
  // no IPv6 address with the port taken off, and still meant as one.
  if (host.find(':') != std::string_view::npos || host.starts_with('[') ||
      (address && address->family != Family::kIPv4))
    return Error(0, quoted_text(text) +
                        ": the metrics exporter cannot listen on IPv6; use an IPv4 address such as 127.0.0.1");
  if (!address) return Error(0, address.error().message() + " (write address:port, e.g. 127.0.0.1:10126)");
  unsigned n = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || n < 1 || n > 65535)
    return Error(0, quoted_text(text) + ": the port must be 1-65535");
  ListenAddress out;
  std::memcpy(out.ipv4.data(), address->bytes.data(), out.ipv4.size());
  out.port = static_cast<uint16_t>(n);
  return out;
}

}  // namespace tcpreap
