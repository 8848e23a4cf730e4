// Discovering network namespaces on the real kernel: one bound by
// `ip netns add`, one only a process holds, the host's, a bound one with a
// process inside, the caller's thread's own, and what an unprivileged
// caller may not see. Namespaces are named after the test's PID
// (unique_netns_name) and deleted by name; child processes are killed and
// reaped by PID.

#include "netns/netns_discovery.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "netns/container_cgroup.h"
#include "support/netns.h"
#include "support/privileges.h"
#include "support/support_error.h"

namespace tcpreap::test {
namespace {

// SO_NETNS_COOKIE (Linux 5.14); Debian 12's headers predate it.
constexpr int kSoNetnsCookie = 71;

NetnsId stat_id(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw_errno("stat " + path, errno);
  NetnsId id;
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  return id;
}

bool same_namespace(const NetnsId& a, const NetnsId& b) { return a.dev == b.dev && a.ino == b.ino; }

std::vector<const NetnsEntry*> entries_of(const DiscoveredNamespaces& d, const NetnsId& id) {
  std::vector<const NetnsEntry*> out;
  for (const NetnsEntry& e : d.namespaces)
    if (same_namespace(e.id, id)) out.push_back(&e);
  return out;
}

DiscoveredNamespaces discover() {
  auto d = discover_namespaces();
  if (!d.ok()) throw SupportError("discover_namespaces: " + d.error().message());
  return std::move(*d);
}

// A child process sitting in a network namespace until the object goes:
// a new one it unshare()s, or the one `join_fd` refers to. Killed and
// reaped by PID, which stays ours until we reap it.
class NamespaceHolder {
 public:
  explicit NamespaceHolder(int join_fd = -1) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe2", errno);
    UniqueFd readable(p[0]), writable(p[1]);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw_errno("fork", errno);
    if (pid_ == 0) {
      // Only async-signal-safe calls from here on.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      int err = 0;
      if (join_fd < 0 ? ::unshare(CLONE_NEWNET) != 0 : ::setns(join_fd, CLONE_NEWNET) != 0) err = errno;
      (void)!::write(writable.get(), &err, sizeof err);
      if (err != 0) ::_exit(1);
      for (;;) ::pause();
    }
    writable.reset();
    int err = 0;
    if (::read(readable.get(), &err, sizeof err) != static_cast<ssize_t>(sizeof err)) err = EPIPE;
    if (err != 0) {
      stop();
      throw_errno(join_fd < 0 ? "child: unshare(CLONE_NEWNET)" : "child: setns(CLONE_NEWNET)", err);
    }
  }
  ~NamespaceHolder() { stop(); }
  NamespaceHolder(const NamespaceHolder&) = delete;
  NamespaceHolder& operator=(const NamespaceHolder&) = delete;

  pid_t pid() const { return pid_; }
  std::string ns_path() const { return "/proc/" + std::to_string(pid_) + "/ns/net"; }

 private:
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  pid_t pid_ = -1;
};

class NetnsDiscoveryKernel : public ::testing::Test {
 protected:
  void SetUp() override { TCPREAP_REQUIRE_ROOT(); }
};

TEST_F(NetnsDiscoveryKernel, FindsANamespaceBoundByIpNetnsWithItsNameAndIdentity) {
  NamedNetns ns(unique_netns_name('d'));
  const NetnsId bound = stat_id("/run/netns/" + ns.name());
  const auto d = discover();

  const auto found = entries_of(d, bound);
  ASSERT_EQ(found.size(), 1u);
  const NetnsEntry& e = *found.front();
  EXPECT_EQ(e.name, ns.name());
  EXPECT_EQ(e.source, NetnsSource::kBound);
  EXPECT_EQ(e.pid, 0) << "no process is in it";
  EXPECT_EQ(e.id.to_string(), "net:[" + std::to_string(bound.ino) + "]");

  // The cookie, where the kernel has one, is the namespace's own: that of a
  // socket made inside it.
  if (e.id.cookie) {
    UniqueFd sock;
    {
      ScopedNetns in(ns.name());
      sock.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    }
    ASSERT_TRUE(sock.valid()) << std::strerror(errno);
    uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    ASSERT_EQ(::getsockopt(sock.get(), SOL_SOCKET, kSoNetnsCookie, &cookie, &len), 0) << std::strerror(errno);
    EXPECT_EQ(*e.id.cookie, cookie);
  }
}

TEST_F(NetnsDiscoveryKernel, FindsANamespaceOnlyAProcessHolds) {
  NamespaceHolder child;  // `unshare -n sleep`: bound nowhere
  const NetnsId held = stat_id(child.ns_path());
  std::ostringstream cgroup;
  cgroup << std::ifstream("/proc/" + std::to_string(child.pid()) + "/cgroup").rdbuf();
  const std::string expected =
      container_name_from_cgroup(cgroup.str()).value_or("pid:" + std::to_string(child.pid()));
  const auto d = discover();

  const auto found = entries_of(d, held);
  ASSERT_EQ(found.size(), 1u);
  const NetnsEntry& e = *found.front();
  EXPECT_EQ(e.name, expected);
  EXPECT_EQ(e.source, NetnsSource::kProcess);
  EXPECT_EQ(e.pid, child.pid());
  ASSERT_TRUE(e.fd.valid());
  struct stat st {};
  ASSERT_EQ(::fstat(e.fd.get(), &st), 0);
  EXPECT_EQ(st.st_ino, held.ino) << "the descriptor is that namespace's";
}

TEST_F(NetnsDiscoveryKernel, FindsTheHostOnceNamedHost) {
  const NetnsId own = stat_id("/proc/thread-self/ns/net");
  const auto d = discover();

  ASSERT_FALSE(d.namespaces.empty());
  const NetnsEntry& first = d.namespaces.front();
  EXPECT_EQ(first.name, "host");
  EXPECT_EQ(first.source, NetnsSource::kHost);
  EXPECT_TRUE(same_namespace(first.id, own));
  EXPECT_EQ(entries_of(d, own).size(), 1u);
  int hosts = 0;
  for (const NetnsEntry& e : d.namespaces) hosts += e.source == NetnsSource::kHost;
  EXPECT_EQ(hosts, 1);
  ASSERT_GT(first.pid, 0) << "this very process is in it";
  EXPECT_LE(first.pid, ::getpid());
  EXPECT_TRUE(same_namespace(stat_id("/proc/" + std::to_string(first.pid) + "/ns/net"), own));
  EXPECT_GT(d.processes, 1u);
}

TEST_F(NetnsDiscoveryKernel, ABoundNamespaceWithAProcessInsideAppearsOnceWithItsBoundName) {
  NamedNetns ns(unique_netns_name('d'));
  const std::string path = "/run/netns/" + ns.name();
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid()) << path << ": " << std::strerror(errno);
  NamespaceHolder child(fd.get());  // `ip netns exec NAME sleep`
  ASSERT_TRUE(same_namespace(stat_id(child.ns_path()), stat_id(path)));
  const auto d = discover();

  const auto found = entries_of(d, stat_id(path));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found.front()->name, ns.name());
  EXPECT_EQ(found.front()->source, NetnsSource::kBound);
  EXPECT_EQ(found.front()->pid, child.pid()) << "reached through /proc too";
}

TEST_F(NetnsDiscoveryKernel, TheHostIsTheCallingThreadsNamespace) {
  // A thread that unshares its namespace sees that one as "host"; the main
  // thread's, which /proc/self/ns/net shows, is then just another namespace.
  const NetnsId main_ns = stat_id("/proc/self/ns/net");
  std::string failure;
  NetnsId thread_ns;
  std::optional<DiscoveredNamespaces> seen;
  std::thread t([&] {
    try {
      if (::unshare(CLONE_NEWNET) != 0) throw_errno("unshare(CLONE_NEWNET)", errno);
      thread_ns = stat_id("/proc/thread-self/ns/net");
      auto d = discover_namespaces();
      if (!d.ok()) throw SupportError(d.error().message());
      seen.emplace(std::move(*d));
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  t.join();  // the thread's namespace lives on in the descriptor of seen's "host" entry
  ASSERT_TRUE(failure.empty()) << failure;
  ASSERT_TRUE(seen.has_value());
  ASSERT_FALSE(same_namespace(thread_ns, main_ns));
  EXPECT_EQ(seen->namespaces.front().name, "host");
  EXPECT_TRUE(same_namespace(seen->namespaces.front().id, thread_ns));
  const auto main_entries = entries_of(*seen, main_ns);
  ASSERT_EQ(main_entries.size(), 1u);
  EXPECT_NE(main_entries.front()->name, "host");
}

// What an unprivileged walk saw, passed back from the child that did it.
struct UnprivilegedWalk {
  int exit_code = -1;
  bool ok = false;
  bool host_first = false;
  unsigned denied = 0;
  int first_errnum = 0;
};

TEST_F(NetnsDiscoveryKernel, AnUnprivilegedCallerCountsTheProcessesItMayNotRead) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(p[0]);
    constexpr uid_t kNobody = 65534;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
        ::setresuid(kNobody, kNobody, kNobody) != 0)
      ::_exit(3);
    UnprivilegedWalk out;
    auto d = discover_namespaces();
    out.ok = d.ok();
    if (d.ok()) {
      out.host_first = !d->namespaces.empty() && d->namespaces.front().name == "host";
      out.denied = d->skipped.denied.count;
      if (d->skipped.denied.first) out.first_errnum = d->skipped.denied.first->errnum();
    }
    ::_exit(::write(p[1], &out, sizeof out) == static_cast<ssize_t>(sizeof out) ? 0 : 4);
  }
  ::close(p[1]);
  UnprivilegedWalk out;
  const bool got = ::read(p[0], &out, sizeof out) == static_cast<ssize_t>(sizeof out);
  ::close(p[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  ASSERT_TRUE(got);
  EXPECT_TRUE(out.ok);
  EXPECT_TRUE(out.host_first);
  EXPECT_GT(out.denied, 0u) << "root's processes (PID 1, this test) are not nobody's to read";
  EXPECT_EQ(out.first_errnum, EACCES);
}

}  // namespace
}  // namespace tcpreap::test
