#include "diag/socket_owner.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <string_view>

#include "core/unique_fd.h"

namespace tcpreap {

namespace {

struct DirClose {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirClose>;

// The directory `path` under `at` (AT_FDCWD or a directory fd) for reading;
// null when it cannot be opened.
DirPtr open_dir_at(int at, const char* path) {
  UniqueFd fd(::openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return nullptr;
  DIR* d = ::fdopendir(fd.get());
  if (d == nullptr) return nullptr;  // `fd` still owns the descriptor and closes it
  (void)fd.release();                // the DIR owns it now
  return DirPtr(d);
}

// A process directory's name: digits only.
bool parse_pid(const char* name, int& pid) {
  const std::string_view text(name);
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  return ec == std::errc() && ptr == text.data() + text.size() && pid > 0;
}

// The inode of a link reading "socket:[<inode>]", or 0.
uint64_t socket_inode(std::string_view link) {
  constexpr std::string_view kPrefix = "socket:[";
  if (link.size() < kPrefix.size() + 2 || link.substr(0, kPrefix.size()) != kPrefix || link.back() != ']') return 0;
  uint64_t inode = 0;
  const char* first = link.data() + kPrefix.size();
  const char* last = link.data() + link.size() - 1;
  auto [ptr, ec] = std::from_chars(first, last, inode);
  return ec == std::errc() && ptr == last ? inode : 0;
}

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
    if (const uint64_t inode = socket_inode(std::string_view(link, static_cast<size_t>(n))); inode != 0)
      if (!found(inode)) return;
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
    int pid = 0;
    if (!parse_pid(e->d_name, pid)) continue;
    std::optional<std::string> comm;
    scan_fds(proc_fd, e->d_name, [&](uint64_t inode) {
      auto it = wanted.find(inode);
      if (it == wanted.end() || it->second) return true;
      it->second = true;
      if (!comm) comm = read_comm(proc_fd, e->d_name);
      found.emplace(inode, SocketOwner{pid, *comm});
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
