#include "report/reap_report.h"

#include "config/duration.h"
#include "report/socket_table.h"

namespace tcpreap {

namespace {

constexpr size_t kWordWidth = 14;
constexpr size_t kTupleWidth = 50;

const char* word(const ReapLine& l) {
  if (!l.outcome) return l.decision && l.decision->held_back ? "held back" : "would reap";
  switch (l.outcome->result) {
    case ReapResult::kDone: return "reaped";
    case ReapResult::kAlreadyGone: return "already gone";
    default: return "FAILED";
  }
}

}  // namespace

void append_reap_line(const ReapLine& l, std::string& out) {
  size_t start = out.size();
  out += word(l);
  out.append(out.size() - start < kWordWidth ? kWordWidth - (out.size() - start) : 1, ' ');
  start = out.size();
  append_endpoint(l.socket->local, l.socket->local_port, out);
  out += " <- ";
  append_endpoint(l.socket->remote, l.socket->remote_port, out);
  out.append(out.size() - start < kTupleWidth ? kTupleWidth - (out.size() - start) : 1, ' ');
  if (l.decision && l.config && l.decision->policy >= 0) {
    const Decision& d = *l.decision;
    out += l.config->policies[static_cast<size_t>(d.policy)].name;
    out += ": ";
    out += reason_name(d.reason);
    out += ' ';
    const uint32_t figure = d.reason == DeadReason::kUnacked       ? d.figures.unacked_for_ms
                            : d.reason == DeadReason::kStateTimeout ? d.figures.in_state_ms
                                                                    : d.figures.last_recv_ms;
    append_duration_ms(figure, out);
    out += " >= ";
    out += format_duration(d.threshold);
    if (d.reason == DeadReason::kPerPeerLimit) out += ", " + std::to_string(d.figures.peer_connections) + " from this peer";
    if (d.verdict == Verdict::kDead && d.probe.wanted > 0)
      out += ", " + std::to_string(d.probe.sent) + (d.probe.sent == 1 ? " probe" : " probes") + " unanswered";
  }
  if (l.outcome) {
    out += l.decision ? ", via " : "via ";
    out += reap_via_name(l.outcome->via);
    if (!l.outcome->ok()) {
      out += ": ";
      out += reap_result_name(l.outcome->result);
    }
    if (!l.outcome->detail.empty() && !l.outcome->ok()) {
      out += ": ";
      out += l.outcome->detail;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (l.netns && !l.netns->own) {
    out += " in netns ";
    out += l.netns->label();
  }
  out += '\n';
}

}  // namespace tcpreap
