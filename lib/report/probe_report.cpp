#include "report/probe_report.h"

#include "config/duration.h"
#include "report/socket_table.h"

namespace tcpreap {

namespace {

constexpr size_t kWordWidth = 14;
constexpr size_t kTupleWidth = 50;

void pad(std::string& out, size_t start, size_t width) {
  out.append(out.size() - start < width ? width - (out.size() - start) : 1, ' ');
}

}  // namespace

void append_probe_line(const ProbeLine& l, std::string& out) {
  const Decision& d = *l.decision;
  const ProbeOutcome& o = *l.outcome;
  size_t start = out.size();
  if (probe_was_sent(o.result) || o.result == ProbeResult::kGone) {
    // This probe's number: the decision counts the ones before it.
    out += "probe " + std::to_string(d.probe.sent + 1) + "/" + std::to_string(d.probe.wanted);
  } else {
    out += "probe FAILED";
  }
  pad(out, start, kWordWidth);
  start = out.size();
  append_endpoint(l.socket->local, l.socket->local_port, out);
  out += " <- ";
  append_endpoint(l.socket->remote, l.socket->remote_port, out);
  pad(out, start, kTupleWidth);
  if (d.policy >= 0) {
    out += l.config->policies[static_cast<size_t>(d.policy)].name;
    out += ": ";
    out += reason_name(d.reason);
    out += ' ';
    append_duration_ms(d.figures.last_recv_ms, out);
    out += " >= ";
    out += format_duration(d.threshold);
    out += ": ";
  }
  out += probe_result_name(o.result);
  switch (o.result) {
    case ProbeResult::kSent:
      break;
    case ProbeResult::kAnswered:
      out += ": alive";
      break;
    default:
      if (!o.detail.empty()) out += ": " + o.detail;
      break;
  }
  if (l.netns && !l.netns->own) {
    out += " in netns ";
    out += l.netns->label();
  }
  out += '\n';
}

}  // namespace tcpreap
