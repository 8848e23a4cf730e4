#include "core/proc_entries.h"

#include <fcntl.h>

#include <charconv>

#include "core/unique_fd.h"

namespace tcpreap {

DirPtr open_dir_at(int at, const char* path) {
  UniqueFd fd(::openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return nullptr;
  DIR* d = ::fdopendir(fd.get());
  if (d == nullptr) return nullptr;  // `fd` still owns the descriptor and closes it
  (void)fd.release();                // the DIR owns it now
  return DirPtr(d);
}

std::optional<int> parse_pid(std::string_view name) {
  if (name.empty()) return std::nullopt;
  int pid = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (ec != std::errc() || ptr != name.data() + name.size() || pid <= 0) return std::nullopt;
  return pid;
}

std::optional<uint64_t> linked_inode(std::string_view link, std::string_view kind) {
  // "<kind>:[" + at least one digit + "]"
  if (link.size() < kind.size() + 4 || !link.starts_with(kind) || link.substr(kind.size(), 2) != ":[" ||
      link.back() != ']')
    return std::nullopt;
  const char* first = link.data() + kind.size() + 2;
  const char* last = link.data() + link.size() - 1;
  uint64_t inode = 0;
  auto [ptr, ec] = std::from_chars(first, last, inode);
  if (ec != std::errc() || ptr != last) return std::nullopt;
  return inode;
}

}  // namespace tcpreap
