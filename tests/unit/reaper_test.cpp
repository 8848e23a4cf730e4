// The choice between SOCK_DESTROY and RST injection, with the two methods
// replaced by recorders. The real mechanisms: tests/integration/reap_test.cpp.

#include "reap/reaper.h"

#include <gtest/gtest.h>

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
  reaper.reap(std::vector<TcpSocket>{sock(4)});
  EXPECT_EQ(d.calls.size(), 1u);
  EXPECT_EQ(r.calls.back(), (std::vector<uint64_t>{4}));
}

TEST(Reaper, AutoKeepsWhatDestroyDecided) {
  Recorder d{ReapVia::kDestroy, [](uint64_t c) { return c == 1 ? ReapResult::kAlreadyGone : ReapResult::kDone; }, {}};
  Recorder r{ReapVia::kRst, [](uint64_t) { return ReapResult::kDone; }, {}};
  Reaper reaper(ReapMethod::kAuto, d.method(), r.method());
  auto out = reaper.reap(kThree);
  EXPECT_EQ(out[0].result, ReapResult::kAlreadyGone);
  EXPECT_EQ(out[0].via, ReapVia::kDestroy);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_FALSE(reaper.switched_to_rst());
}

TEST(Reaper, AutoWithoutRstReportsWhyNotAsAFailure) {
  Recorder d{ReapVia::kDestroy, [](uint64_t) { return ReapResult::kUnsupported; }, {}};
  Reaper reaper(ReapMethod::kAuto, d.method(), {}, "opening the capture socket: Operation not permitted (needs CAP_NET_RAW)");
  auto out = reaper.reap(kThree);
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

TEST(Reaper, NothingToReapCallsNothing) {
  Recorder d{ReapVia::kDestroy, [](uint64_t) { return ReapResult::kDone; }, {}};
  Reaper reaper(ReapMethod::kAuto, d.method(), {});
  EXPECT_TRUE(reaper.reap({}).empty());
  EXPECT_TRUE(d.calls.empty());
}

}  // namespace
}  // namespace tcpreap
