#pragma once
// Port numbers and inclusive port ranges ("2181", "30000-32767").

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tcpreap {

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 65535;

  // "2181" or "30000-32767".
  static Result<PortRange> parse(std::string_view text);
  // A comma-separated list of ports and ranges: "80,443,8000-8100".
  static Result<std::vector<PortRange>> parse_list(std::string_view text);

  bool contains(uint16_t port) const { return first <= port && port <= last; }
  bool is_any() const { return first == 0 && last == 65535; }
  std::string to_string() const;
  bool operator==(const PortRange&) const = default;
};

}  // namespace tcpreap
