// Discovering network namespaces over a fake host built in /tmp: regular
// files stand for namespace files, and a hard link of one is "the same
// namespace" reached by another path (same device and inode), as a bind
// mount of /proc/PID/ns/net in /run/netns is on a real host. The kernel
// side (real namespaces, real /proc) is netns_discovery_kernel_test.

#include "netns/netns_discovery.h"

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tcpreap {
namespace {

namespace fs = std::filesystem;

const std::string kId = "3f2a9c1b7d0e4a5b8c6d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b";
const std::string kUid = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
const std::string kDockerCgroup = "0::/system.slice/docker-" + kId + ".scope\n";
const std::string kPodCgroup = "0::/kubepods/besteffort/pod" + kUid + "/" + kId + "\n";
const std::string kServiceCgroup = "0::/system.slice/cron.service\n";

// A host in a temporary directory: proc/ (with thread-self/ns/net, the
// host's namespace), netns/ (standing for /run/netns) and docker/ (for
// /run/docker/netns). Readable by everyone, so that an unprivileged child
// can walk it. Removed with the object.
class FakeHost {
 public:
  FakeHost() {
    char tmpl[] = "/tmp/netns_discovery_test.XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    EXPECT_NE(made, nullptr);
    root_ = made ? made : "/nonexistent";
    fs::permissions(root_, fs::perms(0755));
    fs::create_directories(root_ + "/netns");
    fs::create_directories(root_ + "/docker");
    ns_file("proc/thread-self/ns/net");
  }
  ~FakeHost() {
    std::error_code ec;
    for (const std::string& rel : locked_) fs::permissions(path(rel), fs::perms(0755), ec);
    fs::remove_all(root_, ec);
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  std::string path(const std::string& rel) const { return root_ + "/" + rel; }

  // A new namespace: a file of its own.
  void ns_file(const std::string& rel) const {
    fs::create_directories(fs::path(path(rel)).parent_path());
    std::ofstream(path(rel)) << rel;
  }
  // `rel` is the namespace that `existing` is.
  void same_ns(const std::string& rel, const std::string& existing) const {
    fs::create_directories(fs::path(path(rel)).parent_path());
    fs::create_hard_link(path(existing), path(rel));
  }
  // Process `pid`, in the namespace `ns` (a file made before), in `cgroup`.
  void process(int pid, const std::string& ns, const std::string& cgroup = kServiceCgroup) const {
    const std::string dir = "proc/" + std::to_string(pid);
    same_ns(dir + "/ns/net", ns);
    std::ofstream(path(dir + "/cgroup")) << cgroup;
  }
  // Process `pid` whose ns/net is a symlink reading `text`, as the kernel's
  // magic links read ("net:[<inode>]"); it points nowhere here.
  void process_link(int pid, const std::string& text) const {
    const std::string dir = "proc/" + std::to_string(pid);
    fs::create_directories(path(dir + "/ns"));
    fs::create_symlink(text, path(dir + "/ns/net"));
  }
  // Takes permissions away from `rel` (a directory or file): all of them,
  // or all but `left`. Restored before removal.
  void lock(const std::string& rel, fs::perms left = fs::perms::none) {
    fs::permissions(path(rel), left);
    locked_.push_back(rel);
  }

  DiscoveryRoots roots() const {
    DiscoveryRoots r;
    r.proc_root = path("proc");
    r.bound_dir = path("netns");
    r.runtime_dirs = {{path("docker"), "docker"}};
    r.require_netns = false;
    return r;
  }

  uint64_t ino(const std::string& rel) const {
    struct stat st {};
    EXPECT_EQ(::stat(path(rel).c_str(), &st), 0) << rel;
    return st.st_ino;
  }

 private:
  std::string root_;
  std::vector<std::string> locked_;
};

DiscoveredNamespaces discover(const DiscoveryRoots& roots) {
  auto r = discover_namespaces(roots);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? std::move(*r) : DiscoveredNamespaces{};
}

// The entries with that inode: exactly one when dedup works.
std::vector<const NetnsEntry*> with_ino(const DiscoveredNamespaces& d, uint64_t ino) {
  std::vector<const NetnsEntry*> out;
  for (const NetnsEntry& e : d.namespaces)
    if (e.id.ino == ino) out.push_back(&e);
  return out;
}

const NetnsEntry* only_with_ino(const DiscoveredNamespaces& d, uint64_t ino) {
  auto found = with_ino(d, ino);
  EXPECT_EQ(found.size(), 1u) << "entries for inode " << ino;
  return found.size() == 1 ? found.front() : nullptr;
}

std::vector<std::string> names(const DiscoveredNamespaces& d) {
  std::vector<std::string> out;
  for (const NetnsEntry& e : d.namespaces) out.push_back(e.name);
  return out;
}

TEST(NetnsDiscovery, HostIsFoundOnceAndNamedHostWhereverItIsReached) {
  FakeHost host;
  host.process(7, "proc/thread-self/ns/net");
  host.process(1, "proc/thread-self/ns/net");
  host.same_ns("netns/also-host", "proc/thread-self/ns/net");    // `ip netns attach also-host 1`
  host.same_ns("docker/default", "proc/thread-self/ns/net");     // Docker's host sandbox
  const auto d = discover(host.roots());

  ASSERT_EQ(d.namespaces.size(), 1u) << ::testing::PrintToString(names(d));
  const NetnsEntry& e = d.namespaces.front();
  EXPECT_EQ(e.name, "host");
  EXPECT_EQ(e.source, NetnsSource::kHost);
  EXPECT_EQ(e.id.ino, host.ino("proc/thread-self/ns/net"));
  EXPECT_EQ(e.id.to_string(), "net:[" + std::to_string(e.id.ino) + "]");
  EXPECT_EQ(e.pid, 1) << "the lowest PID in it";
  EXPECT_EQ(d.processes, 2u);
}

TEST(NetnsDiscovery, BoundNameWinsOverTheProcessesInsideAndTheNamespaceAppearsOnce) {
  FakeHost host;
  host.ns_file("netns/blue");
  host.process(250, "netns/blue", kDockerCgroup);  // even a container's cgroup does not rename it
  host.process(200, "netns/blue");
  const auto d = discover(host.roots());

  const NetnsEntry* blue = only_with_ino(d, host.ino("netns/blue"));
  ASSERT_NE(blue, nullptr);
  EXPECT_EQ(blue->name, "blue");
  EXPECT_EQ(blue->source, NetnsSource::kBound);
  EXPECT_EQ(blue->pid, 200);
  EXPECT_TRUE(blue->runtime.empty());
  EXPECT_EQ(d.namespaces.size(), 2u) << ::testing::PrintToString(names(d));
}

TEST(NetnsDiscovery, OfSeveralBoundNamesTheFirstInByteOrderNamesIt) {
  FakeHost host;
  host.ns_file("netns/zz-second");
  host.same_ns("netns/aa-first", "netns/zz-second");
  host.same_ns("netns/mm-middle", "netns/zz-second");
  const auto d = discover(host.roots());
  const NetnsEntry* e = only_with_ino(d, host.ino("netns/zz-second"));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name, "aa-first");
}

TEST(NetnsDiscovery, DedupIsByIdentityNeverByName) {
  FakeHost host;
  host.ns_file("netns/red");
  host.ns_file("docker/red");  // same name, another file: another namespace
  const auto d = discover(host.roots());
  ASSERT_EQ(d.namespaces.size(), 3u) << ::testing::PrintToString(names(d));
  const NetnsEntry* bound = only_with_ino(d, host.ino("netns/red"));
  const NetnsEntry* runtime = only_with_ino(d, host.ino("docker/red"));
  ASSERT_TRUE(bound && runtime);
  EXPECT_EQ(bound->name, "red");
  EXPECT_EQ(runtime->name, "red");
  EXPECT_NE(bound->id, runtime->id);
}

TEST(NetnsDiscovery, RuntimeEntryTakesTheNameOfTheContainerInside) {
  FakeHost host;
  host.ns_file("docker/0123456789ab");  // a sandbox ID, which no docker command shows
  host.process(300, "docker/0123456789ab", kDockerCgroup);
  host.ns_file("docker/ingress_sbox");  // an overlay namespace: no process in it
  const auto d = discover(host.roots());

  const NetnsEntry* sandbox = only_with_ino(d, host.ino("docker/0123456789ab"));
  ASSERT_NE(sandbox, nullptr);
  EXPECT_EQ(sandbox->name, kId.substr(0, 12)) << "the container ID, as docker ps shows it";
  EXPECT_EQ(sandbox->source, NetnsSource::kRuntimeDir);
  EXPECT_EQ(sandbox->runtime, "docker");
  EXPECT_EQ(sandbox->pid, 300);

  const NetnsEntry* ingress = only_with_ino(d, host.ino("docker/ingress_sbox"));
  ASSERT_NE(ingress, nullptr);
  EXPECT_EQ(ingress->name, "ingress_sbox");
  EXPECT_EQ(ingress->source, NetnsSource::kRuntimeDir);
  EXPECT_EQ(ingress->runtime, "docker");
  EXPECT_EQ(ingress->pid, 0) << "no process holds it";
}

TEST(NetnsDiscovery, ANamespaceOnlyProcessesHoldIsFoundAndNamedAfterItsContainer) {
  FakeHost host;
  host.ns_file("held/container");
  host.process(410, "held/container", kDockerCgroup);
  host.ns_file("held/pod");
  host.process(520, "held/pod", kPodCgroup);
  host.process(510, "held/pod", kServiceCgroup);  // the lowest PID names nothing: the next one does
  const auto d = discover(host.roots());

  const NetnsEntry* container = only_with_ino(d, host.ino("held/container"));
  ASSERT_NE(container, nullptr);
  EXPECT_EQ(container->name, kId.substr(0, 12));
  EXPECT_EQ(container->source, NetnsSource::kProcess);
  EXPECT_EQ(container->pid, 410);

  const NetnsEntry* pod = only_with_ino(d, host.ino("held/pod"));
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(pod->name, "pod:" + kUid);
  EXPECT_EQ(pod->pid, 510);
}

TEST(NetnsDiscovery, TheCgroupsOfTheEightLowestPidsAreRead) {
  // Made highest first, so the walk meets them in no helpful order.
  FakeHost host;
  host.ns_file("held/eighth");  // the container is the 8th lowest PID of ten
  host.ns_file("held/ninth");   // the container is the 9th lowest PID of ten
  for (int i = 10; i >= 1; --i) {
    host.process(1000 + i, "held/eighth", i == 8 ? kDockerCgroup : kServiceCgroup);
    host.process(2000 + i, "held/ninth", i == 9 ? kDockerCgroup : kServiceCgroup);
  }
  const auto d = discover(host.roots());
  const NetnsEntry* eighth = only_with_ino(d, host.ino("held/eighth"));
  const NetnsEntry* ninth = only_with_ino(d, host.ino("held/ninth"));
  ASSERT_TRUE(eighth && ninth);
  EXPECT_EQ(eighth->name, kId.substr(0, 12));
  EXPECT_EQ(ninth->name, "pid:2001");
}

TEST(NetnsDiscovery, WithoutAContainerItIsNamedAfterTheLowestPid) {
  FakeHost host;
  host.ns_file("held/unshared");  // `unshare -n sleep` in two shells
  host.process(4100, "held/unshared");
  host.process(405, "held/unshared");
  host.process(40500, "held/unshared");
  const auto d = discover(host.roots());
  const NetnsEntry* e = only_with_ino(d, host.ino("held/unshared"));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name, "pid:405");
  EXPECT_EQ(e->pid, 405);
  EXPECT_EQ(e->source, NetnsSource::kProcess);
}

TEST(NetnsDiscovery, ALinkNamingAKnownInodeIsThatNamespaceWithoutAStat) {
  FakeHost host;
  host.ns_file("netns/blue");
  // The link text alone places these processes: following the links would
  // find nothing (ENOENT).
  host.process_link(3, "net:[" + std::to_string(host.ino("proc/thread-self/ns/net")) + "]");
  host.process_link(900, "net:[" + std::to_string(host.ino("netns/blue")) + "]");
  // An inode not seen yet is followed, like any other file: here it leads
  // nowhere, as for a process that exited meanwhile.
  host.process_link(901, "net:[123456789]");
  host.process_link(902, "net:[12x]");
  const auto d = discover(host.roots());

  ASSERT_EQ(d.namespaces.size(), 2u) << ::testing::PrintToString(names(d));
  EXPECT_EQ(d.namespaces[0].name, "host");
  EXPECT_EQ(d.namespaces[0].pid, 3);
  const NetnsEntry* blue = only_with_ino(d, host.ino("netns/blue"));
  ASSERT_NE(blue, nullptr);
  EXPECT_EQ(blue->pid, 900);
  EXPECT_EQ(d.skipped.gone.count, 2u) << "901 and 902, followed and not found";
  ASSERT_TRUE(d.skipped.gone.first.has_value());
  EXPECT_EQ(d.skipped.gone.first->errnum(), ENOENT);
  EXPECT_NE(d.skipped.gone.first->message().find("stat " + host.path("proc/90")), std::string::npos)
      << d.skipped.gone.first->message();
}

TEST(NetnsDiscovery, EveryEntryHoldsItsNamespaceFileOpen) {
  FakeHost host;
  host.ns_file("netns/blue");
  host.ns_file("docker/0123456789ab");
  host.ns_file("held/unshared");
  host.process(42, "held/unshared");
  const auto d = discover(host.roots());
  ASSERT_EQ(d.namespaces.size(), 4u);
  for (const NetnsEntry& e : d.namespaces) {
    ASSERT_TRUE(e.fd.valid()) << e.name;
    struct stat st {};
    ASSERT_EQ(::fstat(e.fd.get(), &st), 0);
    EXPECT_EQ(st.st_ino, e.id.ino) << e.name;
    EXPECT_EQ(st.st_dev, e.id.dev) << e.name;
  }
}

TEST(NetnsDiscovery, TheHostComesFirstThenTheOthersByName) {
  FakeHost host;
  host.ns_file("netns/zeta");
  host.ns_file("netns/alpha");
  host.ns_file("held/x");
  host.process(77, "held/x");
  const auto d = discover(host.roots());
  EXPECT_EQ(names(d), (std::vector<std::string>{"host", "alpha", "pid:77", "zeta"}));
}

TEST(NetnsDiscovery, EntriesThatCannotBeReadAreSkippedAndCounted) {
  FakeHost host;
  host.ns_file("netns/blue");
  fs::create_directories(host.path("netns/not-a-file"));
  fs::create_directories(host.path("proc/600"));  // exited between readdir and stat: no ns/net
  fs::create_directories(host.path("proc/sys/net"));  // not a process
  host.ns_file("proc/self/ns/net");                   // not a process either
  host.process(1, "proc/thread-self/ns/net");
  const auto d = discover(host.roots());

  EXPECT_EQ(d.namespaces.size(), 2u) << ::testing::PrintToString(names(d));
  EXPECT_EQ(d.processes, 2u) << "600 and 1; not sys, not self";
  EXPECT_EQ(d.skipped.gone.count, 1u);
  ASSERT_TRUE(d.skipped.gone.first.has_value());
  EXPECT_EQ(d.skipped.gone.first->errnum(), ENOENT);
  EXPECT_NE(d.skipped.gone.first->message().find(host.path("proc/600/ns/net")), std::string::npos)
      << d.skipped.gone.first->message();
  EXPECT_EQ(d.skipped.not_netns.count, 1u);
  ASSERT_TRUE(d.skipped.not_netns.first.has_value());
  EXPECT_NE(d.skipped.not_netns.first->message().find("not-a-file"), std::string::npos);
  EXPECT_EQ(d.skipped.denied.count, 0u);
  EXPECT_EQ(d.skipped.failed.count, 0u);
}

// What an unprivileged walk saw, passed back from the child that did it.
struct UnprivilegedWalk {
  int exit_code = -1;
  bool ok = false;
  unsigned found = 0;
  unsigned denied = 0;
  int first_errnum = 0;
  char first_message[512] = {};
};

// Root reads everything, so the walk runs in a child that drops to nobody
// first (as anyone else, it runs as that user).
UnprivilegedWalk discover_unprivileged(const DiscoveryRoots& roots) {
  int p[2];
  if (::pipe(p) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    constexpr uid_t kNobody = 65534;
    if (::geteuid() == 0 &&
        (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
         ::setresuid(kNobody, kNobody, kNobody) != 0))
      ::_exit(3);
    UnprivilegedWalk out;
    auto r = discover_namespaces(roots);
    out.ok = r.ok();
    if (r.ok()) {
      out.found = static_cast<unsigned>(r->namespaces.size());
      out.denied = r->skipped.denied.count;
      if (r->skipped.denied.first) {
        out.first_errnum = r->skipped.denied.first->errnum();
        std::snprintf(out.first_message, sizeof out.first_message, "%s", r->skipped.denied.first->message().c_str());
      }
    }
    const bool written = ::write(p[1], &out, sizeof out) == static_cast<ssize_t>(sizeof out);
    ::_exit(written ? 0 : 4);
  }
  ::close(p[1]);
  UnprivilegedWalk out;
  if (pid > 0) {
    const bool got = ::read(p[0], &out, sizeof out) == static_cast<ssize_t>(sizeof out);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!got) out = UnprivilegedWalk{};
    out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  ::close(p[0]);
  return out;
}

TEST(NetnsDiscovery, WhatItMayNotReadIsSkippedAndCountedAsDenied) {
  FakeHost host;
  host.ns_file("netns/blue");
  host.ns_file("netns/secret");
  host.lock("netns/secret");
  host.ns_file("held/other-user");
  host.process(700, "held/other-user");
  host.lock("proc/700/ns");  // as /proc/PID/ns/net of another user's process without CAP_SYS_PTRACE
  host.process(701, "proc/thread-self/ns/net");
  const auto w = discover_unprivileged(host.roots());

  ASSERT_EQ(w.exit_code, 0);
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.found, 2u) << "host and blue";
  EXPECT_EQ(w.denied, 2u);
  EXPECT_EQ(w.first_errnum, EACCES);
  EXPECT_NE(std::string(w.first_message).find(host.path("netns/secret")), std::string::npos) << w.first_message;
}

TEST(NetnsDiscovery, AMissingRuntimeDirectoryIsNeitherAnErrorNorASkip) {
  FakeHost host;
  DiscoveryRoots roots = host.roots();
  roots.runtime_dirs.push_back({host.path("no-such-runtime/netns"), "other"});
  roots.bound_dir = host.path("no-run-netns");
  const auto d = discover(roots);
  EXPECT_EQ(d.namespaces.size(), 1u);
  EXPECT_EQ(d.skipped.gone.count + d.skipped.denied.count + d.skipped.not_netns.count + d.skipped.failed.count, 0u);
}

TEST(NetnsDiscovery, ErrorsOnlyWhenItsOwnNamespaceOrTheProcRootCannotBeRead) {
  FakeHost host;
  DiscoveryRoots roots = host.roots();
  roots.proc_root = host.path("nowhere");
  auto r = discover_namespaces(roots);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum(), ENOENT);
  EXPECT_NE(r.error().message().find(host.path("nowhere/thread-self/ns/net")), std::string::npos)
      << r.error().message();

  // Its own namespace readable, but not the list of processes: the
  // directory may be searched (x), not read (r).
  host.lock("proc", fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec);
  auto unreadable = discover_unprivileged(host.roots());
  EXPECT_EQ(unreadable.exit_code, 0);
  EXPECT_FALSE(unreadable.ok);
}

TEST(NetnsDiscovery, WithRealNamespacesRequiredAPlaceholderFileIsSkipped) {
  // The real /proc, and a /run/netns holding what a failed `ip netns add`
  // or a rootless runtime seen from the host leaves: an empty regular file.
  FakeHost host;
  host.ns_file("netns/placeholder");
  DiscoveryRoots roots;
  roots.bound_dir = host.path("netns");
  roots.runtime_dirs = {};
  const auto d = discover(roots);
  ASSERT_FALSE(d.namespaces.empty());
  EXPECT_EQ(d.namespaces.front().name, "host");
  EXPECT_TRUE(with_ino(d, host.ino("netns/placeholder")).empty());
  EXPECT_EQ(d.skipped.not_netns.count, 1u);
  ASSERT_TRUE(d.skipped.not_netns.first.has_value());
  EXPECT_EQ(d.skipped.not_netns.first->errnum(), ENOTTY);
  EXPECT_GT(d.processes, 0u);
}

TEST(NetnsDiscovery, SourcesHaveNames) {
  EXPECT_EQ(netns_source_name(NetnsSource::kHost), "host");
  EXPECT_EQ(netns_source_name(NetnsSource::kBound), "bound");
  EXPECT_EQ(netns_source_name(NetnsSource::kRuntimeDir), "runtime");
  EXPECT_EQ(netns_source_name(NetnsSource::kProcess), "process");
  ASSERT_EQ(default_runtime_dirs().size(), 1u);
  EXPECT_EQ(default_runtime_dirs().front().path, "/run/docker/netns");
}

}  // namespace
}  // namespace tcpreap
