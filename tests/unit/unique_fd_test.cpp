// UniqueFd: one owner, closed when it goes, no implicit int.

#include "core/unique_fd.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <type_traits>
#include <utility>

namespace tcpreap {
namespace {

TEST(UniqueFd, OwnsMovesReleasesAndResets) {
  static_assert(!std::is_copy_constructible_v<UniqueFd>);
  static_assert(!std::is_convertible_v<int, UniqueFd>);
  static_assert(!std::is_convertible_v<UniqueFd, int>);
  UniqueFd a(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(a.valid());
  const int raw = a.get();
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(b.get(), raw);
  const int released = b.release();
  EXPECT_EQ(released, raw);
  EXPECT_FALSE(b.valid());
  b.reset(released);
  EXPECT_EQ(b.get(), raw);
  b.reset();
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1) << "reset() closes";
}

TEST(UniqueFd, MoveAssignmentAndDestructionClose) {
  UniqueFd a(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  UniqueFd b(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(a.valid() && b.valid());
  const int old_b = b.get(), raw_a = a.get();
  b = std::move(a);
  EXPECT_EQ(b.get(), raw_a);
  EXPECT_EQ(::fcntl(old_b, F_GETFD), -1) << "the descriptor b held is closed";
  EXPECT_NE(::fcntl(raw_a, F_GETFD), -1) << "the one it took stays open";
  { UniqueFd gone(std::move(b)); }
  EXPECT_EQ(::fcntl(raw_a, F_GETFD), -1) << "the destructor closes";
}

}  // namespace
}  // namespace tcpreap
