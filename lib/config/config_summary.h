#pragma once
// What a config will do, in words: for `tcpreap check` and the start-up log.

#include <string>

#include "config/config.h"

namespace tcpreap {

// One paragraph of plain sentences, no trailing newline: the scan interval,
// dry run or the reap method and caps (per scan, per minute), the network
// namespaces scanned (only when every one is: what is excluded, how soon a
// new one is scanned), what is protected, then each policy in order (the
// namespaces it is restricted to, what it matches, when a connection counts
// as dead, confirm, its cap, per-peer limit, and verification with its cap
// on probes per scan).
std::string describe(const Config& c);

}  // namespace tcpreap
