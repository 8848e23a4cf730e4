#include "log/socket_owner.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <string_view>

#include "net/unique_fd.h"

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

bool holds_socket(int proc_fd, const char* pid_dir, std::string_view wanted) {
  const std::string fd_path = std::string(pid_dir) + "/fd";
  DirPtr fds = open_dir_at(proc_fd, fd_path.c_str());
  if (!fds) return false;  // EACCES, or the process is gone
  char link[64];
  while (const dirent* e = ::readdir(fds.get())) {
    if (e->d_name[0] == '.') continue;
    const ssize_t n = ::readlinkat(::dirfd(fds.get()), e->d_name, link, sizeof link);
    // A link filling the buffer may be truncated; "socket:[...]" never does.
    if (n <= 0 || static_cast<size_t>(n) >= sizeof link) continue;
    if (std::string_view(link, static_cast<size_t>(n)) == wanted) return true;
  }
  return false;
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

std::optional<SocketOwner> find_socket_owner(uint64_t inode, const std::string& proc_root) {
  if (inode == 0) return std::nullopt;
  DirPtr proc = open_dir_at(AT_FDCWD, proc_root.c_str());
  if (!proc) return std::nullopt;
  const std::string wanted = "socket:[" + std::to_string(inode) + "]";
  const int proc_fd = ::dirfd(proc.get());
  while (const dirent* e = ::readdir(proc.get())) {
    int pid = 0;
    if (!parse_pid(e->d_name, pid)) continue;
    if (holds_socket(proc_fd, e->d_name, wanted)) return SocketOwner{pid, read_comm(proc_fd, e->d_name)};
  }
  return std::nullopt;
}

}  // namespace tcpreap
