#include "config/duration.h"

#include <gtest/gtest.h>

#include <utility>

namespace tcpreap {
namespace {

using namespace std::chrono_literals;

TEST(Duration, ParsesUnitsAndCompounds) {
  const std::pair<const char*, Duration> kGood[] = {
      {"500ms", 500ms},
      {"30s", 30s},
      {"5m", 5min},
      {"1h", 1h},
      {"1d", 24h},
      {"1h30m", 90min},
      {"2m30s", 150s},
      {"1s500ms", 1500ms},
      {"1d12h", 36h},
      {"90m", 90min},
      {"0s", 0ms},
      {"0ms", 0ms},
      {"007s", 7s},
      {"1d2h3m4s5ms", 24h + 2h + 3min + 4s + 5ms},
      {"106751991167d", Duration(106751991167LL * 86400000LL)},
  };
  for (const auto& [text, want] : kGood) {
    auto d = parse_duration(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.error().message();
    EXPECT_EQ(*d, want) << text;
  }
}

TEST(Duration, RejectsWithAReason) {
  const std::pair<const char*, const char*> kBad[] = {
      {"30", "'30' has no unit; say the unit: 30s"},
      {"", "an empty string is not a duration (e.g. 500ms, 30s, 5m, 1h30m)"},
      {"-5s", "'-5s' is negative; a duration is 0 or more"},
      {"+5s", "'+5s' is not a duration: drop the '+'"},
      {"5x", "'5x' has an unknown unit 'x' (use d, h, m, s or ms)"},
      {"5S", "'5S' has an unknown unit 'S' (use d, h, m, s or ms)"},
      {"5sec", "'5sec' has an unknown unit 'sec' (use d, h, m, s or ms)"},
      {"1.5s", "'1.5s' is not a duration: use whole numbers (e.g. 1s500ms)"},
      {"30s5m", "'30s5m' is not a duration: write the units from the largest to the smallest, each once (e.g. 1h30m)"},
      {"1h1h", "'1h1h' is not a duration: write the units from the largest to the smallest, each once (e.g. 1h30m)"},
      {"1h30", "'1h30' ends in a number without a unit"},
      {"ms", "'ms' is not a duration (e.g. 500ms, 30s, 5m, 1h30m)"},
      {"1h 30m", "'1h 30m' is not a duration (e.g. 500ms, 30s, 5m, 1h30m)"},
      {" 30s", "' 30s' is not a duration (e.g. 500ms, 30s, 5m, 1h30m)"},
      {"99999999999999999999s", "'99999999999999999999s' is too long a duration"},
      {"106751991168d", "'106751991168d' is too long a duration"},
      {"106751991167d16h", "'106751991167d16h' is too long a duration"},
  };
  for (const auto& [text, message] : kBad) {
    auto d = parse_duration(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_EQ(d.error().message(), message) << text;
  }
}

TEST(Duration, FormatsTheShortestExactForm) {
  const std::pair<Duration, const char*> kForms[] = {
      {0ms, "0s"},      {500ms, "500ms"},
      {2min, "2m"},     {90min, "1h30m"},
      {150s, "2m30s"},  {1500ms, "1s500ms"},
      {24h, "1d"},      {36h, "1d12h"},
      {-90s, "-1m30s"}, {Duration::min(), "-106751991167d7h12m55s808ms"},
  };
  for (const auto& [d, text] : kForms) EXPECT_EQ(format_duration(d), text);
  // What it writes, the parser reads back.
  for (Duration d : {Duration(1ms), Duration(61s), Duration(25h + 1ms), Duration::max()})
    EXPECT_EQ(*parse_duration(format_duration(d)), d);
}

}  // namespace
}  // namespace tcpreap
