#pragma once
// Keeps a failure that repeats (every scan failing the same way, every reap
// of a burst refused) from flooding the log, systemd-style: per key, up to
// `burst` messages in each window, then silence, counted; the first message
// after the window ends logs again and carries the count, so its line can say
// "(N similar messages suppressed)". A count whose key never logs again is
// not reported.
//
// Not thread-safe. Memory is bounded: at most kMaxKeys keys; a new key beyond
// that evicts the key whose window began first (its suppressed count is lost).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace tcpreap {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxKeys = 1024;

  // `burst` 0 counts as 1: a key's first message in a window always logs.
  // `max_keys` 0 counts as 1.
  explicit RateLimiter(std::chrono::seconds window = std::chrono::seconds(60), uint32_t burst = 5,
                       size_t max_keys = kMaxKeys);

  struct Verdict {
    bool log = false;
    // With `log`: messages of this key suppressed since it last logged.
    uint64_t suppressed_before = 0;
    bool operator==(const Verdict&) const = default;
  };

  // Whether a message of `key` at `now` should be logged. `now` must not go
  // backwards (steady_clock).
  Verdict check(std::string_view key, Clock::time_point now);

  size_t keys() const { return entries_.size(); }

 private:
  struct Entry {
    Clock::time_point window_start;
    uint32_t logged = 0;      // in this window
    uint64_t suppressed = 0;  // since the last logged message
  };

  Clock::duration window_;
  uint32_t burst_;
  size_t max_keys_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace tcpreap
