#include "netns/netns_lookup.h"

#include <fcntl.h>

#include <cerrno>
#include <string>
#include <vector>

#include "core/message_text.h"

namespace tcpreap {

namespace {

constexpr const char* kWhereNames =
    "`tcpreap list -A` shows the names of the namespaces with TCP sockets, `tcpreap list -A --json` their "
    "identities as well";

// The entries `name` names: by identity when it is one, else by name or by
// the container or pod of a process inside.
std::vector<size_t> matching(std::string_view name, const DiscoveredNamespaces& found) {
  const bool identity = name.starts_with("net:[");
  std::vector<size_t> out;
  for (size_t i = 0; i < found.namespaces.size(); ++i) {
    const NetnsEntry& e = found.namespaces[i];
    const bool hit = identity ? e.id.to_string() == name
                              : e.name == name || (!e.container.empty() && e.container == name);
    if (hit) out.push_back(i);
  }
  return out;
}

Result<NetnsEntry> by_path(std::string_view name, const DiscoveryRoots& roots) {
  const std::string path(name);
  // O_NONBLOCK: a FIFO named by mistake must not hang the command.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return Error(errno, "opening the network namespace file " + printable(path));
  if (roots.require_netns)
    if (Status s = check_network_namespace(fd.get(), printable(path)); !s) return s.error();
  auto id = read_netns_id(fd.get(), printable(path));
  if (!id) return id.error();
  auto found = discover_namespaces(roots);
  if (!found) return found.error().wrap("finding the network namespaces");
  for (NetnsEntry& e : found->namespaces)
    if (e.id.dev == id->dev && e.id.ino == id->ino) return std::move(e);
  // Bound where discovery does not look: the path is the best name there is.
  NetnsEntry entry;
  entry.id = *id;
  entry.name = printable(path);
  entry.source = NetnsSource::kBound;
  entry.fd = std::move(fd);
  return entry;
}

}  // namespace

Result<NetnsEntry> find_network_namespace(std::string_view name, const DiscoveryRoots& roots) {
  if (name.empty()) return Error(0, "an empty network namespace name");
  if (name.find('/') != std::string_view::npos) return by_path(name, roots);

  auto found = discover_namespaces(roots);
  if (!found) return found.error().wrap("finding the network namespaces");
  const std::vector<size_t> hits = matching(name, *found);
  const std::string quoted = "'" + printable(name) + "'";
  if (hits.empty())
    return Error(0, "no network namespace is named " + quoted + " (" + kWhereNames +
                        "; a path such as /proc/PID/ns/net also names one)");
  if (hits.size() > 1) {
    std::string which;
    for (size_t i : hits) {
      const NetnsEntry& e = found->namespaces[i];
      which += which.empty() ? "" : ", ";
      which += e.id.to_string() + " (" + printable(e.name) + ")";
    }
    return Error(0, quoted + " names " + std::to_string(hits.size()) + " network namespaces: " + which +
                        "; name one by its identity, net:[<inode>]");
  }
  return std::move(found->namespaces[hits.front()]);
}

}  // namespace tcpreap
