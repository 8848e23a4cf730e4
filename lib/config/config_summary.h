#pragma once
// What a config will do, in words: for `tcpreap check` and the start-up log.

#include <string>
#include <vector>

#include "config/config.h"

namespace tcpreap {

// One paragraph of plain sentences, no trailing newline: the scan interval,
// dry run or the reap method and caps (per scan, per minute), what is
// protected, then each policy in order (what it matches, when a connection
// counts as dead, confirm, its cap, per-peer limit, and verification with
// its cap on probes per scan).
std::string describe(const Config& c);

// The ss(8) filter names of a set of states: the group name when the set is
// exactly "all", "connected" or "synchronized", otherwise one name per state
// in kernel order ("established", "close-wait"). Empty for an empty set.
std::vector<std::string> state_filter_names(StateSet s);

}  // namespace tcpreap
