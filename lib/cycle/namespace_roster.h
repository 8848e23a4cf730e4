#pragma once
// Keeps a ReapCycle's namespaces in step with what discovery finds
// (netns/netns_discovery.h), `namespaces:` lets it scan and its policies can
// act in: a namespace found, scanned, and where some policy applies
// (match.namespaces; always, for the own one) is added with tools made
// inside it; one no longer found, now excluded, or where no policy applies
// any more, is removed at once - every socket tcpreap held in it closed, so
// that the namespace and its devices can go. A namespace no policy can act
// in is never entered: nothing is opened there (no probe sockets, no sweep
// of neighbour entries).
//
// Identity decides (NetnsId), never the name. A namespace whose name changes
// (its /run/netns file removed while a process still holds it: now its
// container's or pid:<pid>) is removed and added again under the new name,
// since match.namespaces and `exclude` judge names; the engine's history of
// its sockets, kept per socket cookie, survives that. Not thread-safe.

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "cycle/reap_cycle.h"
#include "netns/netns_discovery.h"

namespace tcpreap {

struct RosterFailure {
  NamespaceInfo info;
  Error error;
};

struct RosterChange {
  std::vector<NamespaceInfo> added;
  std::vector<NamespaceInfo> removed;  // no longer found, or excluded now
  // Found and meant to be scanned, but its tools could not be made (setns
  // refused, EMFILE, it vanished meanwhile): tried again at every sync, and
  // listed here only the first time it fails (or when its errno changes).
  std::vector<RosterFailure> failed;
};

class NamespaceRoster {
 public:
  // Applies `found` to `cycle` under `scope`. The own namespace (source
  // kHost) gets SocketMaker::here(); every other one a maker on its
  // NetnsEntry::fd, which the cycle keeps for as long as it scans it.
  RosterChange sync(ReapCycle& cycle, DiscoveredNamespaces found, const NamespaceScope& scope);

  // Back to the own namespace only (namespaces.scan: host): every other one
  // removed, the own added if it was not scanned (it was excluded).
  RosterChange sync_own(ReapCycle& cycle);

  // Found, meant to be scanned, and failing to open, at the last sync.
  size_t failing() const { return failing_.size(); }

 private:
  struct Failing {
    NetnsId id;
    int errnum = 0;
  };
  std::vector<Failing> failing_;
};

// "name net:[ino]" for the log, or "host".
NamespaceInfo namespace_info_of(const NetnsEntry& entry);

}  // namespace tcpreap
