// Choosing journald or stderr: $JOURNAL_STREAM must name exactly the file
// stderr is.

#include "log/log_target.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace tcpreap {
namespace {

TEST(JournalStream, MatchesOnlyTheExactDeviceAndInode) {
  EXPECT_TRUE(journal_stream_matches("8:1234", 8, 1234));
  EXPECT_TRUE(journal_stream_matches("0:18446744073709551615", 0, static_cast<ino_t>(18446744073709551615ull)));
  EXPECT_FALSE(journal_stream_matches("8:1234", 8, 1235));
  EXPECT_FALSE(journal_stream_matches("8:1234", 9, 1234));
  EXPECT_FALSE(journal_stream_matches("1234:8", 8, 1234));
}

TEST(JournalStream, MalformedValuesMatchNothing) {
  for (const char* env : {"", ":", "8:", ":1234", "8", "8:1234x", "8:1234 ", " 8:1234", "+8:1234", "-8:1234",
                          "8:+1234", "0x8:1234", "8:1234:5", "8;1234", "18446744073709551616:1234"}) {
    EXPECT_FALSE(journal_stream_matches(env, 8, 1234)) << '"' << env << '"';
  }
  EXPECT_FALSE(journal_stream_matches(nullptr, 0, 0));
}

TEST(JournalStream, DetectComparesWithStderr) {
  const char* saved = std::getenv("JOURNAL_STREAM");
  const std::string old = saved ? saved : "";
  struct stat st {};
  ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
  EXPECT_EQ(detect_log_target(), LogTarget::kJournal);
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  ::setenv("JOURNAL_STREAM", other.c_str(), 1);
  EXPECT_EQ(detect_log_target(), LogTarget::kStderr);
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_EQ(detect_log_target(), LogTarget::kStderr);
  if (saved) ::setenv("JOURNAL_STREAM", old.c_str(), 1);
}

}  // namespace
}  // namespace tcpreap
