#pragma once
// What makes a network namespace itself: the nsfs inode behind any file that
// refers to it (/proc/PID/ns/net, a bind mount in /run/netns, an open fd).
// Names and paths are only labels; two files are the same namespace exactly
// when their NetnsIds compare equal.

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/unique_fd.h"

namespace tcpreap {

struct NetnsId {
  uint64_t dev = 0;  // st_dev: nsfs's one superblock on a real kernel
  uint64_t ino = 0;  // st_ino: what `readlink /proc/PID/ns/net` prints
  // The kernel's namespace id (ioctl NS_GET_ID, Linux 6.18+; equal to the
  // netns cookie that SO_NETNS_COOKIE reports). Unlike the inode it is never
  // reused, so it tells a recycled inode apart across two discoveries.
  // nullopt on older kernels and for files that are not namespaces.
  std::optional<uint64_t> cookie;

  // "net:[<ino>]", as `readlink /proc/PID/ns/net`, `ip netns identify` and
  // `lsns` show it.
  std::string to_string() const;

  bool operator==(const NetnsId&) const = default;
};

// The identity of whatever `fd` refers to: fstat for dev and inode, NS_GET_ID
// for the cookie. `path` only names the file in the error (errno of fstat).
Result<NetnsId> read_netns_id(int fd, const std::string& path);

// Ok when `fd` refers to a network namespace (ioctl NS_GET_NSTYPE is
// CLONE_NEWNET). An error (errno ENOTTY for a file of another file system,
// such as the empty placeholder a failed `ip netns add` or a rootless
// runtime leaves; 0 for a namespace of another type) names `path`.
Status check_network_namespace(int fd, const std::string& path);

// A namespace file held open, and its identity. While `fd` is open the
// namespace cannot go away, so its inode cannot be given to a new one.
struct OpenNetns {
  UniqueFd fd;
  NetnsId id;
};

// The calling thread's network namespace, from
// `<proc_root>/thread-self/ns/net`, opened O_RDONLY|O_CLOEXEC and checked to
// be a network namespace unless `require_netns` is false (unit tests over a
// fake tree). thread-self, not self: setns() moves only the calling thread,
// and /proc/self/ns/net is the main thread's namespace. The namespace this
// thread's new sockets land in is the one to call the daemon's own, so call
// this from a thread that has not setns()'d elsewhere.
Result<OpenNetns> open_own_netns(const std::string& proc_root = "/proc", bool require_netns = true);

}  // namespace tcpreap
