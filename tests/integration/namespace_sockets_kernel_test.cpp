// Sockets opened inside another network namespace on the real kernel: each
// kind tcpreap uses lives in that namespace (SIOCGSKNS says so) and behaves
// like it (a listener there is reachable only from there), while no thread
// of this process is left there - the caller's thread does not move, even
// when the job fails or throws, and no thread survives a trip. Also what
// setns refusals say, and what a trip costs (printed, no bound).

#include "netns/namespace_sockets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "privilege/capabilities.h"
#include "support/netns.h"
#include "support/suite_fixture.h"
#include "support/support_error.h"

namespace tcpreap::test {
namespace {

// The identity of the namespace file at `path`, read the way the library
// reads it (inode and, where the kernel has it, the namespace id).
NetnsId inode_of_path(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("open " + path, errno);
  auto id = read_netns_id(fd.get(), path);
  if (!id) throw_errno("reading the namespace identity of " + path, id.error().errnum());
  return *id;
}

// The network namespace of every thread of this process, read from /proc
// directly: one entry per thread alive.
std::vector<NetnsId> namespaces_of_all_threads() {
  std::vector<NetnsId> all;
  DIR* dir = ::opendir("/proc/self/task");
  if (!dir) throw_errno("opendir /proc/self/task", errno);
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    all.push_back(inode_of_path(std::string("/proc/self/task/") + e->d_name + "/ns/net"));
  }
  ::closedir(dir);
  return all;
}

// One namespace for the whole suite, "trps<pid>", and an open descriptor of it.
struct Namespace {
  NamedNetns ns{"trps" + std::to_string(::getpid())};
  std::string path = "/run/netns/" + ns.name();
  UniqueFd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  NetnsId inode = inode_of_path(path);
  NetnsId home = inode_of_path("/proc/thread-self/ns/net");
  Namespace() {
    if (!fd) throw_errno("opening " + path, errno);
  }
};

class NamespaceSockets : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { shared_.build(); }
  static void TearDownTestSuite() { shared_.reset(); }
  void SetUp() override {
    TCPREAP_REQUIRE_SUITE_FIXTURE(shared_);
    ASSERT_NE(ns().inode, ns().home) << "the test namespace is the host's";
    threads_before_ = namespaces_of_all_threads().size();
  }
  // After every test: this thread is home, and so is every thread alive,
  // and there are as many as before (no namespace thread survived).
  void TearDown() override {
    if (!shared_.ok()) return;
    EXPECT_EQ(inode_of_path("/proc/thread-self/ns/net"), ns().home);
    const std::vector<NetnsId> all = namespaces_of_all_threads();
    EXPECT_EQ(all.size(), threads_before_) << "a thread was left behind";
    for (const NetnsId& n : all) EXPECT_EQ(n, ns().home) << "a thread is in " << n.to_string();
  }

  static Namespace& ns() { return *shared_; }
  static void expect_home() {
    auto now = thread_namespace();
    ASSERT_TRUE(now.ok()) << now.error().message();
    EXPECT_EQ(*now, ns().home) << "the calling thread moved to " << now->to_string();
  }
  static void expect_inside(const UniqueFd& socket, const std::string& what) {
    auto where = socket_namespace(socket.get());
    ASSERT_TRUE(where.ok()) << what << ": " << where.error().message();
    EXPECT_EQ(*where, ns().inode) << what << " is in " << where->to_string();
    EXPECT_NE(*where, ns().home) << what << " is in the host's namespace";
  }

  static SuiteFixture<Namespace> shared_;
  size_t threads_before_ = 0;
};

SuiteFixture<Namespace> NamespaceSockets::shared_;

TEST_F(NamespaceSockets, EveryKindOfSocketOpensInsideTheNamespace) {
  const SocketSpec specs[] = {
      {AF_INET, SOCK_STREAM, 0},
      {AF_INET6, SOCK_STREAM, 0},
      {AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG},
      {AF_NETLINK, SOCK_RAW, NETLINK_ROUTE},
      {AF_INET, SOCK_RAW, IPPROTO_RAW},
      {AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)},
  };
  auto sockets = sockets_in_namespace(ns().fd.get(), specs);
  ASSERT_TRUE(sockets.ok()) << sockets.error().message();
  ASSERT_EQ(sockets->size(), std::size(specs));
  for (size_t i = 0; i < std::size(specs); ++i) {
    expect_inside((*sockets)[i], specs[i].describe());
    EXPECT_EQ(::fcntl((*sockets)[i].get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC) << specs[i].describe();
  }
  auto single = socket_in_namespace(ns().fd.get(), AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  ASSERT_TRUE(single.ok()) << single.error().message();
  expect_inside(*single, "the single AF_PACKET socket");
  expect_home();

  // The control: a socket this thread opens itself is the host's.
  UniqueFd here(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(here.valid()) << std::strerror(errno);
  auto where = socket_namespace(here.get());
  ASSERT_TRUE(where.ok()) << where.error().message();
  EXPECT_EQ(*where, ns().home);
}

// The job runs on another thread, inside; /proc/self/ns/net (the main
// thread's: this one) does not show it, /proc/thread-self/ns/net does.
TEST_F(NamespaceSockets, TheJobRunsOnAThreadOfItsOwnInside) {
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id runner;
  NetnsId main_thread_seen;
  auto inside = run_in_namespace(ns().fd.get(), [&]() -> Result<NetnsId> {
    runner = std::this_thread::get_id();
    main_thread_seen = inode_of_path("/proc/self/ns/net");
    return thread_namespace();
  });
  ASSERT_TRUE(inside.ok()) << inside.error().message();
  EXPECT_EQ(*inside, ns().inode);
  EXPECT_NE(runner, caller);
  EXPECT_EQ(main_thread_seen, ns().home);
  expect_home();
}

TEST_F(NamespaceSockets, TheCallerStaysHomeWhenTheJobFailsOrThrows) {
  auto failed =
      run_in_namespace(ns().fd.get(), []() -> Result<UniqueFd> { return Error(EMFILE, "opening the scanner"); });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().errnum(), EMFILE);
  EXPECT_EQ(failed.error().context(), "opening the scanner");
  expect_home();

  auto threw = run_in_namespace(ns().fd.get(), []() -> Status { throw std::runtime_error("boom"); });
  ASSERT_FALSE(threw.ok());
  EXPECT_EQ(threw.error().errnum(), 0);
  EXPECT_EQ(threw.error().message(), "in network namespace " + ns().path + ": the job threw: boom");
  expect_home();

  auto threw_other = run_in_namespace(ns().fd.get(), []() -> Status { throw 42; });
  ASSERT_FALSE(threw_other.ok());
  EXPECT_EQ(threw_other.error().message(), "in network namespace " + ns().path + ": the job threw an exception");
  expect_home();

  // A batch that fails halfway closes what it opened and names the culprit.
  const SocketSpec specs[] = {{AF_INET, SOCK_STREAM, 0}, {AF_INET, SOCK_STREAM, IPPROTO_UDP}};
  auto batch = sockets_in_namespace(ns().fd.get(), specs);
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.error().errnum(), EPROTONOSUPPORT);
  EXPECT_EQ(batch.error().context(),
            "opening socket 2 of 2 (AF_INET SOCK_STREAM protocol 17) in network namespace " + ns().path);
  expect_home();
}

// 127.0.0.1:P inside is not 127.0.0.1:P here. P is held here by a bound
// socket that does not listen, so a connection from here is refused for
// certain (no other program can be listening on it).
TEST_F(NamespaceSockets, AListenerInsideIsReachableOnlyFromInside) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  UniqueFd holder(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::bind(holder.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(holder.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);

  // Made inside, bound and listening from this thread: the socket's
  // namespace decides, not the thread's.
  auto listener = socket_in_namespace(ns().fd.get(), AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(listener.ok()) << listener.error().message();
  ASSERT_EQ(::bind(listener->get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(listener->get(), 4), 0) << std::strerror(errno);

  UniqueFd from_host(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(::connect(from_host.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), -1);
  EXPECT_EQ(errno, ECONNREFUSED) << std::strerror(errno);

  auto from_inside = socket_in_namespace(ns().fd.get(), AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(from_inside.ok()) << from_inside.error().message();
  ASSERT_EQ(::connect(from_inside->get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  UniqueFd accepted(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted.valid()) << std::strerror(errno);
  sockaddr_in client{}, peer{};
  socklen_t client_len = sizeof client, peer_len = sizeof peer;
  ASSERT_EQ(::getsockname(from_inside->get(), reinterpret_cast<sockaddr*>(&client), &client_len), 0);
  ASSERT_EQ(::getpeername(accepted.get(), reinterpret_cast<sockaddr*>(&peer), &peer_len), 0);
  EXPECT_EQ(peer.sin_port, client.sin_port) << "the listener accepted someone else";
  expect_inside(accepted, "the accepted connection");
  expect_home();
}

TEST_F(NamespaceSockets, RefusesWhatIsNotANetworkNamespace) {
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  auto r = socket_in_namespace(null.get(), AF_INET, SOCK_STREAM, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum(), EINVAL);
  EXPECT_EQ(r.error().context(), "entering network namespace: fd " + std::to_string(null.get()) +
                                     " (/dev/null) is not a network namespace");

  // A namespace, of another kind.
  UniqueFd uts(::open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC));
  r = socket_in_namespace(uts.get(), AF_INET, SOCK_STREAM, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum(), EINVAL);
  EXPECT_NE(r.error().context().find("is not a network namespace"), std::string::npos) << r.error().message();

  const int closed = null.release();
  ::close(closed);
  r = socket_in_namespace(closed, AF_INET, SOCK_STREAM, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum(), EBADF);
  EXPECT_EQ(r.error().context(), "entering network namespace: fd " + std::to_string(closed) + " is not open");

  // And a socket's namespace is asked of sockets only.
  UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  auto where = socket_namespace(file.get());
  ASSERT_FALSE(where.ok());
  EXPECT_EQ(where.error().errnum(), ENOTTY);
  EXPECT_EQ(where.error().context(), "asking socket fd " + std::to_string(file.get()) +
                                         " for its network namespace: /dev/null is not a socket");
  expect_home();
}

// A child process tries the trip; what it saw comes back through a pipe:
// "ok" or what went wrong.
std::string in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2", errno);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork", errno);
  if (pid == 0) {
    std::string said;
    try {
      said = body();
    } catch (const std::exception& e) {
      said = std::string("threw: ") + e.what();
    }
    const ssize_t n = ::write(write_end.get(), said.data(), said.size());
    ::_exit(n == static_cast<ssize_t>(said.size()) ? 0 : 1);
  }
  write_end.reset();
  std::string said;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(read_end.get(), buffer, sizeof buffer)) > 0) said.append(buffer, static_cast<size_t>(n));
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) throw_errno("waitpid", errno);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "the child died (status " + std::to_string(status) + "): " + said;
  return said;
}

// The trip in the child: refused with errno EPERM and exactly `expected`,
// the thread still home.
std::string expect_refusal(int netns_fd, NetnsId home, const std::string& expected) {
  auto r = socket_in_namespace(netns_fd, AF_INET, SOCK_STREAM, 0);
  if (r.ok()) return "the socket was opened";
  if (r.error().errnum() != EPERM) return "errno " + std::to_string(r.error().errnum()) + ": " + r.error().message();
  if (r.error().message() != expected) return "said: " + r.error().message();
  auto now = thread_namespace();
  if (!now.ok()) return now.error().message();
  if (!(*now == home)) return "the thread moved to " + now->to_string();
  return "ok";
}

TEST_F(NamespaceSockets, WithoutCapSysAdminSaysSo) {
  const std::string expected =
      "entering network namespace " + ns().path + " needs CAP_SYS_ADMIN: " + std::strerror(EPERM);
  EXPECT_EQ(in_child([&]() -> std::string {
              // What the daemon keeps today: CAP_NET_ADMIN and CAP_NET_RAW.
              auto drop = drop_capabilities(network_capabilities());
              if (!drop.ok()) return drop.error().message();
              auto caps = read_capability_sets();
              if (!caps.ok()) return caps.error().message();
              if ((caps->effective >> CAP_SYS_ADMIN) & 1) return "CAP_SYS_ADMIN is still effective";
              return expect_refusal(ns().fd.get(), ns().home, expected);
            }),
            "ok");
}

// Holding CAP_SYS_ADMIN, refused all the same: by a seccomp filter, as
// systemd's RestrictNamespaces= does. The message must not claim the
// capability is missing.
TEST_F(NamespaceSockets, ARefusalDespiteCapSysAdminSaysWhatElseRefuses) {
#if defined(__x86_64__)
  constexpr uint32_t kNativeArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr uint32_t kNativeArch = AUDIT_ARCH_AARCH64;
#else
  GTEST_SKIP() << "name this architecture's AUDIT_ARCH_*";
  constexpr uint32_t kNativeArch = 0;
#endif
  const std::string expected = "entering network namespace " + ns().path +
                               " was refused although CAP_SYS_ADMIN is held: a seccomp filter forbids setns "
                               "(systemd's RestrictNamespaces= must allow net), or the namespace belongs to a "
                               "user namespace this process has no CAP_SYS_ADMIN over: " +
                               std::strerror(EPERM);
  EXPECT_EQ(in_child([&]() -> std::string {
              sock_filter program[] = {
                  /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
                  /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kNativeArch, 0, 2),  // another ABI: 4 allow
                  /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
                  /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setns, 1, 0),  // 5 refuse
                  /* 4 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                  /* 5 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
              };
              sock_fprog fprog{static_cast<unsigned short>(std::size(program)), program};
              if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0)
                return std::string("installing the seccomp filter: ") + std::strerror(errno);
              return expect_refusal(ns().fd.get(), ns().home, expected);
            }),
            "ok");
}

// What a trip costs: printed, not bounded (machines are noisy). Each trip
// is still checked. Sockets are closed after the clock stops: closing an
// AF_PACKET socket waits for an RCU grace period (packet_release() calls
// synchronize_net()), milliseconds that would swamp the trip.
TEST_F(NamespaceSockets, PrintsWhatATripCosts) {
  using Clock = std::chrono::steady_clock;
  auto per_trip = [](Clock::duration d, int trips) {
    return std::chrono::duration<double, std::micro>(d).count() / trips;
  };
  int failures = 0;

  constexpr int kTrips = 1000;
  const auto t0 = Clock::now();
  for (int i = 0; i < kTrips; ++i)
    failures += !run_in_namespace(ns().fd.get(), []() -> Status { return Ok{}; }).ok();
  const auto t1 = Clock::now();
  std::vector<UniqueFd> held;
  held.reserve(kTrips);
  for (int i = 0; i < kTrips; ++i) {
    auto s = socket_in_namespace(ns().fd.get(), AF_INET, SOCK_STREAM, 0);
    failures += !s.ok();
    if (s.ok()) held.push_back(std::move(*s));
  }
  const auto t2 = Clock::now();
  held.clear();

  // What the daemon opens per namespace, in one trip.
  constexpr int kBatches = 100;
  const SocketSpec five[] = {{AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG},
                             {AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG},
                             {AF_INET, SOCK_RAW, IPPROTO_RAW},
                             {AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)},
                             {AF_NETLINK, SOCK_RAW, NETLINK_ROUTE}};
  std::vector<std::vector<UniqueFd>> batches;
  batches.reserve(kBatches);
  const auto t3 = Clock::now();
  for (int i = 0; i < kBatches; ++i) {
    auto b = sockets_in_namespace(ns().fd.get(), five);
    failures += !b.ok();
    if (b.ok()) batches.push_back(std::move(*b));
  }
  const auto t4 = Clock::now();
  batches.clear();
  const auto t5 = Clock::now();

  EXPECT_EQ(failures, 0);
  expect_home();
  std::printf("per trip: empty job %.1f us, one TCP socket %.1f us (%d trips each); "
              "five sockets %.1f us, closing them %.1f us (%d trips)\n",
              per_trip(t1 - t0, kTrips), per_trip(t2 - t1, kTrips), kTrips, per_trip(t4 - t3, kBatches),
              per_trip(t5 - t4, kBatches), kBatches);
}

}  // namespace
}  // namespace tcpreap::test
