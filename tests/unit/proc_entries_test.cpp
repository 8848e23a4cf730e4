#include "core/proc_entries.h"

#include <fcntl.h>
#include <gtest/gtest.h>

namespace tcpreap {
namespace {

TEST(ProcEntries, ParsePidTakesDigitsOnly) {
  EXPECT_EQ(parse_pid("1"), 1);
  EXPECT_EQ(parse_pid("4194304"), 4194304);
  for (const char* bad : {"", "0", "-1", "+1", "12a", "a12", " 1", "self", "thread-self", "99999999999"})
    EXPECT_FALSE(parse_pid(bad)) << bad;
}

TEST(ProcEntries, LinkedInodeReadsItsKindOnly) {
  EXPECT_EQ(linked_inode("socket:[123]", "socket"), 123u);
  EXPECT_EQ(linked_inode("net:[4026531840]", "net"), 4026531840u);
  EXPECT_EQ(linked_inode("socket:[0]", "socket"), 0u);
  for (const char* bad : {"socket:[]", "socket:[12", "socket:12]", "socket[12]", "sockets:[12]", "net:[12]",
                          "socket:[1x2]", "socket:[-1]", "socket:[99999999999999999999]", "/dev/null", ""})
    EXPECT_FALSE(linked_inode(bad, "socket")) << bad;
}

TEST(ProcEntries, OpensADirectoryAndRefusesAFile) {
  DirPtr proc = open_dir_at(AT_FDCWD, "/proc/self");
  ASSERT_TRUE(proc);
  EXPECT_EQ(::fcntl(::dirfd(proc.get()), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  DirPtr fd_dir = open_dir_at(::dirfd(proc.get()), "fd");
  EXPECT_TRUE(fd_dir) << "a path relative to an open directory";
  errno = 0;
  EXPECT_FALSE(open_dir_at(AT_FDCWD, "/proc/self/status"));
  EXPECT_EQ(errno, ENOTDIR);
  EXPECT_FALSE(open_dir_at(AT_FDCWD, "/nonexistent-tcpreap-dir"));
  EXPECT_EQ(errno, ENOENT);
}

}  // namespace
}  // namespace tcpreap
