// CookieSet: insert() tells a new cookie from one the set has (0 and the
// largest cookie included), growth keeps every cookie and drops those a
// clear() forgot, and a set that has held a scan's worth allocates nothing
// for the next scan of that size.

#include "decide/cookie_set.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "unit/allocation_counter.h"

namespace tcpreap {
namespace {

TEST(CookieSet, InsertSaysWhetherACookieIsNew) {
  CookieSet set;
  EXPECT_EQ(set.size(), 0u);
  EXPECT_TRUE(set.insert(5));
  EXPECT_FALSE(set.insert(5));
  EXPECT_EQ(set.size(), 1u);
  EXPECT_TRUE(set.insert(6));
  EXPECT_FALSE(set.insert(5));
  EXPECT_FALSE(set.insert(6));
  EXPECT_EQ(set.size(), 2u);
}

// An unfilled slot holds cookie 0 too: its generation, not its cookie,
// says it is empty.
TEST(CookieSet, ZeroAndTheLargestCookieAreCookiesLikeAnyOther) {
  constexpr uint64_t kLargest = std::numeric_limits<uint64_t>::max();
  CookieSet set;
  EXPECT_TRUE(set.insert(0));
  EXPECT_FALSE(set.insert(0));
  EXPECT_TRUE(set.insert(kLargest));
  EXPECT_FALSE(set.insert(kLargest));
  EXPECT_EQ(set.size(), 2u);
  set.clear();
  EXPECT_TRUE(set.insert(0));
  EXPECT_TRUE(set.insert(kLargest));
}

TEST(CookieSet, ClearForgetsEveryCookie) {
  CookieSet set;
  set.clear();  // on a set that never held one
  EXPECT_EQ(set.size(), 0u);
  for (uint64_t c = 1; c <= 20; ++c) ASSERT_TRUE(set.insert(c));
  set.clear();
  EXPECT_EQ(set.size(), 0u);
  for (uint64_t c = 1; c <= 20; ++c) EXPECT_TRUE(set.insert(c)) << c;
  EXPECT_EQ(set.size(), 20u);
  for (uint64_t c = 1; c <= 20; ++c) EXPECT_FALSE(set.insert(c)) << c;
}

// Many times the first table's size, in the kernel's order (one after
// another, sock_gen_cookie()) and cookies that differ only in their high
// bits: after each growth every cookie is still found, and none twice.
TEST(CookieSet, GrowsKeepingEveryCookie) {
  std::vector<uint64_t> cookies;
  for (uint64_t i = 1; i <= 5000; ++i) cookies.push_back(i);
  for (uint64_t i = 1; i <= 5000; ++i) cookies.push_back(i << 40);
  CookieSet set;
  for (size_t k = 0; k < cookies.size(); ++k) {
    ASSERT_TRUE(set.insert(cookies[k])) << cookies[k];
    ASSERT_EQ(set.size(), k + 1);
  }
  for (uint64_t c : cookies) EXPECT_FALSE(set.insert(c)) << c;
  EXPECT_EQ(set.size(), cookies.size());
  EXPECT_TRUE(set.insert(5001));
}

// Growing right after a clear() must carry over this scan's cookies only:
// the last scan's, still in their slots, are forgotten.
TEST(CookieSet, GrowthAfterAClearForgetsTheLastScan) {
  CookieSet set;
  for (uint64_t c = 1; c <= 30; ++c) ASSERT_TRUE(set.insert(c));
  set.clear();
  for (uint64_t c = 1001; c <= 1100; ++c) ASSERT_TRUE(set.insert(c));  // grows past the first table
  EXPECT_EQ(set.size(), 100u);
  for (uint64_t c = 1; c <= 30; ++c) EXPECT_TRUE(set.insert(c)) << c;
  EXPECT_EQ(set.size(), 130u);
  for (uint64_t c = 1001; c <= 1100; ++c) EXPECT_FALSE(set.insert(c)) << c;
}

TEST(CookieSet, AllocatesNothingForAScanNoLargerThanOneItHeld) {
  constexpr uint64_t kScan = 10'000;
  CookieSet set;
  // Canary: the count sees the set's allocations.
  uint64_t before = test::allocations();
  for (uint64_t c = 1; c <= kScan; ++c) ASSERT_TRUE(set.insert(c));
  EXPECT_GT(test::allocations(), before);

  for (uint64_t scan = 1; scan <= 3; ++scan) {
    set.clear();
    before = test::allocations();
    for (uint64_t c = 1; c <= kScan; ++c) {
      if (!set.insert(scan * kScan + c)) ADD_FAILURE() << "seen already: " << c;
    }
    EXPECT_EQ(test::allocations(), before) << "scan " << scan;
    EXPECT_EQ(set.size(), kScan);
  }
}

}  // namespace
}  // namespace tcpreap
