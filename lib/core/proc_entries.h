#pragma once
// Walking /proc: its directories, its process entries, and the links whose
// target names a kernel object by inode ("socket:[123]", "net:[4026531840]").
// Shared by the socket-owner lookup (diag/) and namespace discovery (netns/).

#include <dirent.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace tcpreap {

struct DirClose {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirClose>;

// The directory `path` under `at` (AT_FDCWD or a directory fd), opened
// O_DIRECTORY|O_CLOEXEC for reading; null with errno set when it cannot be.
DirPtr open_dir_at(int at, const char* path);

// A process directory's name: digits only, a positive pid that fits an int.
std::optional<int> parse_pid(std::string_view name);

// The inode in a link target of the form "<kind>:[<inode>]" (kind "socket",
// "net"); nothing when the target has another form or kind.
std::optional<uint64_t> linked_inode(std::string_view link, std::string_view kind);

}  // namespace tcpreap
