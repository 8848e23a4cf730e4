#include "diag/socket_owner.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <string_view>

#include "core/proc_entries.h"
#include "core/unique_fd.h"

namespace tcpreap {

namespace {

// Calls found(inode) for each socket descriptor of the process whose inode
// `wanted` holds; stops early when it returns false.
template <typename Found>
void scan_fds(int proc_fd, const char* pid_dir, Found&& found) {
  const std::string fd_path = std::string(pid_dir) + "/fd";
  DirPtr fds = open_dir_at(proc_fd, fd_path.c_str());
  if (!fds) return;  // EACCES, or the process is gone
  char link[64];
  while (const dirent* e = ::readdir(fds.get())) {
    if (e->d_name[0] == '.') continue;
    const ssize_t n = ::readlinkat(::dirfd(fds.get()), e->d_name, link, sizeof link);
    // A link filling the buffer may be truncated; "socket:[...]" never does.
    if (n <= 0 || static_cast<size_t>(n) >= sizeof link) continue;
    if (const auto inode = linked_inode(std::string_view(link, static_cast<size_t>(n)), "socket"); inode && *inode != 0)
      if (!found(*inode)) return;
  }
}

std::string read_comm(int proc_fd, const char* pid_dir) {
  const std::string path = std::string(pid_dir) + "/comm";
  UniqueFd fd(::openat(proc_fd, path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  char buf[64];  // TASK_COMM_LEN is 16
  const ssize_t n = ::read(fd.get(), buf, sizeof buf);
  if (n <= 0) return {};
  std::string name(buf, static_cast<size_t>(n));
  while (!name.empty() && (name.back() == '\n' || name.back() == '\0')) name.pop_back();
  return name;
}

}  // namespace

std::unordered_map<uint64_t, SocketOwner> find_socket_owners(std::span<const uint64_t> inodes,
                                                             std::chrono::steady_clock::time_point deadline,
                                                             const std::string& proc_root) {
  std::unordered_map<uint64_t, SocketOwner> found;
  std::unordered_map<uint64_t, bool> wanted;  // inode -> found already
  for (uint64_t i : inodes)
    if (i != 0) wanted.emplace(i, false);
  if (wanted.empty()) return found;
  DirPtr proc = open_dir_at(AT_FDCWD, proc_root.c_str());
  if (!proc) return found;
  const int proc_fd = ::dirfd(proc.get());
  while (const dirent* e = ::readdir(proc.get())) {
    if (found.size() == wanted.size() || std::chrono::steady_clock::now() >= deadline) break;
    const std::optional<int> pid = parse_pid(e->d_name);
    if (!pid) continue;
    std::optional<std::string> comm;
    scan_fds(proc_fd, e->d_name, [&](uint64_t inode) {
      auto it = wanted.find(inode);
      if (it == wanted.end() || it->second) return true;
      it->second = true;
      if (!comm) comm = read_comm(proc_fd, e->d_name);
      found.emplace(inode, SocketOwner{*pid, *comm});
      return found.size() < wanted.size();
    });
  }
  return found;
}

std::optional<SocketOwner> find_socket_owner(uint64_t inode, const std::string& proc_root) {
  const uint64_t one[] = {inode};
  auto found = find_socket_owners(one, std::chrono::steady_clock::time_point::max(), proc_root);
  if (auto it = found.find(inode); it != found.end()) return it->second;
  return std::nullopt;
}

}  // namespace tcpreap
