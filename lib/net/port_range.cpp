#include "net/port_range.h"

#include <charconv>

namespace tcpreap {

namespace {

Result<uint16_t> parse_port(std::string_view text, std::string_view whole) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v > 65535)
    return Error(0, "'" + std::string(whole) + "' is not a port or port range (0-65535, e.g. 2181 or 30000-32767)");
  return static_cast<uint16_t>(v);
}

}  // namespace

Result<PortRange> PortRange::parse(std::string_view text) {
  auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    auto p = parse_port(text, text);
    if (!p) return p.error();
    return PortRange{*p, *p};
  }
  auto lo = parse_port(text.substr(0, dash), text);
  if (!lo) return lo.error();
  auto hi = parse_port(text.substr(dash + 1), text);
  if (!hi) return hi.error();
  if (*lo > *hi) return Error(0, "'" + std::string(text) + "': the range's first port is above its last");
  return PortRange{*lo, *hi};
}

Result<std::vector<PortRange>> PortRange::parse_list(std::string_view text) {
  std::vector<PortRange> out;
  while (true) {
    auto comma = text.find(',');
    auto r = parse(text.substr(0, comma));
    if (!r) return r.error();
    out.push_back(*r);
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

std::string PortRange::to_string() const {
  if (first == last) return std::to_string(first);
  return std::to_string(first) + "-" + std::to_string(last);
}

}  // namespace tcpreap
