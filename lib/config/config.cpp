#include "config/config.h"

#include "netns/netns_name_match.h"

namespace tcpreap {

const char* reap_method_name(ReapMethod m) {
  switch (m) {
    case ReapMethod::kAuto:
      return "auto";
    case ReapMethod::kDestroy:
      return "destroy";
    case ReapMethod::kRst:
      return "rst";
  }
  return "?";
}

std::optional<ReapMethod> parse_reap_method(std::string_view name) {
  for (ReapMethod m : {ReapMethod::kAuto, ReapMethod::kDestroy, ReapMethod::kRst})
    if (name == reap_method_name(m)) return m;
  return std::nullopt;
}

bool Policy::applies_in(std::string_view netns_name) const {
  return namespaces.empty() || name_matches(netns_name, namespaces);
}

bool Policy::applies_in(std::string_view netns_name, const NetnsId& id) const {
  return namespaces.empty() || netns_matches(netns_name, id, namespaces);
}

const char* namespace_mode_name(NamespaceScope::Mode m) {
  switch (m) {
    case NamespaceScope::Mode::kHost:
      return "host";
    case NamespaceScope::Mode::kAll:
      return "all";
  }
  return "?";
}

std::optional<NamespaceScope::Mode> parse_namespace_mode(std::string_view name) {
  for (NamespaceScope::Mode m : {NamespaceScope::Mode::kHost, NamespaceScope::Mode::kAll})
    if (name == namespace_mode_name(m)) return m;
  return std::nullopt;
}

bool NamespaceScope::scans(std::string_view name, const NetnsId& id) const {
  if (scan == Mode::kHost) return name == "host";
  return !netns_matches(name, id, exclude);
}

SocketFilter Config::scan_filter() const {
  SocketFilter f;
  f.states = StateSet();
  for (const Policy& p : policies) {
    f.states = f.states | p.match.states;
    f.any_clause.push_back(p.match.to_groups());
  }
  return f;
}

}  // namespace tcpreap
