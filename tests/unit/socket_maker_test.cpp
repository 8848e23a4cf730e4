// SocketMaker without a second namespace: here() makes close-on-exec
// sockets in the caller's namespace; a failing make() names the socket, the
// namespace (foreign makers) and a missing CAP_NET_RAW; copies share and
// keep the namespace descriptor. Inside a real namespace:
// tests/integration/socket_maker_kernel_test.cpp.

#include "netns/socket_maker.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/capability.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "netns/namespace_sockets.h"

namespace tcpreap {
namespace {

std::shared_ptr<const UniqueFd> open_dev_null() {
  auto fd = std::make_shared<const UniqueFd>(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!fd->valid()) ADD_FAILURE() << "opening /dev/null: " << std::strerror(errno);
  return fd;
}

TEST(SocketMaker, HereMakesACloseOnExecSocketInTheCallersNamespace) {
  const SocketMaker here = SocketMaker::here();
  EXPECT_FALSE(here.foreign());
  EXPECT_EQ(here.label(), "the calling thread's network namespace");
  auto fd = here.make(AF_INET, SOCK_DGRAM, 0);
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  ASSERT_TRUE(fd->valid());
  EXPECT_EQ(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  int type = 0;
  socklen_t len = sizeof type;
  ASSERT_EQ(::getsockopt(fd->get(), SOL_SOCKET, SO_TYPE, &type, &len), 0) << std::strerror(errno);
  EXPECT_EQ(type, SOCK_DGRAM);

  // Asking the socket its namespace needs CAP_NET_ADMIN: checked when held.
  auto where = socket_namespace(fd->get());
  if (!where.ok() && where.error().errnum() == EPERM) return;
  ASSERT_TRUE(where.ok()) << where.error().message();
  auto mine = thread_namespace();
  ASSERT_TRUE(mine.ok()) << mine.error().message();
  EXPECT_EQ(*where, *mine);
}

TEST(SocketMaker, AFailureHereNamesTheSocket) {
  auto fd = SocketMaker::here().make(AF_INET, SOCK_STREAM, IPPROTO_UDP);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().errnum(), EPROTONOSUPPORT);
  EXPECT_EQ(fd.error().context(), "opening a socket (AF_INET SOCK_STREAM protocol 17)");
}

// /dev/null is no namespace: setns() refuses it (EINVAL, whatever the
// privileges), and the error says which socket was wanted where.
TEST(SocketMaker, AFailureInAnotherNamespaceNamesTheSocketAndTheLabel) {
  const auto null = open_dev_null();
  const SocketMaker blue = SocketMaker::in(null, "blue");
  EXPECT_TRUE(blue.foreign());
  EXPECT_EQ(blue.label(), "blue");
  auto fd = blue.make(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().errnum(), EINVAL);
  EXPECT_EQ(fd.error().context(), "opening a socket (AF_PACKET SOCK_DGRAM protocol 0) in network namespace blue: "
                                  "entering network namespace: fd " +
                                      std::to_string(null->get()) + " (/dev/null) is not a network namespace");
}

TEST(SocketMaker, NoNamespaceDescriptorIsAnErrorNotACrash) {
  auto fd = SocketMaker::in(nullptr, "gone").make(AF_NETLINK, SOCK_RAW, 4);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().errnum(), EBADF);
  EXPECT_EQ(fd.error().context(),
            "opening a socket (AF_NETLINK SOCK_RAW protocol 4) in network namespace gone: no namespace descriptor");
}

// The contract in the header: the descriptor lives as long as any copy of
// the maker, an opener's capture included, and no longer.
TEST(SocketMaker, CopiesKeepTheNamespaceDescriptorOpenUntilTheLastGoes) {
  std::weak_ptr<const UniqueFd> watched;
  std::function<bool()> opener;
  {
    auto null = open_dev_null();
    watched = null;
    const SocketMaker maker = SocketMaker::in(std::move(null), "blue");
    opener = [copy = maker] { return copy.foreign(); };
    const SocketMaker another = maker;
    EXPECT_EQ(&another.label(), &maker.label()) << "a copy copied the label instead of sharing it";
  }
  EXPECT_FALSE(watched.expired()) << "the opener's copy no longer holds the descriptor";
  EXPECT_TRUE(opener());
  opener = nullptr;
  EXPECT_TRUE(watched.expired()) << "the descriptor outlived every maker";
}

// EPERM on a raw socket says which capability is missing. Run on a thread
// of its own that gives up CAP_NET_RAW (effective only): capabilities are
// per thread, so this one keeps its own.
struct CapFree {
  void operator()(void* p) const { cap_free(p); }
};
using Caps = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

TEST(SocketMaker, AMissingCapNetRawIsNamed) {
  const Caps mine_before(cap_get_proc());
  ASSERT_TRUE(mine_before) << std::strerror(errno);
  Result<UniqueFd> fd = Error(0, "not run");
  std::string dropping;
  std::thread([&] {
    Caps caps(cap_get_proc());
    const cap_value_t raw[] = {CAP_NET_RAW};
    if (!caps || cap_set_flag(caps.get(), CAP_EFFECTIVE, 1, raw, CAP_CLEAR) != 0 || cap_set_proc(caps.get()) != 0) {
      dropping = std::strerror(errno);
      return;
    }
    fd = SocketMaker::here().make(AF_INET, SOCK_RAW, IPPROTO_RAW);
  }).join();
  ASSERT_EQ(dropping, "") << "dropping CAP_NET_RAW";
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().errnum(), EPERM);
  EXPECT_EQ(fd.error().context(),
            "opening a socket (AF_INET SOCK_RAW protocol 255) (needs CAP_NET_RAW in the network namespace)");
  const Caps mine_after(cap_get_proc());
  ASSERT_TRUE(mine_after) << std::strerror(errno);
  EXPECT_EQ(cap_compare(mine_before.get(), mine_after.get()), 0) << "this thread's capabilities changed too";
}

}  // namespace
}  // namespace tcpreap
