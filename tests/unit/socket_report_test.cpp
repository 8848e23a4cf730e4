#include <gtest/gtest.h>

#include "diag/inet_diag_decoder.h"
#include "report/socket_json.h"
#include "report/socket_table.h"
#include "unit/netlink_builder.h"

namespace tcpreap {
namespace {

TcpSocket sample(int family, const char* local, const char* remote, bool with_info) {
  const tcp_info ti = testing::sample_tcp_info();
  auto b = testing::socket_payload(testing::diag_msg(family, 1, local, 2181, remote, 40000, 42),
                                   with_info ? &ti : nullptr);
  return *decode_inet_diag({b.data(), b.size()});
}

TEST(SocketJson, OneObjectWithEveryFieldNamedWithItsUnit) {
  std::string out;
  append_json_line(sample(AF_INET, "10.0.0.1", "10.0.0.2", true), out);
  EXPECT_EQ(out,
            "{\"family\":\"ipv4\",\"state\":\"ESTAB\",\"local_address\":\"10.0.0.1\",\"local_port\":2181,"
            "\"remote_address\":\"10.0.0.2\",\"remote_port\":40000,\"interface\":3,\"uid\":1000,\"inode\":4242,"
            "\"cookie\":42,\"recv_q\":7,\"send_q\":9,\"timer\":1,\"timer_expires_ms\":300,\"last_recv_ms\":44000,"
            "\"last_data_recv_ms\":45000,\"last_ack_recv_ms\":44000,\"last_data_sent_ms\":120,\"unacked\":5,"
            "\"retransmits\":3,\"backoff\":4,\"probes\":2,\"total_retrans\":17,\"rto_us\":3264000,\"rtt_us\":250}\n");
}

TEST(SocketJson, MissingTcpInfoIsNull) {
  std::string out;
  append_json_line(sample(AF_INET6, "fd00::1", "fd00::2", false), out);
  EXPECT_NE(out.find("\"family\":\"ipv6\""), std::string::npos);
  EXPECT_NE(out.find("\"local_address\":\"fd00::1\""), std::string::npos);
  EXPECT_NE(out.find("\"unacked\":null"), std::string::npos);
  EXPECT_NE(out.find("\"rtt_us\":null}"), std::string::npos);
}

TEST(SocketTable, RowsLineUpUnderTheHeader) {
  std::string out;
  append_table_header(out);
  append_table_row(sample(AF_INET, "10.0.0.1", "10.0.0.2", true), out);
  append_table_row(sample(AF_INET6, "fd00::1", "fd00::2", false), out);
  EXPECT_EQ(out,
            "State      Local                   Remote                  LastRecv Unacked Retrans Backoff Probes"
            "      RTO  Recv-Q  Send-Q\n"
            "ESTAB      10.0.0.1:2181           10.0.0.2:40000             44.0s       5       3       4      2"
            "     3.2s       7       9\n"
            "ESTAB      [fd00::1]:2181          [fd00::2]:40000                -       -       -       -      -"
            "        -       7       9\n");
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
