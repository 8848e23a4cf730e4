#include "log/event_log.h"

#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <type_traits>
#include <utility>

#include "report/probe_report.h"
#include "report/reap_report.h"
#include "report/socket_table.h"

namespace tcpreap {

namespace {

constexpr std::string_view kIdentifier = "tcpreapd";

std::string endpoint(const IpAddress& a, uint16_t port) {
  std::string out;
  append_endpoint(a, port, out);
  return out;
}

template <typename T>
std::string field(std::string_view key, const T& value) {
  std::string out(key);
  out += '=';
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    out += value;
  } else {
    out += std::to_string(value);
  }
  return out;
}

// journald's rule for a field a client may set: A-Z, 0-9 and '_', not
// starting with '_' (trusted fields) or a digit, at most 64 bytes.
bool valid_field(std::string_view f) {
  const size_t eq = f.find('=');
  if (eq == 0 || eq == std::string_view::npos || eq > 64) return false;
  const std::string_view name = f.substr(0, eq);
  if (name[0] == '_' || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char ch : name)
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  return name != "MESSAGE" && name != "PRIORITY" && name != "SYSLOG_IDENTIFIER";
}

std::vector<std::string> checked_fields(std::initializer_list<std::string> fields) {
  std::vector<std::string> out;
  out.reserve(fields.size());
  for (const auto& f : fields)
    if (valid_field(f)) out.push_back(f);
  return out;
}

// The fields every action carries: what, which socket, which policy, why.
void add_socket_fields(std::string_view action, const TcpSocket& s, const Decision& d, const Config& c,
                       std::vector<std::string>& f) {
  f.push_back(field("TCPREAP_ACTION", action));
  if (d.policy >= 0 && static_cast<size_t>(d.policy) < c.policies.size())
    f.push_back(field("TCPREAP_POLICY", c.policies[static_cast<size_t>(d.policy)].name));
  if (d.reason != DeadReason::kNone) f.push_back(field("TCPREAP_REASON", reason_name(d.reason)));
  f.push_back(field("TCPREAP_LOCAL", endpoint(s.local, s.local_port)));
  f.push_back(field("TCPREAP_REMOTE", endpoint(s.remote, s.remote_port)));
}

void add_figures(const Decision& d, std::vector<std::string>& f) {
  f.push_back(field("TCPREAP_LAST_RECV_MS", d.figures.last_recv_ms));
  f.push_back(field("TCPREAP_UNACKED", d.figures.unacked));
  f.push_back(field("TCPREAP_RETRANSMITS", static_cast<unsigned>(d.figures.retransmits)));
  if (d.reason == DeadReason::kNone) return;
  f.push_back(field("TCPREAP_THRESHOLD_MS", static_cast<long long>(d.threshold.count())));
  switch (d.reason) {
    case DeadReason::kUnacked: f.push_back(field("TCPREAP_UNACKED_FOR_MS", d.figures.unacked_for_ms)); break;
    case DeadReason::kStateTimeout: f.push_back(field("TCPREAP_IN_STATE_MS", d.figures.in_state_ms)); break;
    case DeadReason::kPerPeerLimit:
      f.push_back(field("TCPREAP_PEER_CONNECTIONS", d.figures.peer_connections));
      break;
    default: break;
  }
}

const char* reap_action(const Decision& d, const ReapOutcome* outcome) {
  if (outcome) return "reap";
  return d.held_back ? "held-back" : "would-reap";
}

// The message of a one-line report, without its newline.
std::string without_newline(std::string line) {
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

}  // namespace

EventLog::EventLog(LogTarget target, std::FILE* err, bool verbose, EventLogSeams seams)
    : target_(target), err_(err), verbose_(verbose), seams_(std::move(seams)) {}

void EventLog::log(Priority p, std::string_view message, std::initializer_list<std::string> fields) {
  emit(Record{p, std::string(message), checked_fields(fields), {}});
}

void EventLog::failure(std::string_view key, std::string_view message, std::initializer_list<std::string> fields) {
  emit(Record{Priority::kError, std::string(message), checked_fields(fields), std::string(key)});
}

void EventLog::reap(const TcpSocket& s, const Decision& d, const Config& c, const ReapOutcome* outcome,
                    const std::optional<SocketOwner>& owner, const NamespaceInfo* netns) {
  emit(reap_record(s, d, c, outcome, owner, netns));
}

void EventLog::probe(const TcpSocket& s, const Decision& d, const Config& c, const ProbeOutcome& outcome,
                     const NamespaceInfo* netns) {
  emit(probe_record(s, d, c, outcome, netns));
}

namespace {

// The namespace's fields (the report line names it already).
void add_namespace(const NamespaceInfo* netns, std::vector<std::string>& f) {
  if (!netns) return;
  f.push_back(field("TCPREAP_NETNS", netns->name));
  f.push_back(field("TCPREAP_NETNS_ID", netns->id.to_string()));
  if (!netns->container.empty()) f.push_back(field("TCPREAP_CONTAINER", netns->container));
}

}  // namespace

EventLog::Record EventLog::reap_record(const TcpSocket& s, const Decision& d, const Config& c,
                                       const ReapOutcome* outcome, const std::optional<SocketOwner>& owner,
                                       const NamespaceInfo* netns) {
  Record r;
  std::string line;
  append_reap_line(ReapLine{&s, &d, &c, outcome, netns}, line);
  r.message = without_newline(std::move(line));
  if (owner) {
    r.message += " (pid " + std::to_string(owner->pid);
    if (!owner->name.empty()) r.message += " " + owner->name;
    r.message += ')';
  }

  auto& f = r.fields;
  add_socket_fields(reap_action(d, outcome), s, d, c, f);
  if (outcome) {
    f.push_back(field("TCPREAP_METHOD", reap_via_name(outcome->via)));
    f.push_back(field("TCPREAP_OUTCOME", reap_result_name(outcome->result)));
  }
  add_figures(d, f);
  if (d.verdict == Verdict::kDead && d.probe.wanted > 0)
    f.push_back(field("TCPREAP_PROBES_UNANSWERED", static_cast<unsigned>(d.probe.sent)));
  f.push_back(field("TCPREAP_COOKIE", s.cookie));
  add_namespace(netns, f);
  if (owner) {
    f.push_back(field("TCPREAP_PID", owner->pid));
    if (!owner->name.empty()) f.push_back(field("TCPREAP_PROCESS", owner->name));
  }
  if (outcome && outcome->errnum != 0) f.push_back(field("TCPREAP_ERRNO", outcome->errnum));

  if (!outcome) {
    r.priority = d.held_back ? Priority::kInfo : Priority::kNotice;
  } else if (outcome->result == ReapResult::kDone) {
    r.priority = Priority::kNotice;
  } else if (outcome->result == ReapResult::kAlreadyGone) {
    r.priority = Priority::kInfo;
  } else {
    r.priority = Priority::kWarning;
    r.rate_key = std::string("reap:") + reap_via_name(outcome->via) + ":" + reap_result_name(outcome->result);
  }
  return r;
}

EventLog::Record EventLog::probe_record(const TcpSocket& s, const Decision& d, const Config& c,
                                        const ProbeOutcome& outcome, const NamespaceInfo* netns) {
  Record r;
  std::string line;
  append_probe_line(ProbeLine{&s, &d, &c, &outcome, netns}, line);
  r.message = without_newline(std::move(line));

  auto& f = r.fields;
  add_socket_fields("probe", s, d, c, f);
  // As the probe line counts: the decision holds the probes before this one.
  f.push_back(field("TCPREAP_PROBE", std::to_string(d.probe.sent + 1) + "/" + std::to_string(d.probe.wanted)));
  f.push_back(field("TCPREAP_OUTCOME", probe_result_name(outcome.result)));
  add_figures(d, f);
  f.push_back(field("TCPREAP_COOKIE", s.cookie));
  add_namespace(netns, f);
  if (outcome.errnum != 0) f.push_back(field("TCPREAP_ERRNO", outcome.errnum));

  if (outcome.result == ProbeResult::kAnswered) {
    // Alive, nothing changes: a host with 100 000 idle clients verifies
    // them all every silent_for, and a line each would flood the journal
    // (and journald's rate limit could then drop reap records). The turn
    // says how many answered (TurnReporter); --verbose shows each.
    r.priority = Priority::kDebug;
  } else if (probe_was_sent(outcome.result) || outcome.result == ProbeResult::kGone) {
    r.priority = Priority::kInfo;
  } else {
    r.priority = Priority::kWarning;
    r.rate_key = std::string("probe:") + probe_result_name(outcome.result);
  }
  return r;
}

std::vector<std::string> EventLog::journal_fields(const Record& r) {
  std::vector<std::string> out;
  out.reserve(r.fields.size() + 3);
  out.push_back(field("MESSAGE", r.message));
  out.push_back(field("PRIORITY", static_cast<unsigned>(r.priority)));
  out.push_back(field("SYSLOG_IDENTIFIER", kIdentifier));
  out.insert(out.end(), r.fields.begin(), r.fields.end());
  return out;
}

void EventLog::emit(Record r) {
  // Debug lines (one per turn) only when asked for, on either target: a
  // journal of a line every scan is noise nobody asked for.
  if (r.priority == Priority::kDebug && !verbose_) return;
  if (!r.rate_key.empty()) {
    const auto now = seams_.now ? seams_.now() : std::chrono::steady_clock::now();
    const RateLimiter::Verdict v = limiter_.check(r.rate_key, now);
    if (!v.log) return;
    if (v.suppressed_before > 0) {
      r.message += " (" + std::to_string(v.suppressed_before) + " similar " +
                   (v.suppressed_before == 1 ? "message" : "messages") + " suppressed)";
      r.fields.push_back(field("TCPREAP_SUPPRESSED", v.suppressed_before));
    }
  }
  if (target_ == LogTarget::kStderr) {
    write_line(r.message);
    return;
  }
  const std::vector<std::string> fields = journal_fields(r);
  if (seams_.journal) {
    seams_.journal(fields);
    return;
  }
  std::vector<iovec> iov;
  iov.reserve(fields.size());
  for (const auto& f : fields) iov.push_back(iovec{const_cast<char*>(f.data()), f.size()});
  // Values may hold newlines: sd_journal_sendv sends those fields length-prefixed.
  if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) < 0) write_line(r.message);
}

void EventLog::write_line(const std::string& message) {
  std::string line;
  line.reserve(kIdentifier.size() + 2 + message.size() + 1);
  line += kIdentifier;
  line += ": ";
  line += message;
  line += '\n';
  // Built whole and written at once: one line, never pieces of one.
  (void)std::fwrite(line.data(), 1, line.size(), err_);
  (void)std::fflush(err_);
}

}  // namespace tcpreap
