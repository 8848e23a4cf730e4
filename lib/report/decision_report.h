#pragma once
// How a decision is printed next to its socket: three table columns
// (policy, verdict, why) and the JSON fields. No allocation once `out` is warm.

#include <string>

#include "config/config.h"
#include "decide/verdict.h"

namespace tcpreap {

// " zk-clients  dead  silent 4m12s >= 2m" - appended before the row's newline.
// (The figure is rounded for reading; the limit is exact, as configured.)
// The verdict column counts scans for a suspect ("suspect 1/3") and probes
// sent for a socket being verified ("verifying 1/3"); the why column then
// says where the verification stands: ", probe 1/3 sent 2.1s ago",
// ", probe due", ", 2 probe attempts failed", and for a socket dead after
// verification ", 3 probes unanswered".
void append_decision_columns(const Decision& d, const Config& c, std::string& out);
void append_decision_header(std::string& out);

// ,"policy":"zk","verdict":"dead","reason":"silent","threshold_ms":120000,...
// ...,"probes_sent":0,"probes_wanted":0,"probe_due":false,"probe_failures":0
// appended inside a JSON object (before its closing brace). Every field is
// always present; the probe fields are 0/false unless the policy verifies
// the socket (verdict verifying, or dead after verification).
void append_decision_json(const Decision& d, const Config& c, std::string& out);

}  // namespace tcpreap
