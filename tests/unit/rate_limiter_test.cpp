// Rate limits of repeated failures: a burst per key and window, then
// silence, counted and reported with the first message of the next window.
// The clock is a time_point the test moves.

#include "log/rate_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace tcpreap {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

const Clock::time_point t0 = Clock::time_point() + 1000h;

TEST(RateLimiter, BurstThenSuppressedThenCountedWhenTheWindowEnds) {
  RateLimiter limiter(60s, 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.check("k", t0 + i * 1s), (RateLimiter::Verdict{true, 0})) << i;
  for (int i = 3; i < 10; ++i) EXPECT_EQ(limiter.check("k", t0 + i * 1s), (RateLimiter::Verdict{false, 0})) << i;
  // Still the first window one tick before its end.
  EXPECT_EQ(limiter.check("k", t0 + 60s - 1ns), (RateLimiter::Verdict{false, 0}));
  // The window opened at the first message: 60 s later a new one begins,
  // and its first message carries the 8 suppressed.
  EXPECT_EQ(limiter.check("k", t0 + 60s), (RateLimiter::Verdict{true, 8}));
  // The count was reported once; the new window has its own burst.
  EXPECT_EQ(limiter.check("k", t0 + 61s), (RateLimiter::Verdict{true, 0}));
  EXPECT_EQ(limiter.check("k", t0 + 62s), (RateLimiter::Verdict{true, 0}));
  EXPECT_EQ(limiter.check("k", t0 + 63s), (RateLimiter::Verdict{false, 0}));
  // Nothing suppressed in a window: the next one reports none.
  EXPECT_EQ(limiter.check("k", t0 + 200s), (RateLimiter::Verdict{true, 1}));
  EXPECT_EQ(limiter.check("k", t0 + 300s), (RateLimiter::Verdict{true, 0}));
}

TEST(RateLimiter, KeysAreIndependent) {
  RateLimiter limiter(60s, 1);
  EXPECT_TRUE(limiter.check("reap:rst:no-answer", t0).log);
  EXPECT_FALSE(limiter.check("reap:rst:no-answer", t0).log);
  EXPECT_TRUE(limiter.check("reap:destroy:not-permitted", t0).log);
  EXPECT_TRUE(limiter.check("scan", t0).log);
  EXPECT_FALSE(limiter.check("scan", t0 + 1s).log);
  EXPECT_EQ(limiter.keys(), 3u);
}

TEST(RateLimiter, DefaultsAreFivePerMinute) {
  RateLimiter limiter;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.check("k", t0).log) << i;
  EXPECT_FALSE(limiter.check("k", t0 + 59s).log);
  EXPECT_EQ(limiter.check("k", t0 + 60s), (RateLimiter::Verdict{true, 1}));
}

TEST(RateLimiter, ZeroBurstStillLogsTheFirst) {
  RateLimiter limiter(60s, 0);
  EXPECT_TRUE(limiter.check("k", t0).log);
  EXPECT_FALSE(limiter.check("k", t0).log);
}

TEST(RateLimiter, ANewKeyAtTheBoundEvictsTheOldestWindow) {
  RateLimiter limiter(100s, 1, 3);
  EXPECT_TRUE(limiter.check("b", t0).log);
  EXPECT_TRUE(limiter.check("z", t0 + 1s).log);
  EXPECT_TRUE(limiter.check("c", t0 + 2s).log);
  EXPECT_FALSE(limiter.check("z", t0 + 3s).log);
  EXPECT_TRUE(limiter.check("b", t0 + 100s).log);  // a new window: "z" now has the oldest
  EXPECT_TRUE(limiter.check("d", t0 + 101s).log);  // evicts "z", neither the first key seen nor the least
  EXPECT_EQ(limiter.keys(), 3u);
  EXPECT_FALSE(limiter.check("b", t0 + 101s).log);  // still limited
  EXPECT_FALSE(limiter.check("c", t0 + 101s).log);
  // "z" was forgotten, its suppressed count with it: a fresh key.
  EXPECT_EQ(limiter.check("z", t0 + 101s), (RateLimiter::Verdict{true, 0}));
  EXPECT_EQ(limiter.keys(), 3u);
}

TEST(RateLimiter, TheDefaultBoundIs1024Keys) {
  RateLimiter limiter;
  for (int i = 0; i < 1500; ++i) (void)limiter.check("key" + std::to_string(i), t0 + i * 1ms);
  EXPECT_EQ(limiter.keys(), RateLimiter::kMaxKeys);
  EXPECT_EQ(RateLimiter::kMaxKeys, 1024u);
}

}  // namespace
}  // namespace tcpreap
