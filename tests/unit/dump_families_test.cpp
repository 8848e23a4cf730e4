// Which families a dump is made for: the rule on counts (a family at 0 is
// left out only when every state asked for is one "inuse" counts; an
// unreadable count leaves nothing out), and FamilyDumpGate applying it to
// counter files it reads afresh before each dump. The real kernel's
// counters, and the dumps they save, are dump_families_kernel_test's.

#include "netns/dump_families.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/counter_files.h"
#include "unit/scratch_dir.h"

namespace tcpreap {
namespace {

using testing::GateOnFiles;
using testing::ScratchDir;

const StateSet kEstablished = StateSet::of(TcpState::kEstablished);
const StateSet kEstablishedAndTimeWait = kEstablished | StateSet::of(TcpState::kTimeWait);

Result<TcpInUse> counts(uint64_t ipv4, uint64_t ipv6) { return TcpInUse{ipv4, ipv6}; }

TEST(FamiliesToDump, AFamilyAtZeroIsLeftOut) {
  EXPECT_EQ(families_to_dump(kEstablished, counts(5, 0)), (DumpFamilies{true, false}));
  EXPECT_EQ(families_to_dump(kEstablished, counts(0, 5)), (DumpFamilies{false, true}));
  EXPECT_EQ(families_to_dump(kEstablished, counts(5, 5)), DumpFamilies::both());
  // Neither: no dump at all.
  EXPECT_EQ(families_to_dump(kEstablished, counts(0, 0)), DumpFamilies::none());
  const StateSet counted = kEstablished | StateSet::of(TcpState::kCloseWait) | StateSet::of(TcpState::kListen);
  EXPECT_EQ(families_to_dump(counted, counts(0, 1)), (DumpFamilies{false, true}));
}

TEST(FamiliesToDump, AStateInuseDoesNotCountDumpsBoth) {
  // TIME-WAIT, an orphan's FIN-WAIT-2, request sockets, CLOSE: listed by a
  // dump, never counted - at 0 they may still be there.
  for (TcpState t : {TcpState::kTimeWait, TcpState::kFinWait2, TcpState::kSynRecv, TcpState::kClose}) {
    const StateSet s = kEstablished | StateSet::of(t);
    EXPECT_EQ(families_to_dump(s, counts(0, 0)), DumpFamilies::both()) << state_label(static_cast<uint8_t>(t));
    EXPECT_EQ(families_to_dump(s, counts(7, 0)), DumpFamilies::both()) << state_label(static_cast<uint8_t>(t));
  }
  EXPECT_EQ(families_to_dump(StateSet::connected(), counts(0, 0)), DumpFamilies::both());
  EXPECT_EQ(families_to_dump(StateSet::all(), counts(0, 0)), DumpFamilies::both());
}

TEST(FamiliesToDump, AReadErrorDumpsBoth) {
  const Result<TcpInUse> failed = Error(EIO, "reading sockstat");
  EXPECT_EQ(families_to_dump(kEstablished, failed), DumpFamilies::both());
}

TEST(DumpFamilies, SetOperations) {
  const DumpFamilies v4{true, false}, v6{false, true};
  EXPECT_TRUE(v4.has(Family::kIPv4));
  EXPECT_FALSE(v4.has(Family::kIPv6));
  EXPECT_FALSE(DumpFamilies::none().any());
  EXPECT_EQ(DumpFamilies::both().without(v4), v6);
  EXPECT_EQ(v4.without(v4), DumpFamilies::none());
  EXPECT_EQ(DumpFamilies::both() & v6, v6);
  EXPECT_EQ(v4 & v6, DumpFamilies::none());
}

TEST(FamilyDumpGate, ReadsTheCountersBeforeEachDump) {
  GateOnFiles g;
  ASSERT_TRUE(g.gate.counted());
  EXPECT_EQ(g.gate.families_to_dump(kEstablished), DumpFamilies::none());
  g.set(12, 0);
  EXPECT_EQ(g.gate.families_to_dump(kEstablished), (DumpFamilies{true, false}));
  g.set(0, 3);
  EXPECT_EQ(g.gate.families_to_dump(kEstablished), (DumpFamilies{false, true}));
  g.set(1, 1);
  EXPECT_EQ(g.gate.families_to_dump(kEstablished), DumpFamilies::both());
}

TEST(FamilyDumpGate, TimeWaitAskedForDumpsBothAtZero) {
  GateOnFiles g;  // both at 0, "tw 9" in sockstat: inuse does not count them
  g.set(0, 0);
  EXPECT_EQ(g.gate.families_to_dump(kEstablishedAndTimeWait), DumpFamilies::both());
}

TEST(FamilyDumpGate, ACounterItCannotReadDumpsBoth) {
  GateOnFiles g;
  g.dir.file("sockstat6", "TCP6: inuse many\n");
  EXPECT_EQ(g.gate.families_to_dump(kEstablished), DumpFamilies::both());
  g.dir.file("sockstat6", "TCP6: inuse 0\n");
  g.dir.file("sockstat", "");
  EXPECT_EQ(g.gate.families_to_dump(kEstablished), DumpFamilies::both());
}

TEST(FamilyDumpGate, WithoutCountersDumpsBoth) {
  FamilyDumpGate gate(std::nullopt);
  EXPECT_FALSE(gate.counted());
  EXPECT_EQ(gate.families_to_dump(kEstablished), DumpFamilies::both());
}

TEST(FamilyDumpGate, WithoutSockstat6IPv6IsNeverDumped) {
  // A kernel without IPv6 has no sockstat6 and no IPv6 socket.
  ScratchDir dir;
  const std::string v4 = dir.file("sockstat", "TCP: inuse 4 orphan 0\n");
  auto count = TcpSocketCount::open_files(v4, dir.path() + "/sockstat6", "net:[1]");
  ASSERT_TRUE(count.ok()) << count.error().message();
  FamilyDumpGate gate(std::move(*count));
  EXPECT_EQ(gate.families_to_dump(kEstablished), (DumpFamilies{true, false}));
}

}  // namespace
}  // namespace tcpreap
