// `tcpreap list`'s table: rows that line up under the header, "-" where
// tcp_info is missing, and durations that read like a person.

#include "report/socket_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "unit/decoded_socket.h"

namespace tcpreap {
namespace {

using testing::decoded_socket;

TEST(SocketTable, RowsLineUpUnderTheHeader) {
  std::string out;
  append_table_header(out);
  append_table_row(decoded_socket(AF_INET, "10.0.0.1", "10.0.0.2", true), out);
  append_table_row(decoded_socket(AF_INET6, "fd00::1", "fd00::2", false), out);
  EXPECT_EQ(out,
            "State      Local                   Remote                  LastRecv Unacked Retrans Backoff Probes"
            "      RTO  Recv-Q  Send-Q\n"
            "ESTAB      10.0.0.1:2181           10.0.0.2:40000             44.0s       5       3       4      2"
            "     3.2s       7       9\n"
            "ESTAB      [fd00::1]:2181          [fd00::2]:40000                -       -       -       -      -"
            "        -       7       9\n");
}

TEST(SocketTable, ANamespaceColumnFirstFitsTheLongestName) {
  const std::vector<NamespaceInfo> namespaces = {
      {NetnsId{1, 4026531840, {}}, "host", {}, true},
      {NetnsId{1, 4026532174, {}}, "cni-0123456789", {}, false},
  };
  const size_t width = netns_column_width(namespaces);
  EXPECT_EQ(width, 15u);  // the longest name and a space
  std::string out;
  append_table_header(out, width);
  append_netns_cell(namespaces[0], width, out);
  append_table_row(decoded_socket(AF_INET, "10.0.0.1", "10.0.0.2", true), out);
  append_netns_cell(namespaces[1], width, out);
  append_table_row(decoded_socket(AF_INET, "10.0.0.1", "10.0.0.2", true), out);
  EXPECT_EQ(out,
            "Netns          State      Local                   Remote                  LastRecv Unacked Retrans Backoff"
            " Probes      RTO  Recv-Q  Send-Q\n"
            "host           ESTAB      10.0.0.1:2181           10.0.0.2:40000             44.0s       5       3       4"
            "      2     3.2s       7       9\n"
            "cni-0123456789 ESTAB      10.0.0.1:2181           10.0.0.2:40000             44.0s       5       3       4"
            "      2     3.2s       7       9\n");
}

TEST(SocketTable, TheNamespaceColumnIsAtLeastItsHeaderAndShowsNoControlCharacter) {
  const std::vector<NamespaceInfo> short_names = {{NetnsId{1, 7, {}}, "a", {}, false}};
  EXPECT_EQ(netns_column_width(short_names), 6u);  // "Netns "
  EXPECT_EQ(netns_column_width({}), 6u);
  std::string out;
  append_netns_cell(NamespaceInfo{NetnsId{1, 7, {}}, "evil\nname\x1b", {}, false}, 6, out);
  EXPECT_EQ(out, "evil?name? ");  // longer than the width: one space still
}

TEST(SocketTable, DurationsReadLikeAPerson) {
  auto d = [](uint32_t ms) {
    std::string s;
    append_duration_ms(ms, s);
    return s;
  };
  EXPECT_EQ(d(0), "0ms");
  EXPECT_EQ(d(999), "999ms");
  EXPECT_EQ(d(1000), "1.0s");
  EXPECT_EQ(d(59'999), "59.9s");
  EXPECT_EQ(d(60'000), "1m00s");
  EXPECT_EQ(d(3'599'999), "59m59s");
  EXPECT_EQ(d(3'600'000), "1h00m");
  EXPECT_EQ(d(4'294'967'295u), "1193h02m");
}

}  // namespace
}  // namespace tcpreap
