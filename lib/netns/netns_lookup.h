#pragma once
// The one network namespace an operator names, as `tcpreap --netns NAME`
// takes it (like `ss -N NAME`, but for every namespace discovery finds, not
// only those of `ip netns`).
//
// NAME is, tried in this order:
//   a path    anything holding a '/': the namespace file there
//             (/proc/PID/ns/net, /run/netns/NAME, a bind mount anywhere),
//             whether or not discovery reaches it that way
//   net:[INO] the identity, as `readlink /proc/PID/ns/net` and `lsns` show it
//   a name    what netns_discovery.h names a namespace (host, an `ip netns`
//             name, a container's 12 hex digits, pod:<uid>, pid:<pid>), or
//             the container or pod of a process inside (NetnsEntry::container:
//             a CRI pod's namespace is named after its /run/netns file, but
//             its pod:<uid> finds it too)
// Exactly one namespace must answer: names are labels, and two namespaces
// can share one.

#include <string_view>

#include "core/error.h"
#include "netns/netns_discovery.h"

namespace tcpreap {

// Runs discovery over `roots` and returns the entry NAME names, its
// descriptor open (for SocketMaker::in, or nothing to open when its source
// is kHost: the caller's own). A path that discovery did not reach is
// returned as an entry of its own: named by the path, source kBound, pid 0.
//
// Errors (errnum 0 unless a system call failed): none matches - the message
// says so and points at `tcpreap list -A`; several match - the message lists
// their identities and asks for net:[<inode>]; a path that cannot be opened
// (its errno) or is no network namespace (checked unless
// roots.require_netns is false); discovery failed.
Result<NetnsEntry> find_network_namespace(std::string_view name, const DiscoveryRoots& roots = {});

}  // namespace tcpreap
