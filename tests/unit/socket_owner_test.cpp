// Finding the process that holds a socket: in a fake /proc tree built in
// /tmp, and for a socket of this very process in the real /proc.

#include "diag/socket_owner.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "scratch_dir.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/unique_fd.h"

namespace tcpreap {
namespace {

// A directory tree in /tmp, removed with the object.
using TempDir = testing::ScratchDir;

TEST(SocketOwner, FindsTheProcessInAFakeProcTree) {
  TempDir proc;
  proc.link("self", "200");
  proc.file("sys/fd/1", "");            // not a process
  proc.link("net/fd/1", "socket:[12345]");  // not a process either, though it looks like one inside
  proc.dir("77");                       // a process gone mid-walk: no fd directory
  proc.link("100/fd/0", "/dev/null");
  proc.link("100/fd/3", "socket:[123450]");  // a longer inode with the same prefix
  proc.link("100/fd/4", "socket:[1234]");
  proc.file("100/comm", "nginx\n");
  proc.link("200/fd/0", "/dev/null");
  proc.link("200/fd/1", "pipe:[12345]");
  proc.link("200/fd/4", "socket:[12345]");
  proc.file("200/comm", "zookeeper\n");
  proc.link("300/fd/9", "socket:[999]");  // no comm: the process went before it could be read
  proc.link("400/fd/9", "socket:[0]");

  EXPECT_EQ(find_socket_owner(12345, proc.path()), (SocketOwner{200, "zookeeper"}));
  EXPECT_EQ(find_socket_owner(123450, proc.path()), (SocketOwner{100, "nginx"}));
  EXPECT_EQ(find_socket_owner(1234, proc.path()), (SocketOwner{100, "nginx"}));
  EXPECT_EQ(find_socket_owner(999, proc.path()), (SocketOwner{300, ""}));
  EXPECT_EQ(find_socket_owner(12346, proc.path()), std::nullopt);
  EXPECT_EQ(find_socket_owner(0, proc.path()), std::nullopt);  // inode 0 is no socket
  EXPECT_EQ(find_socket_owner(12345, proc.path() + "/missing"), std::nullopt);
}

TEST(SocketOwner, FindsManyInOneWalkAndStopsAtTheDeadline) {
  TempDir proc;
  proc.link("100/fd/3", "socket:[11]");
  proc.link("100/fd/4", "socket:[12]");
  proc.file("100/comm", "nginx\n");
  proc.link("200/fd/4", "socket:[21]");
  proc.file("200/comm", "zookeeper\n");
  const uint64_t inodes[] = {11, 21, 12, 99, 0, 11};
  const auto later = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  const auto found = find_socket_owners(inodes, later, proc.path());
  EXPECT_EQ(found.size(), 3u);
  EXPECT_EQ(found.at(11), (SocketOwner{100, "nginx"}));
  EXPECT_EQ(found.at(12), (SocketOwner{100, "nginx"}));
  EXPECT_EQ(found.at(21), (SocketOwner{200, "zookeeper"}));
  EXPECT_FALSE(found.contains(99));
  // A deadline already past: no walk at all, nothing found.
  EXPECT_TRUE(find_socket_owners(inodes, std::chrono::steady_clock::now(), proc.path()).empty());
}

TEST(SocketOwner, FindsThisProcessForItsOwnSocket) {
  UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sock) << std::strerror(errno);
  struct stat st {};
  ASSERT_EQ(::fstat(sock.get(), &st), 0);
  ASSERT_NE(st.st_ino, 0u);
  // comm is the program's name cut to TASK_COMM_LEN - 1 = 15 characters
  // ("socket_owner_te").
  const std::string comm = std::string(program_invocation_short_name).substr(0, 15);
  EXPECT_EQ(find_socket_owner(st.st_ino), (SocketOwner{::getpid(), comm}));
  const ino_t inode = st.st_ino;
  sock.reset();
  EXPECT_EQ(find_socket_owner(inode), std::nullopt);
}

}  // namespace
}  // namespace tcpreap
