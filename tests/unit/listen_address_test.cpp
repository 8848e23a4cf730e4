#include "net/listen_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <utility>

namespace tcpreap {
namespace {

TEST(ListenAddress, ReadsAnIpv4AddressAndAPortIntoTheNormalForm) {
  const std::pair<const char*, const char*> kGood[] = {
      {"127.0.0.1:10126", "127.0.0.1:10126"},
      {"0.0.0.0:1", "0.0.0.0:1"},
      {"192.0.2.7:65535", "192.0.2.7:65535"},
      {"0.0.0.0:0080", "0.0.0.0:80"},  // as civetweb is given it
  };
  for (const auto& [text, normal] : kGood) {
    auto a = parse_listen_address(text);
    ASSERT_TRUE(a.ok()) << text << ": " << a.error().message();
    EXPECT_EQ(a->to_string(), normal);
    EXPECT_EQ(parse_listen_address(a->to_string())->to_string(), normal) << "the normal form reads back";
  }
}

TEST(ListenAddress, GivesTheSockaddrToBind) {
  auto a = parse_listen_address("192.0.2.7:10126");
  ASSERT_TRUE(a.ok());
  const sockaddr_in sin = a->to_sockaddr();
  EXPECT_EQ(sin.sin_family, AF_INET);
  EXPECT_EQ(ntohs(sin.sin_port), 10126);
  EXPECT_EQ(ntohl(sin.sin_addr.s_addr), 0xc0000207u);
  EXPECT_EQ(a->ipv4, (std::array<uint8_t, 4>{192, 0, 2, 7}));
}

// The messages are the config's diagnostics for metrics.listen, word for word.
TEST(ListenAddress, RefusesWithAReason) {
  const std::pair<std::string, std::string> kBad[] = {
      {"", "'' has no port (write it as address:port, e.g. 127.0.0.1:10126)"},
      {"9100", "'9100' has no port (write it as address:port, e.g. 127.0.0.1:10126)"},
      {"127.0.0.1", "'127.0.0.1' has no port (write it as address:port, e.g. 127.0.0.1:10126)"},
      {"[::1]:10126",
       "'[::1]:10126': the metrics exporter cannot listen on IPv6; use an IPv4 address such as 127.0.0.1"},
      {"::1:10126", "'::1:10126': the metrics exporter cannot listen on IPv6; use an IPv4 address such as 127.0.0.1"},
      {"::ffff:127.0.0.1:80",
       "'::ffff:127.0.0.1:80': the metrics exporter cannot listen on IPv6; use an IPv4 address such as 127.0.0.1"},
      // A name is not an address, localhost included: the config promises
      // an address, and a name would be resolved anew at each start.
      {"localhost:10126", "'localhost' is not an IP address (write address:port, e.g. 127.0.0.1:10126)"},
      {"example.org:9100", "'example.org' is not an IP address (write address:port, e.g. 127.0.0.1:10126)"},
      {":9100", "'' is not an IP address (write address:port, e.g. 127.0.0.1:10126)"},
      {"127.1:9100", "'127.1' is not an IP address (write address:port, e.g. 127.0.0.1:10126)"},
      {"300.0.0.1:9100", "'300.0.0.1' is not an IP address (write address:port, e.g. 127.0.0.1:10126)"},
      {"127.0.0.1:", "'127.0.0.1:': the port must be 1-65535"},
      {"127.0.0.1:0", "'127.0.0.1:0': the port must be 1-65535"},
      {"127.0.0.1:65536", "'127.0.0.1:65536': the port must be 1-65535"},
      {"127.0.0.1:+80", "'127.0.0.1:+80': the port must be 1-65535"},
      {"127.0.0.1:-80", "'127.0.0.1:-80': the port must be 1-65535"},
      {"127.0.0.1:80x", "'127.0.0.1:80x': the port must be 1-65535"},
      {"127.0.0.1: 80", "'127.0.0.1: 80': the port must be 1-65535"},
      {"127.0.0.1:99999999999999999999", "'127.0.0.1:99999999999999999999': the port must be 1-65535"},
      // Long text is cut in the message; control characters are masked.
      {"127.0.0.1:1111111111111111111111111111111111111111",
       "'127.0.0.1:111111111111111111111111111111...': the port must be 1-65535"},
      {"127.0.0.1:80\n", "'127.0.0.1:80?': the port must be 1-65535"},
  };
  for (const auto& [text, message] : kBad) {
    auto a = parse_listen_address(text);
    ASSERT_FALSE(a.ok()) << "'" << text << "' was accepted";
    EXPECT_EQ(a.error().message(), message);
    EXPECT_EQ(a.error().errnum(), 0);
  }
}

}  // namespace
}  // namespace tcpreap
