#pragma once
// Which process holds a socket, for the log line of an action on it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

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

// The owners of many sockets in one walk, which stops once every inode is
// found or at `deadline`: a host with hundreds of thousands of descriptors
// takes most of a second to walk, and the daemon's loop must not wait on
// that. Inodes not found (or not reached in time) are absent from the map.
std::unordered_map<uint64_t, SocketOwner> find_socket_owners(std::span<const uint64_t> inodes,
                                                             std::chrono::steady_clock::time_point deadline,
                                                             const std::string& proc_root = "/proc");

}  // namespace tcpreap
