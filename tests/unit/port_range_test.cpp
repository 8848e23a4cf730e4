#include "net/port_range.h"

#include <gtest/gtest.h>

namespace tcpreap {
namespace {

TEST(PortRange, ParsesPortsRangesAndLists) {
  EXPECT_EQ(*PortRange::parse("2181"), (PortRange{2181, 2181}));
  EXPECT_EQ(*PortRange::parse("30000-32767"), (PortRange{30000, 32767}));
  EXPECT_EQ(*PortRange::parse("0-65535"), (PortRange{0, 65535}));
  EXPECT_TRUE(PortRange::parse("0-65535")->is_any());
  auto list = PortRange::parse_list("80,443,8000-8100");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[2], (PortRange{8000, 8100}));
  for (const char* bad : {"", "65536", "-1", "80-", "-80", "a", "80,", "1-2-3", " 80"})
    EXPECT_FALSE(PortRange::parse_list(bad).ok()) << bad;
  EXPECT_EQ(PortRange::parse("9-8").error().message(), "'9-8': the range's first port is above its last");
  EXPECT_EQ(PortRange::parse("70000").error().message(),
            "'70000' is not a port or port range (0-65535, e.g. 2181 or 30000-32767)");
}

}  // namespace
}  // namespace tcpreap
