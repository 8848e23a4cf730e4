// The scan path allocates nothing per socket: a scan of 20 000 sockets makes
// exactly as many heap allocations as a scan of 20. Counted with a global
// operator new in this test binary only; a canary sink that allocates per
// socket proves the count sees the scan path.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "diag/socket_scanner.h"
#include "unit/netlink_builder.h"

#include "unit/allocation_counter.h"

using tcpreap::test::g_allocations;

namespace tcpreap {
namespace {

// Replays datagrams prepared before the scan, stamping the request's
// sequence number into them as they go out: no allocation of its own.
class ReplayTransport final : public NetlinkTransport {
 public:
  explicit ReplayTransport(std::vector<std::vector<uint8_t>> v4, std::vector<std::vector<uint8_t>> v6)
      : replies_{std::move(v4), std::move(v6)} {}
  uint32_t portid() const override { return 1; }
  Status send(std::span<const uint8_t> m) override {
    nlmsghdr h;
    std::memcpy(&h, m.data(), sizeof h);
    inet_diag_req_v2 req;
    std::memcpy(&req, m.data() + NLMSG_HDRLEN, sizeof req);
    current_ = req.sdiag_family == AF_INET ? 0 : 1;
    seq_ = h.nlmsg_seq;
    next_ = 0;
    return Ok{};
  }
  Result<size_t> receive(std::span<uint8_t> buf) override {
    auto& d = replies_[current_][next_++];
    // Every message of the datagram carries the dump's sequence number.
    for (size_t off = 0; off + NLMSG_HDRLEN <= d.size();) {
      nlmsghdr h;
      std::memcpy(&h, d.data() + off, sizeof h);
      h.nlmsg_seq = seq_;
      std::memcpy(d.data() + off, &h, sizeof h);
      off += NLMSG_ALIGN(h.nlmsg_len);
    }
    std::memcpy(buf.data(), d.data(), d.size());
    return d.size();
  }

 private:
  std::vector<std::vector<uint8_t>> replies_[2];
  int current_ = 0;
  size_t next_ = 0;
  uint32_t seq_ = 0;
};

// `n` sockets of `family` in datagrams of at most 60 messages, then DONE.
std::vector<std::vector<uint8_t>> dump_of(int family, int n) {
  const tcp_info ti = testing::sample_tcp_info();
  const bool v4 = family == AF_INET;
  std::vector<std::vector<uint8_t>> out(1);
  for (int i = 0; i < n; ++i) {
    if (i % 60 == 59) out.emplace_back();
    testing::put_message(out.back(), SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, 0, 1,
                         testing::socket_payload(testing::diag_msg(family, 1, v4 ? "10.0.0.1" : "fd00::1", 80,
                                                                   v4 ? "10.0.0.2" : "fd00::2",
                                                                   static_cast<uint16_t>(i)),
                                                 &ti));
  }
  testing::put_message(out.back(), NLMSG_DONE, NLM_F_MULTI, 0, 1, testing::int_payload(0));
  return out;
}

struct CountSink : SocketSink {
  uint64_t n = 0;
  void on_socket(const TcpSocket& s) override { n += s.info ? 1 : 0; }
};

// The canary: a sink that keeps a heap copy of every socket, allocating on
// the scan path exactly as a per-socket allocation in the scanner would.
struct CopyingSink : CountSink {
  std::vector<std::unique_ptr<TcpSocket>> copies;
  void on_socket(const TcpSocket& s) override {
    CountSink::on_socket(s);
    copies.push_back(std::make_unique<TcpSocket>(s));
  }
};

// Allocations made by one scan (the second, so that one-time growth of the
// scanner's own buffers is not counted) of `n` sockets per family, streamed
// to `sink`.
uint64_t allocations_per_scan(int n, CountSink& sink) {
  auto scanner = SocketScanner::open([n]() -> Result<std::unique_ptr<NetlinkTransport>> {
    return std::unique_ptr<NetlinkTransport>(
        std::make_unique<ReplayTransport>(dump_of(AF_INET, n), dump_of(AF_INET6, n)));
  });
  EXPECT_TRUE(scanner.ok());
  auto query = ScanQuery::compile(SocketFilter{});
  CountSink warm;
  EXPECT_TRUE(scanner->scan(*query, warm).ok());
  const uint64_t before = g_allocations.load();
  auto stats = scanner->scan(*query, sink);
  const uint64_t after = g_allocations.load();
  EXPECT_TRUE(stats.ok());
  EXPECT_EQ(sink.n, 2u * static_cast<uint64_t>(n));
  return after - before;
}

TEST(ScanAllocation, DoesNotGrowWithTheNumberOfSockets) {
  CountSink few_sink, many_sink;
  const uint64_t few = allocations_per_scan(10, few_sink);
  const uint64_t many = allocations_per_scan(10'000, many_sink);
  EXPECT_EQ(many, few) << few << " allocations scanning 20 sockets, " << many << " scanning 20 000";
  EXPECT_EQ(few, 0u) << "a steady-state scan allocates nothing at all";
}

// The same measurement sees an allocation per socket made inside the counted
// scan: the zeros above are counts, not a counter that never counts.
TEST(ScanAllocation, CanarySeesAnAllocationPerSocket) {
  CopyingSink few_sink, many_sink;
  const uint64_t few = allocations_per_scan(10, few_sink);
  const uint64_t many = allocations_per_scan(10'000, many_sink);
  EXPECT_GE(few, 20u) << "one copy per socket, 20 sockets";
  EXPECT_GE(many, 20'000u) << "one copy per socket, 20 000 sockets";
  EXPECT_GT(many, few);
}

}  // namespace
}  // namespace tcpreap
