#include "config/config_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.h"

namespace tcpreap {

namespace {

ConfigLoad unreadable(const std::string& path, int errnum) {
  ConfigLoad out;
  out.errors.push_back(ConfigDiagnostic{path, 0, 0, Error(errnum, "cannot read the config").message()});
  return out;
}

// Reads at most one byte past kMaxConfigBytes: enough for the loader to
// refuse a file that is too large without reading all of it.
ConfigLoad load_fd(const UniqueFd& fd, const std::string& path) {
  std::string text;
  char buf[8192];
  while (text.size() <= kMaxConfigBytes) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return unreadable(path, errno);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return load_config_text(text, path);
}

}  // namespace

ConfigFile ConfigFile::open(std::string path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  const int err = fd ? 0 : errno;
  return ConfigFile(std::move(path), std::move(name), std::move(fd), err);
}

ConfigLoad ConfigFile::load() const {
  if (!dir_) return unreadable(path_, dir_errno_);
  if (name_.empty()) return unreadable(path_, EISDIR);
  UniqueFd fd(::openat(dir_.get(), name_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return unreadable(path_, errno);
  return load_fd(fd, path_);
}

ConfigLoad load_config_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return unreadable(path, errno);
  return load_fd(fd, path);
}

}  // namespace tcpreap
