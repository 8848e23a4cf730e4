#include "core/descriptor_reserve.h"

#include <sys/eventfd.h>

#include <cerrno>

namespace tcpreap {

namespace {

// Any descriptor will do: an eventfd needs no file system (PrivateDevices=,
// a read-only root) and no access right.
UniqueFd spare() { return UniqueFd(::eventfd(0, EFD_CLOEXEC)); }

}  // namespace

bool DescriptorReserve::fill() {
  // Room for the reserve and as much again: taking it back must not use
  // the last free descriptors, or the next check() would release it again.
  std::vector<UniqueFd> fds;
  for (int i = 0; i < 2 * size_; ++i) {
    UniqueFd fd = spare();
    if (!fd) return false;  // `fds` closes what it took
    fds.push_back(std::move(fd));
  }
  fds.resize(static_cast<size_t>(size_));
  fds_ = std::move(fds);
  return true;
}

DescriptorReserve::Change DescriptorReserve::check() {
  if (held()) {
    if (spare()) return Change::kNone;
    if (errno != EMFILE && errno != ENFILE) return Change::kNone;
    fds_.clear();
    released_ = true;
    return Change::kReleased;
  }
  if (!fill()) return Change::kNone;
  if (!released_) return Change::kNone;
  released_ = false;
  return Change::kRestored;
}

rlim_t open_files_limit() {
  rlimit r{};
  return ::getrlimit(RLIMIT_NOFILE, &r) == 0 ? r.rlim_cur : 0;
}

}  // namespace tcpreap
