// Naming one network namespace (`tcpreap --netns NAME`) over a fake host in
// /tmp, as netns_discovery_test builds it: regular files stand for namespace
// files, and a hard link of one is the same namespace reached by another
// path (same device and inode).

#include "netns/netns_lookup.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "unit/scratch_dir.h"

namespace tcpreap {
namespace {

namespace fs = std::filesystem;

const std::string kId = "3f2a9c1b7d0e4a5b8c6d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b";
const std::string kUid = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";

// proc/ (thread-self/ns/net is the host's namespace), netns/ for /run/netns,
// docker/ for /run/docker/netns.
class FakeHost {
 public:
  FakeHost() {
    dir_.dir("netns");
    dir_.dir("docker");
    ns_file("proc/thread-self/ns/net");
  }
  std::string path(const std::string& rel) const { return dir_.path() + "/" + rel; }
  void ns_file(const std::string& rel) const { dir_.file(rel, rel); }
  void same_ns(const std::string& rel, const std::string& existing) const {
    fs::create_directories(fs::path(path(rel)).parent_path());
    fs::create_hard_link(path(existing), path(rel));
  }
  void process(int pid, const std::string& ns, const std::string& cgroup = "0::/system.slice/cron.service\n") const {
    same_ns("proc/" + std::to_string(pid) + "/ns/net", ns);
    dir_.file("proc/" + std::to_string(pid) + "/cgroup", cgroup);
  }
  uint64_t ino(const std::string& rel) const {
    struct stat st {};
    EXPECT_EQ(::stat(path(rel).c_str(), &st), 0) << rel;
    return st.st_ino;
  }
  std::string identity(const std::string& rel) const { return "net:[" + std::to_string(ino(rel)) + "]"; }
  DiscoveryRoots roots() const {
    DiscoveryRoots r;
    r.proc_root = path("proc");
    r.bound_dir = path("netns");
    r.runtime_dirs = {{path("docker"), "docker"}};
    r.require_netns = false;
    return r;
  }

 private:
  testing::ScratchDir dir_;
};

// The namespace `name` finds (its inode), or the failure.
uint64_t found_ino(const FakeHost& host, const std::string& name) {
  auto r = find_network_namespace(name, host.roots());
  EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error().message());
  if (!r.ok()) return 0;
  EXPECT_TRUE(r->fd) << name << ": the entry must hold its namespace open";
  return r->id.ino;
}

std::string failure(const FakeHost& host, const std::string& name) {
  auto r = find_network_namespace(name, host.roots());
  EXPECT_FALSE(r.ok()) << name << " found " << (r.ok() ? r->id.to_string() : "");
  return r.ok() ? "" : r.error().message();
}

TEST(NetnsLookup, EveryKindOfNameFindsItsNamespace) {
  FakeHost host;
  host.ns_file("netns/blue");
  host.ns_file("docker/0123456789ab");
  host.process(300, "docker/0123456789ab", "0::/system.slice/docker-" + kId + ".scope\n");
  host.ns_file("held/pod");  // a CRI pod's namespace, bound in /run/netns as cni-...
  host.same_ns("netns/cni-42", "held/pod");
  host.process(520, "held/pod", "0::/kubepods/besteffort/pod" + kUid + "/" + kId + "\n");
  host.ns_file("held/unshared");
  host.process(4100, "held/unshared");

  EXPECT_EQ(found_ino(host, "host"), host.ino("proc/thread-self/ns/net"));
  EXPECT_EQ(found_ino(host, "blue"), host.ino("netns/blue"));
  EXPECT_EQ(found_ino(host, kId.substr(0, 12)), host.ino("docker/0123456789ab"));  // the container inside
  EXPECT_EQ(found_ino(host, "cni-42"), host.ino("held/pod"));                       // its name
  EXPECT_EQ(found_ino(host, "pod:" + kUid), host.ino("held/pod"));                  // its pod
  EXPECT_EQ(found_ino(host, "pid:4100"), host.ino("held/unshared"));
  EXPECT_EQ(found_ino(host, host.identity("netns/blue")), host.ino("netns/blue"));
  EXPECT_EQ(found_ino(host, host.identity("held/unshared")), host.ino("held/unshared"));
}

TEST(NetnsLookup, TheEntryIsDiscoverysWithItsNameAndSource) {
  FakeHost host;
  host.ns_file("netns/blue");
  auto own = find_network_namespace("host", host.roots());
  ASSERT_TRUE(own.ok()) << own.error().message();
  EXPECT_EQ(own->source, NetnsSource::kHost);
  EXPECT_EQ(own->name, "host");
  auto blue = find_network_namespace(host.identity("netns/blue"), host.roots());
  ASSERT_TRUE(blue.ok()) << blue.error().message();
  EXPECT_EQ(blue->source, NetnsSource::kBound);
  EXPECT_EQ(blue->name, "blue");
}

TEST(NetnsLookup, APathIsTheNamespaceOfThatFileNamedAsDiscoveryNamesIt) {
  FakeHost host;
  host.ns_file("netns/blue");
  host.process(900, "netns/blue");
  auto r = find_network_namespace(host.path("proc/900/ns/net"), host.roots());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->id.ino, host.ino("netns/blue"));
  EXPECT_EQ(r->name, "blue");
  EXPECT_EQ(found_ino(host, host.path("netns/blue")), host.ino("netns/blue"));
  EXPECT_EQ(found_ino(host, host.path("proc/thread-self/ns/net")), host.ino("proc/thread-self/ns/net"));
}

TEST(NetnsLookup, APathDiscoveryDoesNotReachIsNamedByThePath) {
  FakeHost host;
  host.ns_file("elsewhere/ns");  // bound where no source of discovery looks
  auto r = find_network_namespace(host.path("elsewhere/ns"), host.roots());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->id.ino, host.ino("elsewhere/ns"));
  EXPECT_EQ(r->name, host.path("elsewhere/ns"));
  EXPECT_NE(r->source, NetnsSource::kHost);
  EXPECT_TRUE(r->fd);
}

TEST(NetnsLookup, APathThatCannotBeOpenedSaysWhyWithItsErrno) {
  FakeHost host;
  auto r = find_network_namespace(host.path("netns/missing"), host.roots());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum(), ENOENT);
  EXPECT_NE(r.error().message().find(host.path("netns/missing")), std::string::npos) << r.error().message();
}

TEST(NetnsLookup, ARegularFileIsNoNamespaceWhenNamespacesAreRequired) {
  FakeHost host;
  host.ns_file("netns/blue");
  DiscoveryRoots roots = host.roots();
  roots.require_netns = true;
  auto r = find_network_namespace(host.path("netns/blue"), roots);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("is not a namespace"), std::string::npos) << r.error().message();
}

TEST(NetnsLookup, NoMatchSaysSoAndPointsAtListAll) {
  FakeHost host;
  host.ns_file("netns/blue");
  for (const std::string name : {"green", "blu", "net:[1]", "pid:1", "Blue"}) {
    SCOPED_TRACE(name);
    const std::string why = failure(host, name);
    EXPECT_NE(why.find("no network namespace is named '" + name + "'"), std::string::npos) << why;
    EXPECT_NE(why.find("tcpreap list -A"), std::string::npos) << why;
  }
  EXPECT_NE(failure(host, "").find("empty"), std::string::npos);
}

TEST(NetnsLookup, ANameOfSeveralListsTheirIdentitiesAndAsksForOne) {
  FakeHost host;
  host.ns_file("netns/red");
  host.ns_file("docker/red");  // the same name, another namespace
  const std::string why = failure(host, "red");
  EXPECT_NE(why.find("names 2 network namespaces"), std::string::npos) << why;
  EXPECT_NE(why.find(host.identity("netns/red")), std::string::npos) << why;
  EXPECT_NE(why.find(host.identity("docker/red")), std::string::npos) << why;
  EXPECT_NE(why.find("net:[<inode>]"), std::string::npos) << why;
  // Each identity then names exactly one.
  EXPECT_EQ(found_ino(host, host.identity("netns/red")), host.ino("netns/red"));
  EXPECT_EQ(found_ino(host, host.identity("docker/red")), host.ino("docker/red"));
}

TEST(NetnsLookup, ANameOfOneAndTheContainerOfAnotherIsAmbiguousToo) {
  FakeHost host;
  const std::string short_id = kId.substr(0, 12);
  host.ns_file("netns/" + short_id);  // an ip netns namespace someone named so
  host.ns_file("held/container");
  host.process(410, "held/container", "0::/system.slice/docker-" + kId + ".scope\n");
  const std::string why = failure(host, short_id);
  EXPECT_NE(why.find("names 2 network namespaces"), std::string::npos) << why;
}

TEST(NetnsLookup, AControlCharacterInTheNameIsNotEchoed) {
  FakeHost host;
  const std::string why = failure(host, "a\nb\x1b[31m");
  EXPECT_EQ(why.find('\n'), std::string::npos);
  EXPECT_EQ(why.find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace tcpreap
