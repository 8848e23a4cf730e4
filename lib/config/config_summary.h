#pragma once
// What a config will do, in words: for `tcpreap check` and the start-up log.

#include <string>

#include "config/config.h"

namespace tcpreap {

// One paragraph of plain sentences, no trailing newline: the scan interval,
// dry run or the reap method and caps (per scan, per minute), what is
// protected, then each policy in order (what it matches, when a connection
// counts as dead, confirm, its cap, per-peer limit, and verification with
// its cap on probes per scan).
std::string describe(const Config& c);

}  // namespace tcpreap
