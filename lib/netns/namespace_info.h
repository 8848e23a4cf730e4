#pragma once
// A network namespace as logs, the table and JSON show it: its name
// (netns/netns_discovery.h says how names are made), its identity, and the
// container or pod of a process inside, where known.

#include <string>

#include "netns/netns_identity.h"

namespace tcpreap {

struct NamespaceInfo {
  NetnsId id;
  std::string name;       // "host" for the process's own
  std::string container;  // the container ID (12 hex) or pod:<uid>, or empty
  bool own = false;       // the namespace the process runs in
  // "host" for the own namespace named so; else "<name> net:[<ino>]".
  std::string label() const {
    if (own && name == "host") return name;
    return name + " " + id.to_string();
  }
};

}  // namespace tcpreap
