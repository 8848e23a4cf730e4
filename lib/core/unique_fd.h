#pragma once
// A file descriptor owned by exactly one object and closed when it goes.
//
// Move-only, with no implicit conversion to or from int: a raw descriptor
// enters through the explicit constructor or reset() and leaves only
// through get() (borrowed) or release() (ownership handed back). Not
// thread-safe, like any value.

#include <unistd.h>

#include <utility>

namespace tcpreap {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd` (a negative value means "none").
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  // The descriptor, still owned by this object; -1 when there is none.
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing: the caller now owns the result.
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }

  // Closes the current descriptor (if any) and owns `fd` instead. close()
  // errors are ignored: on Linux the descriptor is gone either way, and
  // retrying could close a descriptor another thread just received.
  void reset(int fd = -1) {
    const int old = std::exchange(fd_, fd);
    if (old >= 0) ::close(old);
  }

 private:
  int fd_ = -1;
};

}  // namespace tcpreap
