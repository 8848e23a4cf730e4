// capability_target: what a process keeps of each set, for the daemon (the
// two network capabilities) and for the CLI's commands (none, or the two).

#include "privilege/capabilities.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace tcpreap {
namespace {

constexpr uint64_t bit(int c) { return uint64_t{1} << c; }
constexpr uint64_t kAll = (uint64_t{1} << 41) - 1;  // CAP_CHOWN .. CAP_CHECKPOINT_RESTORE
const uint64_t kTwo = bit(CAP_NET_ADMIN) | bit(CAP_NET_RAW);

CapabilitySets root() { return {kAll, kAll, 0, 0, kAll}; }

TEST(CapabilityTarget, RootKeepsTheTwoEverywhereItMay) {
  const CapabilitySets t = capability_target(root());
  EXPECT_EQ(t.effective, kTwo);
  EXPECT_EQ(t.permitted, kTwo);
  EXPECT_EQ(t.inheritable, 0u);
  EXPECT_EQ(t.ambient, 0u);
  EXPECT_EQ(t.bounding, kTwo);  // CAP_SETPCAP held: the bounding set shrinks
}

TEST(CapabilityTarget, KeepNoneDropsEverything) {
  const CapabilitySets t = capability_target(root(), 0);
  EXPECT_EQ(t.effective, 0u);
  EXPECT_EQ(t.permitted, 0u);
  EXPECT_EQ(t.bounding, 0u);
}

TEST(CapabilityTarget, KeepIsCutToTheNetworkAndNamespaceCapabilities) {
  // Asking for more than the four gains nothing beyond them.
  const CapabilitySets t = capability_target(root(), kAll);
  EXPECT_EQ(t.permitted, kTwo | namespace_capabilities());
  EXPECT_EQ(namespace_capabilities(), bit(CAP_SYS_ADMIN) | bit(CAP_SYS_PTRACE));
  // Without namespaces.scan: all the daemon asks for the two alone.
  EXPECT_EQ(capability_target(root(), network_capabilities()).permitted, kTwo);
  const CapabilitySets admin = capability_target(root(), bit(CAP_NET_ADMIN));
  EXPECT_EQ(admin.effective, bit(CAP_NET_ADMIN));
}

TEST(CapabilityTarget, NothingIsGained) {
  CapabilitySets only_raw{bit(CAP_NET_RAW), bit(CAP_NET_RAW), 0, bit(CAP_NET_RAW), kAll};
  const CapabilitySets t = capability_target(only_raw);
  EXPECT_EQ(t.permitted, bit(CAP_NET_RAW));
  EXPECT_EQ(t.ambient, bit(CAP_NET_RAW));
  // No CAP_SETPCAP: the bounding set stays (no_new_privs guards it).
  EXPECT_EQ(t.bounding, kAll);
}

TEST(CapabilityDrop, SummaryNamesTheUserSwitchedTo) {
  CapabilityDrop d{root(), {kTwo, kTwo, 0, 0, kTwo}, UserIdentity{"nobody", 65534, 65534}};
  EXPECT_EQ(d.summary(), "CAP_NET_ADMIN and CAP_NET_RAW held; 39 others dropped; switched to user nobody (uid 65534)");
  d.user.reset();
  EXPECT_EQ(d.summary(), "CAP_NET_ADMIN and CAP_NET_RAW held; 39 others dropped");
}

}  // namespace
}  // namespace tcpreap
