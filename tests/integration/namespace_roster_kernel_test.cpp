// NamespaceRoster on the real kernel: namespaces found are added to a
// ReapCycle with tools made inside them, by identity; excluded ones are
// not; one no longer found is removed and nothing of tcpreap is left in it
// (no descriptor of the namespace, no socket living there); a rename is a
// remove and an add; a namespace that cannot be entered is said once.

#include "cycle/namespace_roster.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "netns/namespace_sockets.h"
#include "support/netns.h"
#include "support/privileges.h"

namespace tcpreap::test {
namespace {

Config config_with_policy() {
  Config c;
  Policy p;
  p.name = "any";
  p.match.states = StateSet::of(TcpState::kEstablished);
  p.dead_when.silent_for = std::chrono::hours(1);
  c.policies.push_back(p);
  c.dry_run = true;  // no reaper: the scanner and the counters are enough here
  return c;
}

NetnsEntry entry_of(const std::string& path, std::string name, NetnsSource source) {
  NetnsEntry e;
  e.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!e.fd) throw std::runtime_error("open " + path);
  auto id = read_netns_id(e.fd.get(), path);
  if (!id) throw std::runtime_error(id.error().message());
  e.id = *id;
  e.name = std::move(name);
  e.source = source;
  return e;
}

NetnsEntry own_entry() {
  auto own = open_own_netns();
  if (!own) throw std::runtime_error(own.error().message());
  NetnsEntry e;
  e.id = own->id;
  e.name = "host";
  e.source = NetnsSource::kHost;
  e.fd = std::move(own->fd);
  return e;
}

// What this process holds in the namespace `id`: descriptors of the
// namespace itself, and sockets living in it.
int held_in(const NetnsId& id) {
  int held = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return -1;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const int fd = std::atoi(e->d_name);
    if (fd == ::dirfd(d)) continue;
    char target[256];
    const std::string link = std::string("/proc/self/fd/") + e->d_name;
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    const std::string t(target, static_cast<size_t>(n));
    struct stat st {};
    // A namespace file opened through its bind mount reads as its path:
    // compared by identity.
    if (::fstat(fd, &st) == 0 && st.st_dev == id.dev && st.st_ino == id.ino) {
      ++held;
    } else if (t.rfind("socket:", 0) == 0) {
      if (auto where = socket_namespace(fd); where && where->ino == id.ino) ++held;
    }
  }
  ::closedir(d);
  return held;
}

class NamespaceRosterKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TCPREAP_REQUIRE_ROOT();
    a_.emplace(unique_netns_name('r'));
    b_.emplace(unique_netns_name('r'));
  }
  DiscoveredNamespaces found(bool with_b, const std::string& b_name = "") {
    DiscoveredNamespaces f;
    f.namespaces.push_back(own_entry());
    f.namespaces.push_back(entry_of("/run/netns/" + a_->name(), a_->name(), NetnsSource::kBound));
    if (with_b)
      f.namespaces.push_back(
          entry_of("/run/netns/" + b_->name(), b_name.empty() ? b_->name() : b_name, NetnsSource::kBound));
    return f;
  }
  NetnsId id_of(const NamedNetns& n) { return entry_of("/run/netns/" + n.name(), "", NetnsSource::kBound).id; }

  std::optional<NamedNetns> a_, b_;
};

TEST_F(NamespaceRosterKernelTest, AddsWhatIsFoundAndRemovesWhatIsGoneLeavingNothingThere) {
  ReapCycle cycle = ReapCycle::open_empty(config_with_policy(), {});
  NamespaceRoster roster;
  NamespaceScope all;
  all.scan = NamespaceScope::Mode::kAll;
  RosterChange c1 = roster.sync(cycle, found(true), all);
  ASSERT_TRUE(c1.failed.empty()) << c1.failed[0].error.message();
  EXPECT_EQ(c1.added.size(), 3u);
  EXPECT_EQ(cycle.namespace_count(), 3u);
  const NetnsId b = id_of(*b_);
  ASSERT_TRUE(cycle.find_namespace(b).has_value());
  EXPECT_GT(held_in(b), 1) << "the maker's descriptor and the scanner's socket at least";

  // Found again: nothing changes.
  RosterChange c2 = roster.sync(cycle, found(true), all);
  EXPECT_TRUE(c2.added.empty() && c2.removed.empty() && c2.failed.empty());

  // b gone from discovery: removed at once, nothing of it held any more.
  RosterChange c3 = roster.sync(cycle, found(false), all);
  ASSERT_EQ(c3.removed.size(), 1u);
  EXPECT_EQ(c3.removed[0].id, b);
  EXPECT_FALSE(cycle.find_namespace(b).has_value());
  EXPECT_EQ(held_in(b), 0);
  // And it is really freed once its name goes: its veth's peer in a goes
  // with it (it would stay while anything of ours held b).
  const std::string peer = "trv" + std::to_string(::getpid()) + "a";
  b_->ip({"link", "add", "vb", "type", "veth", "peer", "name", peer, "netns", a_->name()});
  b_.reset();
  bool freed = false;
  for (int i = 0; i < 200 && !freed; ++i) {
    freed = std::system(("ip -n " + a_->name() + " link show " + peer + " >/dev/null 2>&1").c_str()) != 0;
    if (!freed) ::usleep(50'000);
  }
  EXPECT_TRUE(freed) << "the veth peer of the removed namespace is still there";
  // A turn scans the two left.
  auto turn = cycle.run();
  ASSERT_TRUE(turn.ok()) << turn.error().message();
  EXPECT_EQ(turn->namespaces.size(), 2u);
}

TEST_F(NamespaceRosterKernelTest, ExcludedAndHostOnlyScopesKeepOthersOut) {
  ReapCycle cycle = ReapCycle::open_empty(config_with_policy(), {});
  NamespaceRoster roster;
  NamespaceScope all;
  all.scan = NamespaceScope::Mode::kAll;
  all.exclude = {b_->name(), "host"};
  RosterChange c = roster.sync(cycle, found(true), all);
  ASSERT_EQ(c.added.size(), 1u);
  EXPECT_EQ(c.added[0].name, a_->name());
  // Back to host only: a is removed, the own one added.
  RosterChange own = roster.sync_own(cycle);
  ASSERT_EQ(own.removed.size(), 1u);
  ASSERT_EQ(own.added.size(), 1u);
  EXPECT_TRUE(own.added[0].own);
  EXPECT_EQ(cycle.namespace_count(), 1u);
  EXPECT_EQ(held_in(id_of(*a_)), 0);
}

TEST_F(NamespaceRosterKernelTest, ANamespaceNoPolicyAppliesInIsNeitherEnteredNorHeld) {
  Config c = config_with_policy();
  c.policies[0].namespaces = {a_->name()};
  ReapCycle cycle = ReapCycle::open_empty(c, {});
  NamespaceRoster roster;
  NamespaceScope all;
  all.scan = NamespaceScope::Mode::kAll;
  RosterChange change = roster.sync(cycle, found(true), all);
  ASSERT_EQ(change.added.size(), 2u) << "the own one, and a";
  EXPECT_FALSE(cycle.find_namespace(id_of(*b_)).has_value());
  EXPECT_EQ(held_in(id_of(*b_)), 0);
  // A reload whose policy applies in b too: b is added at the next sync.
  c.policies[0].namespaces = {"trp*"};
  ASSERT_TRUE(cycle.reload(c).ok());
  RosterChange again = roster.sync(cycle, found(true), all);
  ASSERT_EQ(again.added.size(), 1u);
  EXPECT_EQ(again.added[0].name, b_->name());
}

TEST_F(NamespaceRosterKernelTest, ARenamedNamespaceIsAddedAgainUnderItsNewName) {
  ReapCycle cycle = ReapCycle::open_empty(config_with_policy(), {});
  NamespaceRoster roster;
  NamespaceScope all;
  all.scan = NamespaceScope::Mode::kAll;
  roster.sync(cycle, found(true), all);
  RosterChange c = roster.sync(cycle, found(true, "pid:4242"), all);
  ASSERT_EQ(c.removed.size(), 1u);
  ASSERT_EQ(c.added.size(), 1u);
  EXPECT_EQ(c.added[0].name, "pid:4242");
  auto slot = cycle.find_namespace(id_of(*b_));
  ASSERT_TRUE(slot.has_value());
  EXPECT_EQ(cycle.namespace_info(*slot).name, "pid:4242");
}

TEST_F(NamespaceRosterKernelTest, ANamespaceThatCannotBeEnteredIsSaidOnceAndTriedAgain) {
  ReapCycle cycle = ReapCycle::open_empty(config_with_policy(), {});
  NamespaceRoster roster;
  NamespaceScope all;
  all.scan = NamespaceScope::Mode::kAll;
  auto with_bad = [&] {
    DiscoveredNamespaces f = found(false);
    // A file that is no namespace: setns() refuses it (EINVAL).
    NetnsEntry bad;
    bad.fd = UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    bad.id = NetnsId{1, 1, std::nullopt};
    bad.name = "not-a-namespace";
    bad.source = NetnsSource::kBound;
    f.namespaces.push_back(std::move(bad));
    return f;
  };
  RosterChange c1 = roster.sync(cycle, with_bad(), all);
  ASSERT_EQ(c1.failed.size(), 1u);
  EXPECT_NE(c1.failed[0].error.message().find("not-a-namespace"), std::string::npos) << c1.failed[0].error.message();
  EXPECT_EQ(roster.failing(), 1u);
  EXPECT_EQ(cycle.namespace_count(), 2u) << "the others are scanned";
  RosterChange c2 = roster.sync(cycle, with_bad(), all);
  EXPECT_TRUE(c2.failed.empty()) << "said once while the error stays the same: " << c1.failed[0].error.message()
                                 << " / " << (c2.failed.empty() ? "" : c2.failed[0].error.message());
  EXPECT_EQ(roster.failing(), 1u);
  RosterChange c3 = roster.sync(cycle, found(false), all);
  EXPECT_EQ(roster.failing(), 0u) << "gone: not failing any more";
}

}  // namespace
}  // namespace tcpreap::test
