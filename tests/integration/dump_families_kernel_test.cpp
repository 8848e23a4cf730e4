// The family skip on the real kernel, through the daemon's turn
// (ReapCycle::run, as `tcpreap reap` runs it too): in a namespace holding
// IPv4 sockets only the IPv6 dump is not made, in one holding IPv6 sockets
// only the IPv4 dump is not made, and either way every socket is still
// found; a filter asking for TIME-WAIT, which "inuse" does not count, makes
// both; an empty namespace makes none. ScanStats::dumps counts the requests
// the scanner really sent.
//
// Every test has namespaces of its own, trp<pid>f<k>, deleted at its end.

#include "netns/dump_families.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cycle/reap_cycle.h"
#include "netns/netns_identity.h"
#include "support/netns.h"
#include "support/privileges.h"
#include "support/support_error.h"
#include "support/tcp.h"

namespace tcpreap::test {
namespace {

// One policy over every socket in `states`; a dry run (no reaper needed).
Config config_for(StateSet states) {
  Config c;
  Policy p;
  p.name = "any";
  p.match.states = states;
  p.dead_when.silent_for = std::chrono::hours(1);
  c.policies.push_back(p);
  c.dry_run = true;
  return c;
}

const StateSet kEstablished = StateSet::of(TcpState::kEstablished);

class DumpFamiliesKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    TCPREAP_REQUIRE_ROOT();
    ns_ = std::make_unique<NamedNetns>(unique_netns_name('f'));
  }

  // An established pair on `address` inside the namespace; the listener
  // closed, so that the pair is all the namespace holds.
  struct Pair {
    UniqueFd client, server;
  };
  Pair connect_pair(const std::string& address) const {
    ScopedNetns inside(ns_->name());
    auto listener = tcp_listen(address);
    Pair p;
    p.client = tcp_connect(address, local_endpoint(listener.get()).port);
    p.server = tcp_accept(listener.get());
    return p;
  }

  // One turn of a cycle over the namespace alone, with tools made inside.
  NamespaceTurn one_turn(StateSet states) const {
    const std::string path = "/run/netns/" + ns_->name();
    auto fd = std::make_shared<const UniqueFd>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd->valid()) throw SupportError("opening " + path);
    auto id = read_netns_id(fd->get(), path);
    if (!id) throw SupportError(id.error().message());
    ReapCycle cycle = ReapCycle::open_empty(config_for(states), {});
    NamespaceInfo info{*id, ns_->name(), "", false};
    if (auto s = cycle.add_namespace(info, SocketMaker::in(fd, ns_->name())); !s)
      throw SupportError("add_namespace: " + s.error().message());
    auto r = cycle.run();
    if (!r) throw SupportError("run: " + r.error().message());
    if (r->namespaces.size() != 1) throw SupportError("not one namespace turn");
    return r->namespaces[0];
  }

  std::unique_ptr<NamedNetns> ns_;
};

TEST_F(DumpFamiliesKernel, IPv4SocketsOnlyMakeNoIPv6Dump) {
  Pair p = connect_pair("127.0.0.1");
  const NamespaceTurn turn = one_turn(kEstablished);
  ASSERT_EQ(turn.state, NamespaceTurn::State::kScanned) << (turn.error ? turn.error->message() : "");
  EXPECT_EQ(turn.stats.dumps, 1u);
  EXPECT_EQ(turn.stats.skipped, (DumpFamilies{false, true}));
  EXPECT_EQ(turn.stats.sockets, 2u) << "both ends are still found";
}

TEST_F(DumpFamiliesKernel, IPv6SocketsOnlyMakeNoIPv4Dump) {
  Pair p = connect_pair("::1");
  const NamespaceTurn turn = one_turn(kEstablished);
  ASSERT_EQ(turn.state, NamespaceTurn::State::kScanned) << (turn.error ? turn.error->message() : "");
  EXPECT_EQ(turn.stats.dumps, 1u);
  EXPECT_EQ(turn.stats.skipped, (DumpFamilies{true, false}));
  EXPECT_EQ(turn.stats.sockets, 2u) << "both ends are still found";
}

TEST_F(DumpFamiliesKernel, BothFamiliesInUseMakeBothDumps) {
  Pair p4 = connect_pair("127.0.0.1");
  Pair p6 = connect_pair("::1");
  const NamespaceTurn turn = one_turn(kEstablished);
  ASSERT_EQ(turn.state, NamespaceTurn::State::kScanned);
  EXPECT_EQ(turn.stats.dumps, 2u);
  EXPECT_EQ(turn.stats.skipped, DumpFamilies::none());
  EXPECT_EQ(turn.stats.sockets, 4u);
}

TEST_F(DumpFamiliesKernel, AFilterAskingForTimeWaitDumpsBothFamilies) {
  Pair p = connect_pair("127.0.0.1");
  const NamespaceTurn turn = one_turn(kEstablished | StateSet::of(TcpState::kTimeWait));
  ASSERT_EQ(turn.state, NamespaceTurn::State::kScanned);
  EXPECT_EQ(turn.stats.dumps, 2u);
  EXPECT_EQ(turn.stats.skipped, DumpFamilies::none());
  EXPECT_EQ(turn.stats.sockets, 2u);
}

TEST_F(DumpFamiliesKernel, AnEmptyNamespaceMakesNoDump) {
  const NamespaceTurn turn = one_turn(kEstablished);
  EXPECT_EQ(turn.state, NamespaceTurn::State::kEmpty);
  EXPECT_EQ(turn.stats.dumps, 0u);
  EXPECT_EQ(turn.stats.skipped, DumpFamilies::both());
}

}  // namespace
}  // namespace tcpreap::test
