#include "cycle/turn_schedule.h"

#include <gtest/gtest.h>

#include <random>

namespace tcpreap {
namespace {

using namespace std::chrono_literals;
using Time = TurnClock::time_point;

const Time T = Time() + 24h;  // the last turn's start

// The next turn's start, as the time from T (readable in failures).
std::chrono::milliseconds next_after_t(const Config& c, Time now, std::optional<Time> due) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(next_turn(c, T, now, due) - T);
}

Config config(Duration scan, std::vector<std::optional<Duration>> verify_intervals = {}) {
  Config c;
  c.scan_interval = scan;
  for (size_t i = 0; i < verify_intervals.size(); ++i) {
    Policy p;
    p.name = "p" + std::to_string(i);
    if (verify_intervals[i]) p.verify = Verify{3, *verify_intervals[i]};
    c.policies.push_back(p);
  }
  return c;
}

TEST(TurnSchedule, TheFloorIsTheShortestIntervalTurnsServe) {
  EXPECT_EQ(min_turn_gap(config(10s)), 10s);
  EXPECT_EQ(min_turn_gap(config(10s, {std::nullopt, 7s, 3s})), 3s);
  EXPECT_EQ(min_turn_gap(config(500ms, {1s})), 500ms);
  EXPECT_EQ(min_turn_gap(config(0ms, {std::nullopt})), kMinTurnGap) << "a hand-built config of zeros";
  Config zero = config(10s, {0s});
  EXPECT_EQ(min_turn_gap(zero), kMinTurnGap);
}

TEST(TurnSchedule, OneIntervalAfterTheLastStart) {
  const Config c = config(10s, {5s});
  EXPECT_EQ(next_after_t(c, T + 30ms, std::nullopt), 10s);
  EXPECT_EQ(next_after_t(c, T + 30ms, T + 7s), 7s) << "a probe due sooner";
  EXPECT_EQ(next_after_t(c, T + 30ms, T + 25s), 10s) << "a probe due later waits for the regular turn";
}

TEST(TurnSchedule, ALongTurnIsFollowedAtOnceNeverByABacklog) {
  const Config c = config(1s);
  EXPECT_EQ(next_after_t(c, T + 3500ms, std::nullopt), 3500ms);
  EXPECT_EQ(next_after_t(c, T + 3500ms, T + 2s), 3500ms);
}

// Whatever the engine says is due, the next turn keeps the floor.
TEST(TurnSchedule, NothingDueMakesATurnComeSoonerThanTheFloor) {
  const Config c = config(10s, {2s});  // floor 2 s
  struct Case {
    const char* name;
    Time now;
    std::optional<Time> due;
  };
  const Case cases[] = {
      {"due at the last turn's start (a probe never reported)", T + 20ms, T},
      {"due long ago", T + 20ms, T - 1h},
      {"due at the epoch of the clock", T + 20ms, Time()},
      {"due now", T + 20ms, T + 20ms},
      {"due a hair after now", T + 20ms, T + 21ms},
      {"every clock value equal", T, T},
      {"now before the last start", T - 5s, T - 5s},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    EXPECT_EQ(next_after_t(c, k.now, k.due), 2s);
  }
  EXPECT_EQ(next_after_t(c, T + 2500ms, T - 1h), 2500ms) << "past the floor already: at once";
}

TEST(TurnSchedule, AnyInputsKeepTheFloorAndTheInterval) {
  std::mt19937_64 rng(12);
  auto ms = [&](int64_t lo, int64_t hi) {
    return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(lo, hi)(rng));
  };
  for (int i = 0; i < 100'000; ++i) {
    const Config c = config(ms(0, 20'000), {ms(0, 20'000), std::nullopt});
    const Duration floor = min_turn_gap(c);
    const Time now = T + ms(-1'000, 60'000);
    std::optional<Time> due;
    if (i % 4 != 0) due = T + ms(-3'600'000, 3'600'000);
    const Time next = next_turn(c, T, now, due);
    ASSERT_GE(next, T + floor) << "case " << i;
    ASSERT_GE(next, now) << "case " << i;
    ASSERT_LE(next, std::max({now, T + floor, T + c.scan_interval})) << "case " << i;
  }
}

// The daemon's loop: each turn starts when the last said. However often
// something is due, the turns of a span are at most span / floor + 1.
TEST(TurnSchedule, AlwaysDueMeansOneTurnPerFloor) {
  const Config c = config(10s, {1s});
  Time start = T;
  int turns = 1;
  while (start < T + 60s) {
    const Time end = start + 3ms;  // the turn's work
    start = next_turn(c, start, end, start);  // due at its own start, every time
    ++turns;
  }
  EXPECT_LE(turns, 60 / 1 + 2);
}

}  // namespace
}  // namespace tcpreap
