// A namespace's identity: read from a file descriptor, the caller's own
// namespace, and telling a network namespace from anything else. Reads only
// this process's own /proc entries: no privileges needed.

#include "netns/netns_identity.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "scratch_dir.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace tcpreap {
namespace {

// SO_NETNS_COOKIE (Linux 5.14); Debian 12's headers predate it.
constexpr int kSoNetnsCookie = 71;

NetnsId stat_id(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  NetnsId id;
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  return id;
}

using TempDir = testing::ScratchDir;

TEST(NetnsIdentity, PrintsAsTheKernelLinkReads) {
  NetnsId id;
  id.dev = 4;
  id.ino = 4026531840;
  EXPECT_EQ(id.to_string(), "net:[4026531840]");
}

TEST(NetnsIdentity, OwnNamespaceIsTheOneProcShowsForThisThread) {
  auto own = open_own_netns();
  ASSERT_TRUE(own.ok()) << own.error().message();
  const NetnsId linked = stat_id("/proc/thread-self/ns/net");
  EXPECT_EQ(own->id.dev, linked.dev);
  EXPECT_EQ(own->id.ino, linked.ino);

  char link[64] = {};
  ASSERT_GT(::readlink("/proc/thread-self/ns/net", link, sizeof link - 1), 0);
  EXPECT_EQ(own->id.to_string(), link);

  // The descriptor is the namespace file, and close-on-exec.
  EXPECT_TRUE(check_network_namespace(own->fd.get(), "own").ok());
  EXPECT_NE(::fcntl(own->fd.get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(NetnsIdentity, CookieIsTheNetnsCookieWhereTheKernelHasIt) {
  auto own = open_own_netns();
  ASSERT_TRUE(own.ok()) << own.error().message();
  if (!own->id.cookie) GTEST_SKIP() << "this kernel has no NS_GET_ID (Linux 6.18+)";
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sock.valid()) << std::strerror(errno);
  uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  ASSERT_EQ(::getsockopt(sock.get(), SOL_SOCKET, kSoNetnsCookie, &cookie, &len), 0) << std::strerror(errno);
  EXPECT_EQ(*own->id.cookie, cookie);
}

TEST(NetnsIdentity, ReadsDeviceAndInodeOfAnyFile) {
  TempDir dir;
  const std::string path = dir.file("ns", "not a namespace");
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  auto id = read_netns_id(fd.get(), path);
  ASSERT_TRUE(id.ok()) << id.error().message();
  EXPECT_EQ(*id, stat_id(path)) << "a regular file has no cookie";
  EXPECT_FALSE(id->cookie.has_value());

  auto bad = read_netns_id(-1, "/nowhere");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().errnum(), EBADF);
  EXPECT_NE(bad.error().message().find("/nowhere"), std::string::npos);
}

TEST(NetnsIdentity, TellsANetworkNamespaceFromOtherFiles) {
  TempDir dir;
  const std::string path = dir.file("placeholder", "not a namespace");
  UniqueFd regular(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(regular.valid());
  Status s = check_network_namespace(regular.get(), path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().errnum(), ENOTTY);
  EXPECT_NE(s.error().message().find(path), std::string::npos);

  UniqueFd uts(::open("/proc/thread-self/ns/uts", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(uts.valid()) << std::strerror(errno);
  s = check_network_namespace(uts.get(), "/proc/thread-self/ns/uts");
  ASSERT_FALSE(s.ok()) << "a UTS namespace is a namespace, but not a network one";
  EXPECT_EQ(s.error().errnum(), 0);
}

TEST(NetnsIdentity, OwnNamespaceErrorsNameThePath) {
  TempDir dir;
  auto missing = open_own_netns(dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().errnum(), ENOENT);
  EXPECT_NE(missing.error().message().find(dir.path() + "/thread-self/ns/net"), std::string::npos);

  dir.file("thread-self/ns/net", "not a namespace");
  auto placeholder = open_own_netns(dir.path());
  ASSERT_FALSE(placeholder.ok()) << "a regular file is no namespace";
  EXPECT_EQ(placeholder.error().errnum(), ENOTTY);

  auto unchecked = open_own_netns(dir.path(), /*require_netns=*/false);
  ASSERT_TRUE(unchecked.ok()) << unchecked.error().message();
  EXPECT_EQ(unchecked->id, stat_id(dir.path() + "/thread-self/ns/net"));
}

}  // namespace
}  // namespace tcpreap
