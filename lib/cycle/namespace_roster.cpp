#include "cycle/namespace_roster.h"

#include <algorithm>
#include <memory>

namespace tcpreap {

NamespaceInfo namespace_info_of(const NetnsEntry& entry) {
  return NamespaceInfo{entry.id, entry.name, entry.container, entry.source == NetnsSource::kHost};
}

namespace {

// Whether a namespace is worth its sockets: `scope` scans it and, but for
// the own one, some policy applies there (match.namespaces) - a namespace no
// policy can act in is neither entered nor held.
bool wanted(const ReapCycle& cycle, const NamespaceScope& scope, const NetnsEntry& e) {
  if (!scope.scans(e.name, e.id)) return false;
  if (e.source == NetnsSource::kHost) return true;
  const auto& policies = cycle.config().policies;
  return std::any_of(policies.begin(), policies.end(), [&](const Policy& p) { return p.applies_in(e.name, e.id); });
}

}  // namespace

RosterChange NamespaceRoster::sync(ReapCycle& cycle, DiscoveredNamespaces found, const NamespaceScope& scope) {
  RosterChange change;
  // Gone or excluded first: their sockets close before new ones open.
  for (size_t slot = cycle.namespace_count(); slot-- > 0;) {
    const NamespaceInfo& info = cycle.namespace_info(static_cast<uint32_t>(slot));
    auto it = std::find_if(found.namespaces.begin(), found.namespaces.end(),
                           [&](const NetnsEntry& e) { return e.id == info.id; });
    if (it != found.namespaces.end() && it->name == info.name && wanted(cycle, scope, *it)) continue;
    change.removed.push_back(info);
    cycle.remove_namespace(info.id);
  }
  std::vector<Failing> failing;
  for (NetnsEntry& entry : found.namespaces) {
    if (!wanted(cycle, scope, entry) || cycle.find_namespace(entry.id)) continue;
    NamespaceInfo info = namespace_info_of(entry);
    SocketMaker maker = info.own ? SocketMaker::here()
                                 : SocketMaker::in(std::make_shared<const UniqueFd>(std::move(entry.fd)), info.label());
    if (auto s = cycle.add_namespace(info, std::move(maker)); !s) {
      auto before = std::find_if(failing_.begin(), failing_.end(), [&](const Failing& f) { return f.id == info.id; });
      // By errno: the text names descriptors, which differ from one
      // discovery to the next.
      if (before == failing_.end() || before->errnum != s.error().errnum()) change.failed.push_back({info, s.error()});
      failing.push_back({info.id, s.error().errnum()});
      continue;
    }
    change.added.push_back(std::move(info));
  }
  failing_ = std::move(failing);
  return change;
}

RosterChange NamespaceRoster::sync_own(ReapCycle& cycle) {
  DiscoveredNamespaces own;
  auto opened = open_own_netns();
  if (!opened) {
    // Cannot happen short of /proc missing; keep every namespace but the
    // foreign ones, and say why the own could not be added.
    RosterChange change;
    for (size_t slot = cycle.namespace_count(); slot-- > 0;) {
      const NamespaceInfo info = cycle.namespace_info(static_cast<uint32_t>(slot));
      if (info.own) continue;
      cycle.remove_namespace(info.id);
      change.removed.push_back(info);
    }
    change.failed.push_back({NamespaceInfo{{}, "host", {}, true}, opened.error()});
    return change;
  }
  NetnsEntry entry;
  entry.id = opened->id;
  entry.name = "host";
  entry.source = NetnsSource::kHost;
  entry.fd = std::move(opened->fd);
  own.namespaces.push_back(std::move(entry));
  return sync(cycle, std::move(own), NamespaceScope{});
}

}  // namespace tcpreap
