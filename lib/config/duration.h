#pragma once
// Durations as the config writes them: "500ms", "30s", "5m", "1h", "1d" and
// compounds such as "1h30m" or "2m30s".

#include <string>
#include <string_view>

#include "config/config.h"
#include "core/error.h"

namespace tcpreap {

// Whole numbers each followed by a unit (d, h, m, s, ms), units from the
// largest to the smallest, each at most once: "1h30m", "1s500ms". Zero is a
// duration ("0s"); whether it is allowed is for the caller to decide.
// Errors (the message quotes the text): a bare number ("say the unit: 30s"),
// an unknown unit, units out of order or repeated, a sign, a fraction,
// spaces, a total beyond what Duration holds.
Result<Duration> parse_duration(std::string_view text);

// The shortest exact form parse_duration reads back: "1h30m", "500ms",
// "2m", "1d12h", "1s500ms"; "0s" for zero, a leading '-' when negative.
std::string format_duration(Duration d);

}  // namespace tcpreap
