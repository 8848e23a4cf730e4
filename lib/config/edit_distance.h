#pragma once
// Edit distance for "did you mean" suggestions on misspelt config keys.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace tcpreap {

// Levenshtein distance: the fewest single-byte insertions, deletions and
// substitutions turning `a` into `b`. O(|a|*|b|) time, O(|b|) space.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `typed`, if it is close enough to be what was
// meant: a distance of at most max(2, |typed| / 3). Ties go to the earlier
// candidate. Nothing for an empty `typed` or no candidates.
std::optional<std::string_view> nearest_within_reach(std::string_view typed,
                                                     std::span<const std::string_view> candidates);

}  // namespace tcpreap
