#include "config/duration.h"

#include <array>
#include <cstdint>
#include <limits>

namespace tcpreap {

namespace {

struct Unit {
  std::string_view suffix;
  int64_t ms;
};

// Largest first: the order compounds must follow.
constexpr std::array<Unit, 5> kUnits{{
    {"d", 24 * 60 * 60 * 1000},
    {"h", 60 * 60 * 1000},
    {"m", 60 * 1000},
    {"s", 1000},
    {"ms", 1},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

Error bad(std::string_view text, const std::string& why) { return Error(0, "'" + std::string(text) + "' " + why); }

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  constexpr const char* kExamples = "(e.g. 500ms, 30s, 5m, 1h30m)";
  if (text.empty()) return Error(0, std::string("an empty string is not a duration ") + kExamples);
  if (text[0] == '-') return bad(text, "is negative; a duration is 0 or more");
  if (text[0] == '+') return bad(text, "is not a duration: drop the '+'");

  int64_t total = 0;
  size_t next_unit = 0;  // index into kUnits of the largest unit still allowed
  size_t i = 0;
  while (i < text.size()) {
    const size_t number_start = i;
    int64_t value = 0;
    bool overflow = false;
    while (i < text.size() && is_digit(text[i])) {
      const int digit = text[i] - '0';
      if (value > (std::numeric_limits<int64_t>::max() - digit) / 10)
        overflow = true;
      else
        value = value * 10 + digit;
      ++i;
    }
    if (i == number_start) return bad(text, std::string("is not a duration ") + kExamples);
    if (i == text.size()) {
      if (number_start == 0) return bad(text, "has no unit; say the unit: " + std::string(text.substr(0, i)) + "s");
      return bad(text, "ends in a number without a unit");
    }
    if (text[i] == '.' || text[i] == ',') return bad(text, "is not a duration: use whole numbers (e.g. 1s500ms)");
    const size_t unit_start = i;
    while (i < text.size() && is_letter(text[i])) ++i;
    const std::string_view suffix = text.substr(unit_start, i - unit_start);
    if (suffix.empty()) return bad(text, std::string("is not a duration ") + kExamples);
    size_t u = 0;
    while (u < kUnits.size() && kUnits[u].suffix != suffix) ++u;
    if (u == kUnits.size())
      return bad(text, "has an unknown unit '" + std::string(suffix) + "' (use d, h, m, s or ms)");
    if (u < next_unit)
      return bad(text, "is not a duration: write the units from the largest to the smallest, each once (e.g. 1h30m)");
    next_unit = u + 1;
    if (overflow || value > (std::numeric_limits<int64_t>::max() - total) / kUnits[u].ms)
      return bad(text, "is too long a duration");
    total += value * kUnits[u].ms;
  }
  return Duration(total);
}

std::string format_duration(Duration d) {
  const int64_t count = d.count();
  if (count == 0) return "0s";
  // Unsigned, so that the most negative value has a magnitude too.
  uint64_t rest = count < 0 ? 0 - static_cast<uint64_t>(count) : static_cast<uint64_t>(count);
  std::string out = count < 0 ? "-" : "";
  for (const Unit& u : kUnits) {
    const uint64_t n = rest / static_cast<uint64_t>(u.ms);
    if (n == 0) continue;
    out += std::to_string(n);
    out += u.suffix;
    rest -= n * static_cast<uint64_t>(u.ms);
  }
  return out;
}

}  // namespace tcpreap
