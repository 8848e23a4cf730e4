#include "report/decision_report.h"

#include <charconv>

#include "config/duration.h"
#include "report/socket_table.h"

namespace tcpreap {

namespace {

constexpr size_t kPolicyWidth = 18;
constexpr size_t kVerdictWidth = 12;

void put_number(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void padded(std::string& out, std::string_view text, size_t width) {
  out += ' ';
  out += text;
  if (text.size() < width) out.append(width - text.size(), ' ');
}

// The figure that crossed the threshold, for the reason given.
uint32_t figure_for(const Decision& d) {
  switch (d.reason) {
    case DeadReason::kSilent:
    case DeadReason::kPerPeerLimit:
      return d.figures.last_recv_ms;
    case DeadReason::kUnacked:
      return d.figures.unacked_for_ms;
    case DeadReason::kStateTimeout:
      return d.figures.in_state_ms;
    case DeadReason::kNone:
      break;
  }
  return 0;
}

// ", probe 1/3 sent 2.1s ago", ", probe due", ", 2 probe attempts failed",
// ", 3 probes unanswered": where the verification of a verifying (or
// verified dead) socket stands.
void append_probe_state(const Decision& d, std::string& out) {
  const ProbeState& p = d.probe;
  if (p.wanted == 0) return;
  if (d.verdict == Verdict::kDead) {
    out += ", ";
    put_number(out, p.sent);
    out += p.sent == 1 ? " probe unanswered" : " probes unanswered";
    return;
  }
  if (d.verdict != Verdict::kVerifying) return;
  if (p.due) {
    out += ", probe due";
  } else if (p.sent > 0 && p.failures == 0) {
    out += ", probe ";
    put_number(out, p.sent);
    out += '/';
    put_number(out, p.wanted);
    out += " sent ";
    append_duration_ms(p.since_last_ms, out);
    out += " ago";
  }
  if (p.failures > 0) {
    out += ", ";
    put_number(out, p.failures);
    out += p.failures == 1 ? " probe attempt failed" : " probe attempts failed";
  }
}

}  // namespace

void append_decision_header(std::string& out) {
  // Replaces the table header's newline.
  if (!out.empty() && out.back() == '\n') out.pop_back();
  padded(out, "Policy", kPolicyWidth);
  padded(out, "Verdict", kVerdictWidth);
  out += " Why\n";
}

void append_decision_columns(const Decision& d, const Config& c, std::string& out) {
  if (!out.empty() && out.back() == '\n') out.pop_back();
  padded(out, d.policy >= 0 ? std::string_view(c.policies[static_cast<size_t>(d.policy)].name) : "-", kPolicyWidth);
  const size_t start = out.size();
  out += ' ';
  out += verdict_name(d.verdict);
  if (d.verdict == Verdict::kSuspect) {
    out += ' ';
    put_number(out, d.dead_scans);
    out += '/';
    put_number(out, d.confirm);
  } else if (d.verdict == Verdict::kVerifying) {
    out += ' ';
    put_number(out, d.probe.sent);
    out += '/';
    put_number(out, d.probe.wanted);
  }
  if (out.size() - start < kVerdictWidth + 1) out.append(kVerdictWidth + 1 - (out.size() - start), ' ');
  if (d.reason != DeadReason::kNone) {
    out += ' ';
    out += reason_name(d.reason);
    out += ' ';
    append_duration_ms(figure_for(d), out);
    out += " >= ";
    out += format_duration(d.threshold);  // as the config wrote it
    if (d.reason == DeadReason::kPerPeerLimit) {
      out += ", ";
      put_number(out, d.figures.peer_connections);
      out += " from this peer";
    }
    append_probe_state(d, out);
    if (d.held_back) out += " (held back: max_per_scan)";
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  out += '\n';
}

void append_decision_json(const Decision& d, const Config& c, std::string& out) {
  out += ",\"policy\":";
  if (d.policy >= 0) {
    // Policy names are [a-z0-9_.-]: nothing to escape.
    out += '"';
    out += c.policies[static_cast<size_t>(d.policy)].name;
    out += '"';
  } else {
    out += "null";
  }
  out += ",\"verdict\":\"";
  out += verdict_name(d.verdict);
  out += "\",\"reason\":";
  if (d.reason == DeadReason::kNone) {
    out += "null,\"threshold_ms\":null";
  } else {
    out += '"';
    out += reason_name(d.reason);
    out += "\",\"threshold_ms\":";
    put_number(out, static_cast<uint64_t>(d.threshold.count()));
  }
  out += ",\"dead_scans\":";
  put_number(out, d.dead_scans);
  out += ",\"confirm\":";
  put_number(out, d.confirm);
  out += ",\"held_back\":";
  out += d.held_back ? "true" : "false";
  out += ",\"unacked_for_ms\":";
  put_number(out, d.figures.unacked_for_ms);
  out += ",\"in_state_ms\":";
  put_number(out, d.figures.in_state_ms);
  out += ",\"peer_connections\":";
  put_number(out, d.figures.peer_connections);
  out += ",\"probes_sent\":";
  put_number(out, d.probe.sent);
  out += ",\"probes_wanted\":";
  put_number(out, d.probe.wanted);
  out += ",\"probe_due\":";
  out += d.probe.due ? "true" : "false";
  out += ",\"probe_failures\":";
  put_number(out, d.probe.failures);
}

}  // namespace tcpreap
