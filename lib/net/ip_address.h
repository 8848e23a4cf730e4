#pragma once
// IPv4/IPv6 addresses and prefixes as plain values (no allocation).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace tcpreap {

enum class Family : uint8_t { kIPv4, kIPv6 };

int to_af(Family f);               // AF_INET / AF_INET6
const char* family_name(Family f);  // "ipv4" / "ipv6"

// An address in network byte order; IPv4 uses the first 4 bytes.
struct IpAddress {
  Family family = Family::kIPv4;
  std::array<uint8_t, 16> bytes{};

  static IpAddress v4(const void* be4);   // 4 bytes, network order
  static IpAddress v6(const void* be16);  // 16 bytes, network order
  // "10.0.0.1", "fd00::1" or "[fd00::1]".
  static Result<IpAddress> parse(std::string_view text);

  size_t size() const { return family == Family::kIPv4 ? 4 : 16; }
  // ::ffff:a.b.c.d: an IPv4 peer of a dual-stack IPv6 socket.
  bool is_v4_mapped() const;
  IpAddress unmapped() const;  // the IPv4 address inside a v4-mapped one

  // Writes the text form (no brackets) into `buf`; returns its length.
  // Needs at most kMaxText bytes; never allocates.
  static constexpr size_t kMaxText = 46;
  size_t format(char* buf) const;
  std::string to_string() const;

  bool operator==(const IpAddress&) const = default;
};

// An address prefix such as 10.0.0.0/8 or fd00::/8.
struct Cidr {
  IpAddress address;
  uint8_t prefix_len = 0;

  // "10.0.0.0/8", "fd00::/8", "[fd00::]/8"; a bare address is a host prefix
  // (/32, /128). Host bits set beyond the prefix are an error: "10.0.0.1/8"
  // is more often a typo than a wish.
  static Result<Cidr> parse(std::string_view text);

  // Whether `a` lies inside. An IPv4 prefix also contains the v4-mapped IPv6
  // form of its addresses, as the kernel's inet_diag filter decides
  // (net/ipv4/inet_diag.c, inet_diag_bc_run).
  bool contains(const IpAddress& a) const;

  std::string to_string() const;
  bool operator==(const Cidr&) const = default;
};

}  // namespace tcpreap
