#include "config/edit_distance.h"

#include <algorithm>
#include <vector>

namespace tcpreap {

size_t edit_distance(std::string_view a, std::string_view b) {
  // row[j]: the distance between the prefix of `a` seen so far and b[0, j).
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];  // row[i-1][j-1]
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];  // row[i-1][j]
      const size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string_view> nearest_within_reach(std::string_view typed,
                                                     std::span<const std::string_view> candidates) {
  if (typed.empty()) return std::nullopt;
  // Two edits catch most typos in short keys ("intervall", "dryrun"); a
  // third of the length lets longer keys absorb a little more.
  const size_t reach = std::max<size_t>(2, typed.size() / 3);
  std::optional<std::string_view> best;
  size_t best_distance = reach + 1;
  for (std::string_view c : candidates) {
    const size_t d = edit_distance(typed, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace tcpreap
