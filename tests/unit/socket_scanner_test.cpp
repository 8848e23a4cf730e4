// The scan loop against a scripted transport: what a namespace cannot make
// the kernel do on demand (NLM_F_DUMP_INTR, a reply cut off mid-dump), and
// which requests are sent when the namespace's counters find a family empty.

#include "diag/socket_scanner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <functional>

#include "netns/dump_families.h"
#include "unit/counter_files.h"
#include "unit/netlink_builder.h"
#include "unit/scratch_dir.h"

namespace tcpreap {
namespace {

using testing::diag_msg;
using testing::int_payload;
using testing::put_message;
using testing::socket_payload;

constexpr uint32_t kPid = 999;

// Answers each request with datagrams made by `reply(family, seq)`.
struct Script {
  std::function<std::vector<std::vector<uint8_t>>(int family, uint32_t seq)> reply;
  std::vector<inet_diag_req_v2> requests;
  int opened = 0;
};

class ScriptedTransport final : public NetlinkTransport {
 public:
  explicit ScriptedTransport(Script& s) : script_(s) {}
  uint32_t portid() const override { return kPid; }
  Status send(std::span<const uint8_t> m) override {
    nlmsghdr h;
    std::memcpy(&h, m.data(), sizeof h);
    EXPECT_EQ(h.nlmsg_type, SOCK_DIAG_BY_FAMILY);
    EXPECT_EQ(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
    EXPECT_EQ(h.nlmsg_len, m.size());
    inet_diag_req_v2 req;
    std::memcpy(&req, m.data() + NLMSG_HDRLEN, sizeof req);
    script_.requests.push_back(req);
    for (auto& d : script_.reply(req.sdiag_family, h.nlmsg_seq)) pending_.push_back(std::move(d));
    return Ok{};
  }
  Result<size_t> receive(std::span<uint8_t> buf) override {
    if (pending_.empty()) return Error(ETIMEDOUT, "scripted transport has nothing more to say");
    auto d = std::move(pending_.front());
    pending_.pop_front();
    EXPECT_LE(d.size(), buf.size());
    std::memcpy(buf.data(), d.data(), d.size());
    return d.size();
  }

 private:
  Script& script_;
  std::deque<std::vector<uint8_t>> pending_;
};

SocketScanner open_scripted(Script& s) {
  auto r = SocketScanner::open([&s]() -> Result<std::unique_ptr<NetlinkTransport>> {
    ++s.opened;
    return std::unique_ptr<NetlinkTransport>(std::make_unique<ScriptedTransport>(s));
  });
  EXPECT_TRUE(r.ok());
  return std::move(*r);
}

struct RecordingSink : SocketSink {
  std::vector<uint16_t> ports;
  int restarts = 0;
  void on_socket(const TcpSocket& s) override { ports.push_back(s.remote_port); }
  void on_restart() override {
    ++restarts;
    ports.clear();
  }
};

// One datagram per family: a socket with remote port `base + family`, DONE.
std::vector<std::vector<uint8_t>> one_socket(int family, uint32_t seq, uint16_t flags = 0) {
  std::vector<uint8_t> d;
  const bool v4 = family == AF_INET;
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI | flags, seq, kPid,
              socket_payload(diag_msg(family, 1, v4 ? "127.0.0.1" : "::1", 80, v4 ? "127.0.0.1" : "::1",
                                      static_cast<uint16_t>(1000 + family))));
  put_message(d, NLMSG_DONE, NLM_F_MULTI | flags, seq, kPid, int_payload(0));
  return {d};
}

ScanQuery query_for(SocketFilter f) {
  auto q = ScanQuery::compile(f);
  EXPECT_TRUE(q.ok());
  return std::move(*q);
}

TEST(SocketScanner, DumpsIPv4ThenIPv6WithTheRequestedStatesAndTcpInfo) {
  Script s{[](int fam, uint32_t seq) { return one_socket(fam, seq); }, {}, 0};
  auto scanner = open_scripted(s);
  SocketFilter f;
  f.states = StateSet::of(TcpState::kEstablished) | StateSet::of(TcpState::kSynRecv);
  RecordingSink sink;
  auto stats = scanner.scan(query_for(f), sink);
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  EXPECT_EQ(stats->sockets, 2u);
  EXPECT_EQ(stats->restarts, 0u);
  EXPECT_THAT(sink.ports, ::testing::ElementsAre(1000 + AF_INET, 1000 + AF_INET6));
  ASSERT_EQ(s.requests.size(), 2u);
  EXPECT_EQ(s.requests[0].sdiag_family, AF_INET);
  EXPECT_EQ(s.requests[1].sdiag_family, AF_INET6);
  for (const auto& r : s.requests) {
    EXPECT_EQ(r.sdiag_protocol, IPPROTO_TCP);
    // SYN-RECV also asks for request sockets (TCP_NEW_SYN_RECV = 12).
    EXPECT_EQ(r.idiag_states, (1u << 1) | (1u << 3) | (1u << 12));
    EXPECT_EQ(r.idiag_ext, 1u << (INET_DIAG_INFO - 1));
  }
}

TEST(SocketScanner, OneFamilyIsOneDump) {
  Script s{[](int fam, uint32_t seq) { return one_socket(fam, seq); }, {}, 0};
  auto scanner = open_scripted(s);
  SocketFilter f;
  f.ipv4 = false;
  RecordingSink sink;
  ASSERT_TRUE(scanner.scan(query_for(f), sink).ok());
  ASSERT_EQ(s.requests.size(), 1u);
  EXPECT_EQ(s.requests[0].sdiag_family, AF_INET6);
}

TEST(SocketScanner, AnInterruptedDumpRestartsTheScan) {
  int answers = 0;
  Script s{[&](int fam, uint32_t seq) {
             // The first IPv6 dump is inconsistent; everything after is fine.
             return one_socket(fam, seq, fam == AF_INET6 && answers++ == 0 ? NLM_F_DUMP_INTR : 0);
           },
           {},
           0};
  auto scanner = open_scripted(s);
  RecordingSink sink;
  auto stats = scanner.scan(query_for(SocketFilter{}), sink);
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  EXPECT_EQ(stats->restarts, 1u);
  EXPECT_EQ(sink.restarts, 1);
  EXPECT_EQ(stats->sockets, 2u);
  EXPECT_THAT(sink.ports, ::testing::ElementsAre(1000 + AF_INET, 1000 + AF_INET6));
  EXPECT_EQ(s.requests.size(), 4u);  // v4, v6 (interrupted), v4, v6
  EXPECT_EQ(s.opened, 1);            // the same socket: the interrupted reply was read to its end
}

TEST(SocketScanner, GivesUpWhenEveryDumpIsInterrupted) {
  Script s{[](int fam, uint32_t seq) { return one_socket(fam, seq, NLM_F_DUMP_INTR); }, {}, 0};
  auto scanner = open_scripted(s);
  RecordingSink sink;
  auto stats = scanner.scan(query_for(SocketFilter{}), sink);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().errnum(), EAGAIN);
  EXPECT_EQ(sink.restarts, SocketScanner::kMaxPasses);
  EXPECT_TRUE(sink.ports.empty());
}

TEST(SocketScanner, AFailedDumpNamesTheFamilyAndReplacesTheSocket) {
  int calls = 0;
  Script s{[&](int fam, uint32_t seq) -> std::vector<std::vector<uint8_t>> {
             if (calls++ == 0) {  // the first reply stops short: a datagram, then silence
               auto d = one_socket(fam, seq);
               d[0].resize(d[0].size() - 20);  // drop DONE
               return d;
             }
             return one_socket(fam, seq);
           },
           {},
           0};
  auto scanner = open_scripted(s);
  RecordingSink sink;
  auto failed = scanner.scan(query_for(SocketFilter{}), sink);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message(),
            "dumping IPv4 TCP sockets: scripted transport has nothing more to say: Connection timed out");
  EXPECT_EQ(s.opened, 1);
  RecordingSink again;
  auto stats = scanner.scan(query_for(SocketFilter{}), again);
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  EXPECT_EQ(s.opened, 2);  // a fresh socket: the old one had half a reply in it
  EXPECT_EQ(stats->sockets, 2u);
}

TEST(SocketScanner, AReplyToAnEarlierRequestIsAnError) {
  Script s{[](int fam, uint32_t seq) { return one_socket(fam, seq - 1); }, {}, 0};
  auto scanner = open_scripted(s);
  RecordingSink sink;
  auto stats = scanner.scan(query_for(SocketFilter{}), sink);
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.error().message().find("has sequence number"), std::string::npos) << stats.error().message();
}

TEST(SocketScanner, NoStatesMeansNoDump) {
  Script s{[](int fam, uint32_t seq) { return one_socket(fam, seq); }, {}, 0};
  auto scanner = open_scripted(s);
  SocketFilter f;
  f.states = StateSet();
  RecordingSink sink;
  auto stats = scanner.scan(query_for(f), sink);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->sockets, 0u);
  EXPECT_TRUE(s.requests.empty());
}

// The skip end to end: a FamilyDumpGate on counter files (the daemon's and
// tcpreap list's read /proc's) decides, the scanner sends a request for
// each family it lets through and none for the others.
using CountedNamespace = testing::GateOnFiles;

std::vector<int> requested_families(const Script& s) {
  std::vector<int> out;
  for (const auto& r : s.requests) out.push_back(r.sdiag_family);
  return out;
}

TEST(SocketScanner, AFamilyTheCountersFindEmptyIsNotRequested) {
  CountedNamespace ns;
  Script s{[](int fam, uint32_t seq) { return one_socket(fam, seq); }, {}, 0};
  auto scanner = open_scripted(s);
  SocketFilter f;
  f.states = StateSet::of(TcpState::kEstablished);
  const ScanQuery query = query_for(f);

  ns.set(3, 0);  // IPv4 sockets only
  RecordingSink v4_sink;
  auto v4 = scanner.scan(query, v4_sink, ns.gate.families_to_dump(f.states));
  ASSERT_TRUE(v4.ok()) << v4.error().message();
  EXPECT_THAT(requested_families(s), ::testing::ElementsAre(AF_INET));
  EXPECT_EQ(v4->dumps, 1u);
  EXPECT_EQ(v4->skipped, (DumpFamilies{false, true}));
  EXPECT_THAT(v4_sink.ports, ::testing::ElementsAre(1000 + AF_INET));

  s.requests.clear();
  ns.set(0, 3);  // IPv6 sockets only
  RecordingSink v6_sink;
  auto v6 = scanner.scan(query, v6_sink, ns.gate.families_to_dump(f.states));
  ASSERT_TRUE(v6.ok()) << v6.error().message();
  EXPECT_THAT(requested_families(s), ::testing::ElementsAre(AF_INET6));
  EXPECT_EQ(v6->dumps, 1u);
  EXPECT_EQ(v6->skipped, (DumpFamilies{true, false}));
  EXPECT_THAT(v6_sink.ports, ::testing::ElementsAre(1000 + AF_INET6));

  s.requests.clear();
  ns.set(0, 0);  // nothing: no request at all
  RecordingSink none_sink;
  auto none = scanner.scan(query, none_sink, ns.gate.families_to_dump(f.states));
  ASSERT_TRUE(none.ok()) << none.error().message();
  EXPECT_TRUE(s.requests.empty());
  EXPECT_EQ(none->dumps, 0u);
  EXPECT_EQ(none->skipped, DumpFamilies::both());

  ns.set(2, 2);
  RecordingSink both_sink;
  auto both = scanner.scan(query, both_sink, ns.gate.families_to_dump(f.states));
  ASSERT_TRUE(both.ok()) << both.error().message();
  EXPECT_THAT(requested_families(s), ::testing::ElementsAre(AF_INET, AF_INET6));
  EXPECT_EQ(both->dumps, 2u);
  EXPECT_EQ(both->skipped, DumpFamilies::none());
}

TEST(SocketScanner, AskingForTimeWaitRequestsBothFamiliesAtZero) {
  CountedNamespace ns;  // both families at 0 - but TIME-WAIT is not counted
  Script s{[](int fam, uint32_t seq) { return one_socket(fam, seq); }, {}, 0};
  auto scanner = open_scripted(s);
  SocketFilter f;
  f.states = StateSet::of(TcpState::kEstablished) | StateSet::of(TcpState::kTimeWait);
  RecordingSink sink;
  auto stats = scanner.scan(query_for(f), sink, ns.gate.families_to_dump(f.states));
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  EXPECT_THAT(requested_families(s), ::testing::ElementsAre(AF_INET, AF_INET6));
  EXPECT_EQ(stats->dumps, 2u);
  EXPECT_EQ(stats->skipped, DumpFamilies::none());
}

TEST(SocketScanner, OnlyTheQuerysFamiliesCountAsSkipped) {
  Script s{[](int fam, uint32_t seq) { return one_socket(fam, seq); }, {}, 0};
  auto scanner = open_scripted(s);
  SocketFilter f;
  f.ipv6 = false;  // the query never asks for IPv6
  RecordingSink sink;
  auto stats = scanner.scan(query_for(f), sink, DumpFamilies{true, false});
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  EXPECT_THAT(requested_families(s), ::testing::ElementsAre(AF_INET));
  EXPECT_EQ(stats->skipped, DumpFamilies::none());
}

TEST(SocketScanner, ARestartDumpsTheSameFamiliesAgain) {
  int answers = 0;
  Script s{[&](int fam, uint32_t seq) { return one_socket(fam, seq, answers++ == 0 ? NLM_F_DUMP_INTR : 0); },
           {},
           0};
  auto scanner = open_scripted(s);
  RecordingSink sink;
  auto stats = scanner.scan(query_for(SocketFilter{}), sink, DumpFamilies{false, true});
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  EXPECT_THAT(requested_families(s), ::testing::ElementsAre(AF_INET6, AF_INET6));
  EXPECT_EQ(stats->dumps, 2u);
  EXPECT_EQ(stats->restarts, 1u);
  EXPECT_THAT(sink.ports, ::testing::ElementsAre(1000 + AF_INET6));
}

}  // namespace
}  // namespace tcpreap
