#pragma once
// Which process holds a socket, for the log line of an action on it.

#include <cstdint>
#include <optional>
#include <string>

namespace tcpreap {

struct SocketOwner {
  int pid = 0;
  std::string name;  // /proc/<pid>/comm without its newline; empty if it could not be read
  bool operator==(const SocketOwner&) const = default;
};

// The first process (in readdir order of `proc_root`) with a descriptor whose
// link reads "socket:[<inode>]". Walks every /proc/<pid>/fd: meant for a few
// lookups per action, never per socket per scan. Entries that cannot be read
// (EACCES without CAP_SYS_PTRACE, processes exiting mid-walk) are skipped.
// nullopt for inode 0, when no process is found, or when `proc_root` cannot
// be opened. Sockets held by another thread's unshared fd table are missed.
std::optional<SocketOwner> find_socket_owner(uint64_t inode, const std::string& proc_root = "/proc");

}  // namespace tcpreap
