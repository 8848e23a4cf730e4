#include "log/rate_limiter.h"

#include <algorithm>

namespace tcpreap {

RateLimiter::RateLimiter(std::chrono::seconds window, uint32_t burst, size_t max_keys)
    : window_(window), burst_(std::max<uint32_t>(burst, 1)), max_keys_(std::max<size_t>(max_keys, 1)) {}

RateLimiter::Verdict RateLimiter::check(std::string_view key, Clock::time_point now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_keys_) {
      // Linear, but only for a new key at the bound: a log path, not a scan path.
      auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
        return a.second.window_start < b.second.window_start;
      });
      entries_.erase(oldest);
    }
    entries_.emplace(std::string(key), Entry{now, 1, 0});
    return {true, 0};
  }
  Entry& e = it->second;
  if (now - e.window_start >= window_) {
    const uint64_t suppressed = e.suppressed;
    e = Entry{now, 1, 0};
    return {true, suppressed};
  }
  if (e.logged < burst_) {
    ++e.logged;
    return {true, 0};
  }
  ++e.suppressed;
  return {false, 0};
}

}  // namespace tcpreap
