#include "config/config_summary.h"

#include "config/duration.h"
#include "core/message_text.h"

namespace tcpreap {

namespace {

// "a", "a or b", "a, b or c" (and likewise with "and").
std::string join(const std::vector<std::string>& parts, const char* last_word) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += i + 1 == parts.size() ? std::string(" ") + last_word + " " : ", ";
    out += parts[i];
  }
  return out;
}

std::string ports_text(const std::vector<PortRange>& ranges) {
  std::vector<std::string> parts;
  for (const PortRange& r : ranges) parts.push_back(r.to_string());
  return join(parts, "or");
}

std::string prefixes_text(const std::vector<Cidr>& prefixes) {
  std::vector<std::string> parts;
  for (const Cidr& c : prefixes) parts.push_back(c.to_string());
  return join(parts, "or");
}

// "established or close-wait sockets with local port 2181 and remote address in 10.0.0.0/8".
std::string match_text(const Match& m) {
  std::vector<std::string> conditions;
  if (!m.local_ports.empty()) conditions.push_back("local port " + ports_text(m.local_ports));
  if (!m.remote_ports.empty()) conditions.push_back("remote port " + ports_text(m.remote_ports));
  if (!m.ports.empty()) conditions.push_back("port " + ports_text(m.ports) + " at either end");
  if (!m.local.empty()) conditions.push_back("local address in " + prefixes_text(m.local));
  if (!m.remote.empty()) conditions.push_back("remote address in " + prefixes_text(m.remote));
  const std::vector<std::string> states = m.states.names();
  const bool any_state = states.size() == 1 && states[0] == "all";
  if (any_state && conditions.empty()) return "every socket";
  std::string out = any_state ? "sockets" : join(states, "or") + " sockets";
  if (!conditions.empty()) out += " with " + join(conditions, "and");
  return out;
}

// "'cni-*' or 'host'": globs quoted, for they are written as globs.
std::string globs_text(const std::vector<std::string>& globs) {
  std::vector<std::string> parts;
  for (const std::string& g : globs) parts.push_back(quoted_text(g));
  return join(parts, "or");
}

// Only scan: all is told: the host alone is what tcpreap always did.
std::string namespaces_text(const NamespaceScope& n) {
  if (n.scan == NamespaceScope::Mode::kHost) return "";
  std::string out = " It scans every network namespace on the host";
  if (!n.exclude.empty()) out += " but those matching " + globs_text(n.exclude);
  out += ", a new one within " + format_duration(n.discover_every) +
         "; the caps count across them all, per-peer limits within each, and protect rules apply in every one.";
  return out;
}

std::string method_text(ReapMethod m) {
  std::string out = reap_method_name(m);
  switch (m) {
    case ReapMethod::kAuto:
      return out + " (SOCK_DESTROY, or an injected RST where the kernel cannot destroy)";
    case ReapMethod::kDestroy:
      return out + " (SOCK_DESTROY only)";
    case ReapMethod::kRst:
      return out + " (an injected RST)";
  }
  return out;
}

std::string policy_text(const Policy& p, bool dry_run) {
  std::string out = "Policy '" + p.name + "' decides";
  if (!p.namespaces.empty()) out += ", in the namespaces matching " + globs_text(p.namespaces) + ",";
  out += " for " + match_text(p.match) + ": a connection is dead once ";
  std::vector<std::string> dead;
  if (p.dead_when.silent_for) dead.push_back("it has been silent for " + format_duration(*p.dead_when.silent_for));
  if (p.dead_when.unacked_for)
    dead.push_back("its data has gone unacknowledged for " + format_duration(*p.dead_when.unacked_for));
  for (const StateTimeout& t : p.dead_when.in_state_for) {
    const auto names = t.state < 32 ? StateSet(1u << t.state).names() : std::vector<std::string>{};
    dead.push_back("it has been in state " + (names.empty() ? std::string("?") : names[0]) + " for " +
                   format_duration(t.after));
  }
  out += join(dead, "or");
  out += dry_run ? ", and would be reaped" : ", and is reaped";
  if (p.confirm == 1)
    out += " on the first scan it looks dead";
  else
    out += " once it has looked dead on " + std::to_string(p.confirm) + " consecutive scans";
  if (p.max_per_scan) out += ", at most " + std::to_string(*p.max_per_scan) + " per scan";
  if (p.per_peer_limit) {
    out += "; when one peer holds more than " + std::to_string(p.per_peer_limit->max) +
           " of its connections, the longest silent among them (silent at least " +
           format_duration(p.per_peer_limit->min_silent) + ") are dead too";
  }
  if (p.verify) {
    const std::string interval = format_duration(p.verify->interval);
    out += "; a connection dead by silence is verified first: its peer is probed ";
    if (p.verify->probes == 1)
      out += "once, with " + interval + " to answer";
    else
      out += "up to " + std::to_string(p.verify->probes) + " times, " + interval + " apart";
    out += ", and an answer keeps the connection alive";
    const uint32_t most = p.verify->max_per_scan;
    out += "; at most " + std::to_string(most) + " of its probes " + (most == 1 ? "goes" : "go") + " out per scan";
  }
  return out + ".";
}

}  // namespace

std::string describe(const Config& c) {
  std::string out = "Every " + format_duration(c.scan_interval) + " tcpreap scans TCP sockets and ";
  const std::string how = "with method " + method_text(c.method) + ", at most " + std::to_string(c.max_per_scan) +
                          " per scan and " + std::to_string(c.max_per_minute) + " per minute";
  if (c.dry_run)
    out += "reports the dead connections it would reap " + how + ", but reaps none (dry run).";
  else
    out += "reaps dead connections " + how + ".";
  out += namespaces_text(c.namespaces);
  if (c.protect.empty()) {
    out += " Nothing is protected.";
  } else if (c.protect.size() == 1) {
    out += " It never touches " + match_text(c.protect[0]) + ".";
  } else {
    out += " It never touches these: ";
    for (size_t i = 0; i < c.protect.size(); ++i) out += (i ? "; " : "") + match_text(c.protect[i]);
    out += ".";
  }
  if (c.policies.size() > 1) out += " Policies are tried in order; the first whose match fits a socket decides.";
  for (const Policy& p : c.policies) out += " " + policy_text(p, c.dry_run);
  return out;
}

}  // namespace tcpreap
