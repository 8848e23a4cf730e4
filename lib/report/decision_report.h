#pragma once
// How a decision is printed next to its socket: three table columns
// (policy, verdict, why) and the JSON fields. No allocation once `out` is warm.

#include <string>

#include "config/config.h"
#include "decide/verdict.h"

namespace tcpreap {

// " zk-clients  dead  silent 4m12s >= 2m" - appended before the row's newline.
// (The figure is rounded for reading; the limit is exact, as configured.)
void append_decision_columns(const Decision& d, const Config& c, std::string& out);
void append_decision_header(std::string& out);

// ,"policy":"zk","verdict":"dead","reason":"silent","threshold_ms":120000,...
// appended inside a JSON object (before its closing brace).
void append_decision_json(const Decision& d, const Config& c, std::string& out);

}  // namespace tcpreap
