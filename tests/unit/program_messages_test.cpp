// The programs' messages on stderr: the exact lines operators' scripts
// match, and the exit codes the helpers return.

#include "program/program_messages.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "program/exit_codes.h"

namespace tcpreap {
namespace {

using ::testing::internal::CaptureStderr;
using ::testing::internal::GetCapturedStderr;

TEST(ProgramMessages, AUsageErrorPointsAtTheHelp) {
  const ProgramMessages say("tcpreap kill");
  CaptureStderr();
  EXPECT_EQ(say.usage_error("give the two endpoints"), exit_code::kUsage);
  EXPECT_EQ(GetCapturedStderr(), "tcpreap kill: give the two endpoints\nTry 'tcpreap kill --help'.\n");
}

TEST(ProgramMessages, AFailureIsOneLineAndStatusOne) {
  const ProgramMessages say("tcpreapd");
  CaptureStderr();
  EXPECT_EQ(say.failed("cannot start: x"), exit_code::kFailure);
  EXPECT_EQ(GetCapturedStderr(), "tcpreapd: cannot start: x\n");
}

TEST(ProgramMessages, AFailureWritesOutWhatWasPrintedFirst) {
  // stdout on a file of our own; what is printed stays in stdio's buffer
  // (no newline, so not even a line buffer lets it go)...
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(::dup2(::fileno(file), STDOUT_FILENO), STDOUT_FILENO);
  std::fputs("3 dead: 2 reaped", stdout);
  char before[64] = {};
  const ssize_t n_before = ::pread(::fileno(file), before, sizeof before, 0);
  // ...until failed() writes it out, before its own line: on one terminal
  // or pipe, the error comes after the output it concerns.
  CaptureStderr();
  EXPECT_EQ(ProgramMessages("tcpreap reap").failed("writing the output failed"), exit_code::kFailure);
  const std::string err = GetCapturedStderr();
  char after[64] = {};
  const ssize_t n_after = ::pread(::fileno(file), after, sizeof after, 0);
  ASSERT_EQ(::dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
  ::close(saved);
  std::fclose(file);
  EXPECT_EQ(n_before, 0) << "the premise: still buffered";
  EXPECT_EQ(std::string(after, n_after > 0 ? static_cast<size_t>(n_after) : 0), "3 dead: 2 reaped");
  EXPECT_EQ(err, "tcpreap reap: writing the output failed\n");
}

TEST(ProgramMessages, ANoteIsOneLine) {
  const ProgramMessages say("tcpreap list");
  CaptureStderr();
  say.note("the kernel flagged the dump inconsistent; listing again from the start");
  say.note("cycle notice");
  EXPECT_EQ(GetCapturedStderr(),
            "tcpreap list: the kernel flagged the dump inconsistent; listing again from the start\n"
            "tcpreap list: cycle notice\n");
}

}  // namespace
}  // namespace tcpreap
