#pragma once
// Every network namespace of the host, each found once and named.
//
// Sources, walked in this order:
//   host     the calling thread's own namespace (open_own_netns)
//   bound    the files of /run/netns, which `ip netns` lists. containerd's
//            CRI plugin (cni-<uuid>), CRI-O's pinns (<uuid>) and rootful
//            podman (netns-<uuid>, formerly cni-<uuid>) bind their pods'
//            and containers' namespaces there too: they write /var/run/netns,
//            and /var/run is /run on every systemd distribution.
//   runtime  the runtimes' own directories (default_runtime_dirs())
//   process  /proc/PID/ns/net of every process: namespaces bound nowhere
//            (Docker with a custom exec-root, `unshare -n`, systemd's
//            PrivateNetwork=, systemd-nspawn, LXC/Incus, rootless podman
//            and Docker, whose bind mounts live in their own mount
//            namespace and leave only empty placeholder files on the host).
// A namespace is the same namespace wherever it is reached: entries are
// merged by identity (NetnsId dev and inode), never by name or path.
//
// Not found: namespaces held only by a non-main thread that setns()'d (only
// /proc/PID/ns/net is read, not every /proc/PID/task/TID), only by an open
// descriptor or a socket, or bound in a mount namespace other than the
// caller's.
//
// Names (shown in logs, the table and JSON, matched by `exclude` and
// `match.namespaces`), best first; the identity is always shown beside:
//   1. "host" for the caller's own namespace
//   2. the file name in /run/netns (the `ip netns` name); of several, the
//      first in byte order
//   3. the container or pod of a process inside, from its cgroup path
//      (container_name_from_cgroup): the container ID's first 12 hex
//      digits or "pod:<uid>". The cgroups of the (up to 8) lowest PIDs
//      holding the namespace are read, lowest first, until one names a
//      container or a pod.
//   4. the file name in a runtime directory. Below 3 because no runtime
//      names these files after its containers: Docker names them after the
//      network sandbox ID (libnetwork Sandbox.Key()), which no docker command
//      shows, so the container ID is what a user will recognise and write.
//      Docker's overlay namespaces ("ingress_sbox", "1-<netid>", "lb_<netid>")
//      hold no process and keep this name.
//   5. "pid:<pid>", the lowest PID holding it.
// Names are labels, not keys: two namespaces can share one.
//
// Cost: one readdir of /proc and one readlinkat of /proc/PID/ns/net per
// process; a stat, an open and an fstat only when the link names an inode
// not seen yet; a cgroup file read per namespace holding a process (up to 8,
// until one names a container), for NetnsEntry::container. No allocation per process on the way. Measured
// (tests/bench/netns_discovery_bench, Linux 6.18, 2 shared cores): ~5 µs of
// CPU per process, 50 ms for 10 000 processes, ~25 µs more per namespace.
// Each namespace found holds one descriptor: a host with more namespaces
// than free descriptors has the rest skipped as `failed` (EMFILE).
//
// Needs ptrace read access (CAP_SYS_PTRACE) to another user's
// /proc/PID/ns/net; the nsfs files bound in /run/netns read 0444 to anyone.
// What it may not read is skipped and counted. Thread-safe: it shares no
// state; call it from a thread that is in the daemon's own namespace
// (open_own_netns).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/unique_fd.h"
#include "netns/netns_identity.h"

namespace tcpreap {

enum class NetnsSource {
  kHost,        // the caller's own namespace
  kBound,       // a file in /run/netns
  kRuntimeDir,  // a file in a container runtime's directory
  kProcess,     // only through /proc/PID/ns/net
};

// "host", "bound", "runtime", "process".
std::string_view netns_source_name(NetnsSource source);

// A directory where a container runtime binds its namespaces.
struct RuntimeDir {
  std::string path;
  std::string runtime;  // "docker": shown with the entries found there
};

// Docker's /run/docker/netns (its default exec-root /var/run/docker). The
// others leave nothing of their own to walk (see the file comment):
// containerd, CRI-O and rootful podman use /run/netns; rootless podman's
// $XDG_RUNTIME_DIR/netns (/run/user/<uid>/netns) holds only placeholders seen
// from the host; nerdctl, LXC/Incus and systemd-nspawn bind nothing.
std::vector<RuntimeDir> default_runtime_dirs();

// Where to look. Injectable so that unit tests walk a fake tree.
struct DiscoveryRoots {
  std::string proc_root = "/proc";
  std::string bound_dir = "/run/netns";
  std::vector<RuntimeDir> runtime_dirs = default_runtime_dirs();
  // Whether each file must be a network namespace (NS_GET_NSTYPE). False
  // only for fake trees of regular files in unit tests.
  bool require_netns = true;
};

struct NetnsEntry {
  NetnsId id;
  std::string name;
  NetnsSource source = NetnsSource::kProcess;  // the first source in the file comment's order that had it
  std::string runtime;                         // RuntimeDir::runtime where it was found, or empty
  int pid = 0;  // the lowest PID whose /proc/PID/ns/net it is; 0 when no process was seen in it
  // The container ID (12 hex) or "pod:<uid>" from the cgroup of a process
  // inside, whatever the name is (a CRI pod's is its /run/netns file's); empty
  // when no process inside has one, and for the host.
  std::string container;
  // The namespace file, opened read-only and close-on-exec: for setns(),
  // and so that the namespace (and with it its inode) cannot be recycled
  // under us.
  UniqueFd fd;
};

// Files that could not be read, counted; the first one's error (errno and
// path) kept for the log.
struct SkippedFiles {
  unsigned count = 0;
  std::optional<Error> first;
};

struct DiscoverySkips {
  SkippedFiles gone;       // ENOENT, ESRCH: a process exited mid-walk (or is a zombie), a file went
  SkippedFiles denied;     // EACCES, EPERM: another user's process or a directory we may not read
  SkippedFiles not_netns;  // a file in a namespace directory that is no network namespace
  SkippedFiles failed;     // any other errno (EMFILE, ...)
};

struct DiscoveredNamespaces {
  std::vector<NetnsEntry> namespaces;  // the host's first, then by name, then by inode
  unsigned processes = 0;              // /proc/PID directories examined
  DiscoverySkips skipped;
};

// Walks the sources of `roots`. An error only when the caller's own
// namespace or the proc root cannot be read: everything else that fails is
// skipped and counted. A runtime directory (or /run/netns) that does not
// exist is no error and no skip. Never throws but std::bad_alloc.
Result<DiscoveredNamespaces> discover_namespaces(const DiscoveryRoots& roots = {});

}  // namespace tcpreap
