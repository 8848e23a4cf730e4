// The sockstat parser on real samples and broken ones, which dump state sets
// the counters make safe to skip, and TcpSocketCount over plain files: what
// it reads, what a missing sockstat6 means, what its errors say, and that a
// read allocates nothing. The counters of real namespaces are
// tcp_socket_count_kernel_test's.

#include "netns/tcp_socket_count.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "allocation_counter.h"
#include "scratch_dir.h"

namespace tcpreap {
namespace {

using testing::ScratchDir;

// Read on this machine (Linux 6.18), in a namespace holding one listener.
constexpr std::string_view kSockstat618 =
    "sockets: used 13\n"
    "TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 51\n"
    "UDP: inuse 0 mem 0\n"
    "UDPLITE: inuse 0\n"
    "RAW: inuse 0\n"
    "FRAG: inuse 0 memory 0\n";
constexpr std::string_view kSockstat6_618 =
    "TCP6: inuse 0\n"
    "UDP6: inuse 0\n"
    "UDPLITE6: inuse 0\n"
    "RAW6: inuse 0\n"
    "FRAG6: inuse 0 memory 0\n";
// A busy server on an older kernel (4.19's layout: the same lines).
constexpr std::string_view kSockstatBusy =
    "sockets: used 200364\n"
    "TCP: inuse 200012 orphan 3 tw 1180 alloc 200019 mem 9154\n"
    "UDP: inuse 4 mem 2\n"
    "UDPLITE: inuse 0\n"
    "RAW: inuse 1\n"
    "FRAG: inuse 0 memory 0\n";
constexpr std::string_view kSockstat6Busy =
    "TCP6: inuse 2750\n"
    "UDP6: inuse 3\n"
    "UDPLITE6: inuse 0\n"
    "RAW6: inuse 0\n"
    "FRAG6: inuse 0 memory 0\n";

std::optional<uint64_t> tcp(std::string_view text) { return parse_sockstat_inuse(text, "TCP:"); }
std::optional<uint64_t> tcp6(std::string_view text) { return parse_sockstat_inuse(text, "TCP6:"); }

TEST(ParseSockstatInuse, ReadsRealFiles) {
  EXPECT_EQ(tcp(kSockstat618), 1u);
  EXPECT_EQ(tcp6(kSockstat6_618), 0u);
  EXPECT_EQ(tcp(kSockstatBusy), 200012u);
  EXPECT_EQ(tcp6(kSockstat6Busy), 2750u);
}

TEST(ParseSockstatInuse, TheLabelMustStartALine) {
  // "TCP:" is not a prefix of "TCP6:", and each file holds one family.
  EXPECT_EQ(tcp(kSockstat6Busy), std::nullopt);
  EXPECT_EQ(tcp6(kSockstatBusy), std::nullopt);
  EXPECT_EQ(tcp("UDP: inuse 0 TCP: inuse 5 \n"), std::nullopt);
  EXPECT_EQ(tcp("xTCP: inuse 5\n"), std::nullopt);
  EXPECT_EQ(tcp(" TCP: inuse 5\n"), std::nullopt);
  EXPECT_EQ(tcp("\nTCP: inuse 5\n"), 5u);
  EXPECT_EQ(parse_sockstat_inuse(kSockstat618, ""), std::nullopt);
  EXPECT_EQ(parse_sockstat_inuse(kSockstat618, "UDP:"), 0u);
}

TEST(ParseSockstatInuse, ANumberAtTheEndOfTheTextMayHaveBeenCut) {
  EXPECT_EQ(tcp("TCP: inuse 12\n"), 12u);
  EXPECT_EQ(tcp("TCP: inuse 12 "), 12u);
  EXPECT_EQ(tcp("TCP: inuse 12"), std::nullopt);  // "12" of "1234"?
  EXPECT_EQ(tcp("TCP: inuse 1"), std::nullopt);
  EXPECT_EQ(tcp6("TCP6: inuse 7"), std::nullopt);
  EXPECT_EQ(tcp("sockets: used 13\nTCP: inu"), std::nullopt);
  EXPECT_EQ(tcp("sockets: used 13\nTC"), std::nullopt);
  EXPECT_EQ(tcp(kSockstat618.substr(0, kSockstat618.find(" orphan"))), std::nullopt);
  EXPECT_EQ(tcp(kSockstat618.substr(0, kSockstat618.find(" orphan") + 1)), 1u);
}

TEST(ParseSockstatInuse, RefusesAMissingOrMisplacedField) {
  EXPECT_EQ(tcp(""), std::nullopt);
  EXPECT_EQ(tcp("\n\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP:\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuse\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuse \n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuse  5\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP:inuse 5\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP:  inuse 5\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: orphan 0 inuse 5\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuses 5\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: INUSE 5\n"), std::nullopt);
  // The first line with the label decides: no second chance further down.
  EXPECT_EQ(tcp("TCP: used 4\nTCP: inuse 5\n"), std::nullopt);
}

TEST(ParseSockstatInuse, RefusesWhatIsNotAPlainDecimal) {
  EXPECT_EQ(tcp("TCP: inuse -1 orphan 0\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuse +1 orphan 0\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuse 1x orphan 0\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuse 0x10 orphan 0\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuse 1.5 orphan 0\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuse 1\t orphan 0\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuse 3\r\n"), std::nullopt);
  EXPECT_EQ(tcp(std::string_view("TCP: inuse 3\0 ", 14)), std::nullopt);
  EXPECT_EQ(tcp(std::string_view("TCP: inuse \0003 ", 14)), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuse \xff\xfe \n"), std::nullopt);
  // Leading zeros are still a number.
  EXPECT_EQ(tcp("TCP: inuse 007 orphan 0\n"), 7u);
}

TEST(ParseSockstatInuse, NumbersUpTo64Bits) {
  EXPECT_EQ(tcp("TCP: inuse 2147483647 orphan 0\n"), 2147483647u);  // the kernel's int
  EXPECT_EQ(tcp("TCP: inuse 18446744073709551615 orphan 0\n"), UINT64_MAX);
  EXPECT_EQ(tcp("TCP: inuse 18446744073709551616 orphan 0\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuse 18446744073709551620 orphan 0\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuse 99999999999999999999999999999999 orphan 0\n"), std::nullopt);
  EXPECT_EQ(tcp("TCP: inuse 000000000000000000000000000000018446744073709551615\n"), UINT64_MAX);
}

StateSet states(std::initializer_list<TcpState> list) {
  StateSet s;
  for (TcpState t : list) s = s | StateSet::of(t);
  return s;
}

TEST(InUseCounts, TheStatesOfHashedFullSockets) {
  for (TcpState t : {TcpState::kEstablished, TcpState::kSynSent, TcpState::kFinWait1, TcpState::kCloseWait,
                     TcpState::kLastAck, TcpState::kClosing, TcpState::kListen})
    EXPECT_TRUE(in_use_counts(StateSet::of(t))) << state_label(static_cast<uint8_t>(t));
  EXPECT_TRUE(in_use_counts(states({TcpState::kEstablished, TcpState::kCloseWait, TcpState::kListen})));
  EXPECT_TRUE(in_use_counts(StateSet()));  // a dump of nothing lists nothing
}

TEST(InUseCounts, NotTimeWaitSocketsRequestsOrUnhashedOnes) {
  // TIME-WAIT, and FIN-WAIT-2 as an orphan's time-wait substate; SYN-RECV
  // (asks for request sockets too); CLOSE (bound only); the request and
  // bound-inactive bits asked directly.
  for (TcpState t : {TcpState::kTimeWait, TcpState::kFinWait2, TcpState::kSynRecv, TcpState::kClose,
                     TcpState::kNewSynRecv})
    EXPECT_FALSE(in_use_counts(StateSet::of(t))) << state_label(static_cast<uint8_t>(t));
  EXPECT_FALSE(in_use_counts(StateSet(1u << 13)));  // TCP_BOUND_INACTIVE
  EXPECT_FALSE(in_use_counts(StateSet(1u << 0)));
  EXPECT_FALSE(in_use_counts(StateSet(1u << 31)));
  EXPECT_FALSE(in_use_counts(states({TcpState::kEstablished, TcpState::kTimeWait})));
  EXPECT_FALSE(in_use_counts(StateSet::all()));
  EXPECT_FALSE(in_use_counts(StateSet::connected()));
  EXPECT_FALSE(in_use_counts(StateSet::synchronized()));
}

// Two counter files in a scratch directory, as open_files() takes them.
struct CounterFiles {
  ScratchDir dir;
  std::string v4 = dir.file("sockstat", std::string(kSockstatBusy));
  std::string v6 = dir.file("sockstat6", std::string(kSockstat6Busy));
};

TEST(TcpSocketCount, ReadsBothFamilies) {
  CounterFiles files;
  auto count = TcpSocketCount::open_files(files.v4, files.v6, "net:[1]");
  ASSERT_TRUE(count.ok()) << count.error().message();
  EXPECT_TRUE(count->counts_ipv6());
  EXPECT_EQ(count->where(), "net:[1]");
  auto by_family = count->in_use_by_family();
  ASSERT_TRUE(by_family.ok()) << by_family.error().message();
  EXPECT_EQ(*by_family, (TcpInUse{200012, 2750}));
  auto total = count->in_use();
  ASSERT_TRUE(total.ok()) << total.error().message();
  EXPECT_EQ(*total, 202762u);
}

TEST(TcpSocketCount, ReadsAgainOnEveryCall) {
  CounterFiles files;
  auto count = TcpSocketCount::open_files(files.v4, files.v6, "net:[1]");
  ASSERT_TRUE(count.ok()) << count.error().message();
  // Rewritten in place (same inode, as the open descriptor sees it), shorter.
  files.dir.file("sockstat", "TCP: inuse 3 orphan 0\n");
  files.dir.file("sockstat6", "TCP6: inuse 0\n");
  auto total = count->in_use();
  ASSERT_TRUE(total.ok()) << total.error().message();
  EXPECT_EQ(*total, 3u);
  files.dir.file("sockstat", "TCP: inuse 0 orphan 0\n");
  total = count->in_use();
  ASSERT_TRUE(total.ok()) << total.error().message();
  EXPECT_EQ(*total, 0u);
}

TEST(TcpSocketCount, WithoutSockstat6CountsIpv4Only) {
  ScratchDir dir;
  const std::string v4 = dir.file("sockstat", std::string(kSockstat618));
  auto count = TcpSocketCount::open_files(v4, dir.path() + "/sockstat6", "net:[1]");
  ASSERT_TRUE(count.ok()) << count.error().message();
  EXPECT_FALSE(count->counts_ipv6());
  auto by_family = count->in_use_by_family();
  ASSERT_TRUE(by_family.ok()) << by_family.error().message();
  EXPECT_EQ(*by_family, (TcpInUse{1, 0}));
}

TEST(TcpSocketCount, OpeningFailsWithoutSockstatOrWithAnotherFormat) {
  ScratchDir dir;
  auto missing = TcpSocketCount::open_files(dir.path() + "/sockstat", dir.path() + "/sockstat6", "net:[7]");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().errnum(), ENOENT);
  EXPECT_EQ(missing.error().context(), "opening " + dir.path() + "/sockstat of network namespace net:[7]");

  const std::string v4 = dir.file("sockstat", "TCP: used 5\n");
  auto unknown = TcpSocketCount::open_files(v4, dir.path() + "/sockstat6", "net:[7]");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().errnum(), 0);
  EXPECT_EQ(unknown.error().context(),
            "reading " + v4 + " of network namespace net:[7]: no \"TCP: inuse N\" line in its 12 bytes");

  // sockstat6 present but unreadable as such fails too (it is not absent).
  dir.file("sockstat", std::string(kSockstat618));
  const std::string v6 = dir.file("sockstat6", "TCP6: inuse many\n");
  auto bad6 = TcpSocketCount::open_files(v4, v6, "net:[7]");
  ASSERT_FALSE(bad6.ok());
  EXPECT_EQ(bad6.error().context(),
            "reading " + v6 + " of network namespace net:[7]: no \"TCP6: inuse N\" line in its 17 bytes");
}

TEST(TcpSocketCount, ALongFileIsReadFromItsStartOnly) {
  ScratchDir dir;
  const std::string long_tail = std::string(kSockstat618) + std::string(4000, '#') + "\n";
  auto fine = TcpSocketCount::open_files(dir.file("a", long_tail), dir.path() + "/none", "net:[1]");
  ASSERT_TRUE(fine.ok()) << fine.error().message();
  EXPECT_EQ(*fine->in_use(), 1u);

  const std::string late = std::string(4000, '#') + "\n" + std::string(kSockstat618);
  const std::string path = dir.file("b", late);
  auto missed = TcpSocketCount::open_files(path, dir.path() + "/none", "net:[1]");
  ASSERT_FALSE(missed.ok());
  EXPECT_EQ(missed.error().context(), "reading " + path +
                                          " of network namespace net:[1]: no \"TCP: inuse N\" line in its 1024 "
                                          "bytes (the first 1024 only were read)");
}

TEST(TcpSocketCount, AReadErrorCarriesErrnoAndNamesTheFile) {
  ScratchDir dir;
  CounterFiles files;
  auto count = TcpSocketCount::open_files(files.v4, files.v6, "net:[9]");
  ASSERT_TRUE(count.ok()) << count.error().message();
  // A directory opens read-only, but pread on it fails: EISDIR.
  dir.dir("sockstat6");
  auto dir_count = TcpSocketCount::open_files(files.v4, dir.path() + "/sockstat6", "net:[9]");
  ASSERT_FALSE(dir_count.ok());
  EXPECT_EQ(dir_count.error().errnum(), EISDIR);
  EXPECT_EQ(dir_count.error().context(), "reading " + dir.path() + "/sockstat6 of network namespace net:[9]");
}

TEST(TcpSocketCount, TheTotalSaturates) {
  EXPECT_EQ((TcpInUse{UINT64_MAX, 1}).total(), UINT64_MAX);
  EXPECT_EQ((TcpInUse{UINT64_MAX - 1, 1}).total(), UINT64_MAX);
  EXPECT_EQ((TcpInUse{2, 3}).total(), 5u);
}

TEST(TcpSocketCount, MovesKeepTheFiles) {
  CounterFiles files;
  auto count = TcpSocketCount::open_files(files.v4, files.v6, "net:[1]");
  ASSERT_TRUE(count.ok()) << count.error().message();
  TcpSocketCount moved = std::move(*count);
  EXPECT_EQ(*moved.in_use(), 202762u);
  EXPECT_TRUE(moved.counts_ipv6());
}

TEST(TcpSocketCount, AReadAllocatesNothing) {
  CounterFiles files;
  auto count = TcpSocketCount::open_files(files.v4, files.v6, "net:[1]");
  ASSERT_TRUE(count.ok()) << count.error().message();
  uint64_t sum = 0;
  const uint64_t before = test::allocations();
  for (int i = 0; i < 100; ++i) {
    auto n = count->in_use();
    if (n.ok()) sum += *n;
  }
  const uint64_t after = test::allocations();
  EXPECT_EQ(after - before, 0u);
  EXPECT_EQ(sum, 100u * 202762u);

  // The canary: the counter sees this code - a failing read builds its
  // message on the heap.
  files.dir.file("sockstat", "garbage\n");
  const uint64_t canary_before = test::allocations();
  auto failed = count->in_use();
  EXPECT_GT(test::allocations(), canary_before);
  EXPECT_FALSE(failed.ok());
}

}  // namespace
}  // namespace tcpreap
