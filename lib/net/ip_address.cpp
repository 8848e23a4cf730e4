#include "net/ip_address.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace tcpreap {

int to_af(Family f) { return f == Family::kIPv4 ? AF_INET : AF_INET6; }

const char* family_name(Family f) { return f == Family::kIPv4 ? "ipv4" : "ipv6"; }

IpAddress IpAddress::v4(const void* be4) {
  IpAddress a;
  a.family = Family::kIPv4;
  std::memcpy(a.bytes.data(), be4, 4);
  return a;
}

IpAddress IpAddress::v6(const void* be16) {
  IpAddress a;
  a.family = Family::kIPv6;
  std::memcpy(a.bytes.data(), be16, 16);
  return a;
}

Result<IpAddress> IpAddress::parse(std::string_view text) {
  std::string_view inner = text;
  bool bracketed = inner.size() >= 2 && inner.front() == '[' && inner.back() == ']';
  if (bracketed) inner = inner.substr(1, inner.size() - 2);
  char buf[INET6_ADDRSTRLEN];
  if (inner.empty() || inner.size() >= sizeof buf)
    return Error(0, "'" + std::string(text) + "' is not an IP address");
  std::memcpy(buf, inner.data(), inner.size());
  buf[inner.size()] = '\0';
  IpAddress a;
  if (!bracketed && inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
    a.family = Family::kIPv4;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
    a.family = Family::kIPv6;
    return a;
  }
  return Error(0, "'" + std::string(text) + "' is not an IP address");
}

bool IpAddress::is_v4_mapped() const {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return family == Family::kIPv6 && std::memcmp(bytes.data(), kPrefix, sizeof kPrefix) == 0;
}

IpAddress IpAddress::unmapped() const { return IpAddress::v4(bytes.data() + 12); }

size_t IpAddress::format(char* buf) const {
  if (!inet_ntop(to_af(family), bytes.data(), buf, kMaxText)) {
    buf[0] = '?';
    buf[1] = '\0';
    return 1;
  }
  return std::strlen(buf);
}

std::string IpAddress::to_string() const {
  char buf[kMaxText];
  return std::string(buf, format(buf));
}

namespace {

// Whether the first `bits` bits of a and b agree.
bool prefix_equal(const uint8_t* a, const uint8_t* b, unsigned bits) {
  unsigned whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  unsigned rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

Result<Cidr> Cidr::parse(std::string_view text) {
  auto slash = text.rfind('/');
  std::string_view addr_text = slash == std::string_view::npos ? text : text.substr(0, slash);
  auto addr = IpAddress::parse(addr_text);
  if (!addr) return Error(0, "'" + std::string(text) + "' is not an address prefix (want e.g. 10.0.0.0/8 or fd00::/8)");
  Cidr c;
  c.address = *addr;
  unsigned max_len = static_cast<unsigned>(addr->size() * 8);
  c.prefix_len = static_cast<uint8_t>(max_len);
  if (slash != std::string_view::npos) {
    std::string_view len_text = text.substr(slash + 1);
    unsigned len = 0;
    auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    if (len_text.empty() || ec != std::errc() || end != len_text.data() + len_text.size() || len > max_len)
      return Error(0, "'" + std::string(text) + "': prefix length must be 0.." + std::to_string(max_len));
    c.prefix_len = static_cast<uint8_t>(len);
  }
  IpAddress network;
  network.family = c.address.family;
  for (unsigned i = 0; i < c.prefix_len; ++i)
    if (c.address.bytes[i / 8] & (0x80 >> (i % 8))) network.bytes[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
  if (network != c.address)
    return Error(0, "'" + std::string(text) + "' has host bits set; did you mean " +
                        Cidr{network, c.prefix_len}.to_string() + "?");
  return c;
}

bool Cidr::contains(const IpAddress& a) const {
  if (address.family == a.family) return prefix_equal(a.bytes.data(), address.bytes.data(), prefix_len);
  if (address.family == Family::kIPv4 && a.is_v4_mapped())
    return prefix_equal(a.bytes.data() + 12, address.bytes.data(), prefix_len);
  return false;
}

std::string Cidr::to_string() const { return address.to_string() + "/" + std::to_string(prefix_len); }

}  // namespace tcpreap
