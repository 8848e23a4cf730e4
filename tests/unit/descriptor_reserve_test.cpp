// DescriptorReserve against this process's own soft RLIMIT_NOFILE: lowered
// to what the test holds, the reserve is released once and the room it
// leaves is usable; raised, it is taken back once.

#include "core/descriptor_reserve.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/resource.h>

#include <vector>

namespace tcpreap {
namespace {

using Change = DescriptorReserve::Change;

// The lowest free descriptor number: a soft limit of it leaves none.
int lowest_free() {
  UniqueFd fd(::eventfd(0, EFD_CLOEXEC));
  return fd.get();
}

class DescriptorReserveTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original_), 0); }
  void TearDown() override { ::setrlimit(RLIMIT_NOFILE, &original_); }

  void set_soft(rlim_t soft) {
    rlimit r = original_;
    r.rlim_cur = soft;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &r), 0);
  }

  rlimit original_{};
};

TEST_F(DescriptorReserveTest, FillsWithRoomAndHoldsItsSize) {
  DescriptorReserve reserve(4);
  EXPECT_FALSE(reserve.held());
  ASSERT_TRUE(reserve.fill());
  EXPECT_TRUE(reserve.held());
  EXPECT_EQ(reserve.check(), Change::kNone);
  EXPECT_EQ(open_files_limit(), original_.rlim_cur);
}

TEST_F(DescriptorReserveTest, ReleasedOnceWhenOutAndTakenBackOnceThereIsRoom) {
  DescriptorReserve reserve(4);
  ASSERT_TRUE(reserve.fill());
  const int full = lowest_free();
  set_soft(static_cast<rlim_t>(full));
  EXPECT_LT(::eventfd(0, EFD_CLOEXEC), 0);

  EXPECT_EQ(reserve.check(), Change::kReleased);
  EXPECT_FALSE(reserve.held());
  // Its room is usable, and the reserve does not take it back while short.
  std::vector<UniqueFd> taken;
  for (int i = 0; i < 4; ++i) {
    taken.emplace_back(::eventfd(0, EFD_CLOEXEC));
    EXPECT_TRUE(taken.back().valid()) << i;
  }
  EXPECT_EQ(reserve.check(), Change::kNone);
  taken.clear();
  // Room for the reserve but not for as much again: still released.
  EXPECT_EQ(reserve.check(), Change::kNone);
  EXPECT_FALSE(reserve.held());

  set_soft(original_.rlim_cur);
  EXPECT_EQ(reserve.check(), Change::kRestored);
  EXPECT_TRUE(reserve.held());
  EXPECT_EQ(reserve.check(), Change::kNone);
}

TEST_F(DescriptorReserveTest, AFirstFillIsNoRestore) {
  DescriptorReserve reserve(2);
  EXPECT_EQ(reserve.check(), Change::kNone);
  EXPECT_TRUE(reserve.held());
}

}  // namespace
}  // namespace tcpreap
