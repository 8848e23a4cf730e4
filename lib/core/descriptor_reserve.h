#pragma once
// A few file descriptors held in reserve, let go when the process runs out
// (RLIMIT_NOFILE), taken back when there is room again.
//
// Why: out of descriptors, the metrics endpoint's accept() fails with
// EMFILE and civetweb's listener polls again at once - it spins on a CPU,
// and no scrape (nor the liveness probe) is answered, until a descriptor is
// free. tcpreapd's turns need no new descriptor to scan and reap, but a
// reload needs one to read the config. Releasing the reserve gives those
// their room back: the pending accept() succeeds and the spin stops.
//
// Not thread-safe: one owner (the daemon's event loop).

#include <sys/resource.h>

#include <vector>

#include "core/unique_fd.h"

namespace tcpreap {

class DescriptorReserve {
 public:
  enum class Change {
    kNone,      // as it was
    kReleased,  // no descriptor could be opened: the reserve was let go
    kRestored,  // the reserve was released and is held again
  };

  // Holds nothing yet: fill() or check() takes the reserve.
  explicit DescriptorReserve(int size) : size_(size) {}

  // Takes the reserve if there is room for it and as much again; false
  // when there is not (it then holds nothing).
  bool fill();

  // Once in a while (each turn): releases the reserve when no descriptor
  // can be opened, and takes it back, after a release, when fill() can.
  // Holding a reserve it cannot use: kNone. Released and still short: kNone.
  Change check();

  bool held() const { return !fds_.empty(); }
  int size() const { return size_; }

 private:
  int size_;
  std::vector<UniqueFd> fds_;
  bool released_ = false;
};

// The soft RLIMIT_NOFILE of this process (for messages); 0 if unknown.
rlim_t open_files_limit();

}  // namespace tcpreap
