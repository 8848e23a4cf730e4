// The choice between SOCK_DESTROY and RST injection, with the two methods
// replaced by recorders. The real mechanisms: tests/integration/reap_test.cpp.

#include "reap/reaper.h"

#include <gtest/gtest.h>

#include <set>

#include "reap/socket_destroyer.h"
#include "unit/scripted_destroy_kernel.h"

namespace tcpreap {
namespace {

TcpSocket sock(uint64_t cookie) {
  TcpSocket s;
  s.cookie = cookie;
  return s;
}

// A method that answers `result(cookie)` for each socket and records calls.
struct Recorder {
  ReapVia via;
  std::function<ReapResult(uint64_t)> result;
  std::vector<std::vector<uint64_t>> calls;

  Reaper::Method method() {
    return [this](std::span<const TcpSocket> s) -> Result<std::vector<ReapOutcome>> {
      calls.emplace_back();
      std::vector<ReapOutcome> out;
      for (const auto& x : s) {
        calls.back().push_back(x.cookie);
        ReapOutcome o;
        o.via = via;
        o.result = result(x.cookie);
        out.push_back(o);
      }
      return out;
    };
  }
};

const std::vector<TcpSocket> kThree = {sock(1), sock(2), sock(3)};

TEST(Reaper, DestroyOnlyNeverInjects) {
  Recorder d{ReapVia::kDestroy, [](uint64_t c) { return c == 2 ? ReapResult::kUnsupported : ReapResult::kDone; }, {}};
  Recorder r{ReapVia::kRst, [](uint64_t) { return ReapResult::kDone; }, {}};
  Reaper reaper(ReapMethod::kDestroy, d.method(), r.method());
  auto out = reaper.reap(kThree);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].result, ReapResult::kUnsupported);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_FALSE(reaper.switched_to_rst());
  EXPECT_FALSE(reaper.take_notice());
}

TEST(Reaper, AutoSendsWhatCannotBeDestroyedToRstAndStaysThere) {
  Recorder d{ReapVia::kDestroy, [](uint64_t) { return ReapResult::kUnsupported; }, {}};
  Recorder r{ReapVia::kRst, [](uint64_t) { return ReapResult::kDone; }, {}};
  Reaper reaper(ReapMethod::kAuto, d.method(), r.method());
  auto out = reaper.reap(kThree);
  ASSERT_EQ(out.size(), 3u);
  for (const auto& o : out) {
    EXPECT_EQ(o.result, ReapResult::kDone);
    EXPECT_EQ(o.via, ReapVia::kRst);
  }
  EXPECT_EQ(r.calls, (std::vector<std::vector<uint64_t>>{{1, 2, 3}}));
  EXPECT_TRUE(reaper.switched_to_rst());
  auto notice = reaper.take_notice();
  ASSERT_TRUE(notice);
  EXPECT_NE(notice->find("RST injection from now on"), std::string::npos);
  EXPECT_FALSE(reaper.take_notice());
  // From now on straight to RST: the kernel will not learn to destroy.
  EXPECT_EQ(reaper.reap(std::vector<TcpSocket>{sock(4)}).size(), 1u);
  EXPECT_EQ(d.calls.size(), 1u);
  EXPECT_EQ(r.calls.back(), (std::vector<uint64_t>{4}));
}

TEST(Reaper, AutoKeepsWhatDestroyDecided) {
  Recorder d{ReapVia::kDestroy, [](uint64_t c) { return c == 1 ? ReapResult::kAlreadyGone : ReapResult::kDone; }, {}};
  Recorder r{ReapVia::kRst, [](uint64_t) { return ReapResult::kDone; }, {}};
  Reaper reaper(ReapMethod::kAuto, d.method(), r.method());
  auto out = reaper.reap(kThree);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].result, ReapResult::kAlreadyGone);
  EXPECT_EQ(out[0].via, ReapVia::kDestroy);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_FALSE(reaper.switched_to_rst());
}

TEST(Reaper, AutoWithoutRstReportsWhyNotAsAFailure) {
  Recorder d{ReapVia::kDestroy, [](uint64_t) { return ReapResult::kUnsupported; }, {}};
  Reaper reaper(ReapMethod::kAuto, d.method(), {}, "opening the capture socket: Operation not permitted (needs CAP_NET_RAW)");
  auto out = reaper.reap(kThree);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(d.calls, (std::vector<std::vector<uint64_t>>{{1, 2, 3}}));
  for (const auto& o : out) {
    EXPECT_EQ(o.result, ReapResult::kFailed);
    EXPECT_NE(o.detail.find("CAP_NET_RAW"), std::string::npos) << o.detail;
  }
  auto notice = reaper.take_notice();
  ASSERT_TRUE(notice);
  EXPECT_NE(notice->find("RST injection is unavailable"), std::string::npos);
}

TEST(Reaper, AFailedMechanismFailsEverySocketItHeld) {
  Reaper reaper(
      ReapMethod::kDestroy,
      [](std::span<const TcpSocket>) -> Result<std::vector<ReapOutcome>> { return Error(ENOBUFS, "netlink"); }, {});
  auto out = reaper.reap(kThree);
  ASSERT_EQ(out.size(), 3u);
  for (const auto& o : out) {
    EXPECT_EQ(o.result, ReapResult::kFailed);
    EXPECT_EQ(o.errnum, ENOBUFS);
  }
}

// `auto` on a real SocketDestroyer, on a kernel that cannot destroy, whose
// netlink socket overflows in batch 1 of 3: the EOPNOTSUPP answers read
// before the overflow and those of batches 2 and 3 still go to RST
// injection; the sockets whose answers were lost are still there, and say so.
TEST(Reaper, AutoStillFallsBackToRstAfterTransportTroubleInOneBatch) {
  testing::FakeDestroyKernel kernel;
  const std::vector<TcpSocket> sockets = testing::sockets_with_cookies(1, 600);
  kernel.add_alive(sockets);
  kernel.refuse = [](uint64_t) { return EOPNOTSUPP; };
  kernel.overflows[0] = {3, false};  // 30 answers of batch 1 read, the rest lost
  auto destroyer = SocketDestroyer::open(kernel.opener(), std::make_unique<testing::FakeLookup>(kernel));
  ASSERT_TRUE(destroyer.ok());
  auto shared = std::make_shared<SocketDestroyer>(std::move(*destroyer));
  Recorder r{ReapVia::kRst, [](uint64_t) { return ReapResult::kDone; }, {}};
  Reaper reaper(ReapMethod::kAuto, [shared](std::span<const TcpSocket> s) { return shared->destroy(s); },
                r.method());

  auto out = reaper.reap(sockets);
  ASSERT_EQ(out.size(), sockets.size());
  // Which answers were read: batches of 256, so batch 1 is sockets 0-255,
  // and of its answers the first 30 (3 datagrams); then all of batches 2
  // and 3 (sockets 256-599).
  std::set<uint64_t> answered, lost;
  for (size_t i = 0; i < sockets.size(); ++i) (i < 30 || i >= 256 ? answered : lost).insert(sockets[i].cookie);
  ASSERT_EQ(kernel.answer_read, answered);
  ASSERT_EQ(lost.size(), 256u - 30u);
  // Every answered socket, and only those, went to RST injection, in one call.
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(std::set<uint64_t>(r.calls[0].begin(), r.calls[0].end()), answered);
  EXPECT_EQ(r.calls[0].size(), 30u + 256u + 88u);
  for (size_t i = 0; i < sockets.size(); ++i) {
    if (lost.contains(sockets[i].cookie)) {
      EXPECT_EQ(out[i].result, ReapResult::kFailed) << i;
      EXPECT_EQ(out[i].via, ReapVia::kDestroy) << i;
      EXPECT_NE(out[i].detail.find("still holds"), std::string::npos) << out[i].detail;
    } else {
      EXPECT_EQ(out[i].result, ReapResult::kDone) << i << ": " << out[i].detail;
      EXPECT_EQ(out[i].via, ReapVia::kRst) << i;
    }
  }
  EXPECT_TRUE(reaper.switched_to_rst());
  EXPECT_TRUE(reaper.take_notice());
}

TEST(Reaper, NothingToReapCallsNothing) {
  Recorder d{ReapVia::kDestroy, [](uint64_t) { return ReapResult::kDone; }, {}};
  Reaper reaper(ReapMethod::kAuto, d.method(), {});
  EXPECT_TRUE(reaper.reap({}).empty());
  EXPECT_TRUE(d.calls.empty());
}

}  // namespace
}  // namespace tcpreap
