// main()'s guard: the program's status passes through; an exception that
// escapes is one line on stderr and status 1.

#include "program/guarded_main.h"

#include <gtest/gtest.h>

#include <new>
#include <stdexcept>

#include "program/exit_codes.h"

namespace tcpreap {
namespace {

using ::testing::internal::CaptureStderr;
using ::testing::internal::GetCapturedStderr;

char* no_args[] = {nullptr};

TEST(GuardedMain, TheProgramsStatusPassesThrough) {
  CaptureStderr();
  EXPECT_EQ(guarded_main("tcpreap", [](int, char**) { return 78; }, 0, no_args), 78);
  EXPECT_EQ(guarded_main("tcpreap", [](int argc, char**) { return argc; }, 0, no_args), 0);
  EXPECT_EQ(GetCapturedStderr(), "");
}

TEST(GuardedMain, AnExceptionIsSaidAndStatusOne) {
  CaptureStderr();
  EXPECT_EQ(guarded_main("tcpreapd", [](int, char**) -> int { throw std::bad_alloc(); }, 0, no_args),
            exit_code::kFailure);
  EXPECT_EQ(guarded_main("tcpreap", [](int, char**) -> int { throw 42; }, 0, no_args), exit_code::kFailure);
  EXPECT_EQ(GetCapturedStderr(),
            "tcpreapd: internal error: std::bad_alloc; exiting with status 1\n"
            "tcpreap: internal error: an exception that is not a std::exception; exiting with status 1\n");
}

}  // namespace
}  // namespace tcpreap
