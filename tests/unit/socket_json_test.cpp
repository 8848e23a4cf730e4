// `tcpreap list --json`: one JSON object per socket, every field named with
// its unit, null where tcp_info is missing.

#include "report/socket_json.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/decoded_socket.h"

namespace tcpreap {
namespace {

using testing::decoded_socket;

TEST(SocketJson, OneObjectWithEveryFieldNamedWithItsUnit) {
  std::string out;
  append_json_line(decoded_socket(AF_INET, "10.0.0.1", "10.0.0.2", true), out);
  EXPECT_EQ(out,
            "{\"family\":\"ipv4\",\"state\":\"ESTAB\",\"local_address\":\"10.0.0.1\",\"local_port\":2181,"
            "\"remote_address\":\"10.0.0.2\",\"remote_port\":40000,\"interface\":3,\"uid\":1000,\"inode\":4242,"
            "\"cookie\":42,\"recv_q\":7,\"send_q\":9,\"timer\":1,\"timer_expires_ms\":300,\"last_recv_ms\":44000,"
            "\"last_data_recv_ms\":45000,\"last_ack_recv_ms\":44000,\"last_data_sent_ms\":120,\"unacked\":5,"
            "\"retransmits\":3,\"backoff\":4,\"probes\":2,\"total_retrans\":17,\"rto_us\":3264000,\"rtt_us\":250}\n");
}

TEST(SocketJson, MissingTcpInfoIsNull) {
  std::string out;
  append_json_line(decoded_socket(AF_INET6, "fd00::1", "fd00::2", false), out);
  EXPECT_NE(out.find("\"family\":\"ipv6\""), std::string::npos);
  EXPECT_NE(out.find("\"local_address\":\"fd00::1\""), std::string::npos);
  EXPECT_NE(out.find("\"unacked\":null"), std::string::npos);
  EXPECT_NE(out.find("\"rtt_us\":null}"), std::string::npos);
}

TEST(SocketJson, ANamespaceEndsTheObjectWithItsNameIdentityAndContainer) {
  const TcpSocket s = decoded_socket(AF_INET, "10.0.0.1", "10.0.0.2", true);
  std::string plain, with_netns;
  append_json_line(s, plain);
  const NamespaceInfo pod{NetnsId{1, 4026532174, {}}, "cni-42", "pod:1b4e28ba", false};
  append_json_line(s, with_netns, &pod);
  EXPECT_EQ(with_netns,
            plain.substr(0, plain.size() - 2) +
                ",\"netns\":{\"name\":\"cni-42\",\"id\":\"net:[4026532174]\",\"container\":\"pod:1b4e28ba\"}}\n");
  const NamespaceInfo host{NetnsId{1, 4026531840, {}}, "host", {}, true};
  std::string own;
  append_json_line(s, own, &host);
  EXPECT_NE(own.find(",\"netns\":{\"name\":\"host\",\"id\":\"net:[4026531840]\",\"container\":null}}\n"),
            std::string::npos)
      << own;
}

TEST(SocketJson, ANamespaceNameIsEscaped) {
  const NamespaceInfo odd{NetnsId{1, 5, {}}, "a\"b\\c\nd\x01", {}, false};
  std::string out;
  append_json_line(decoded_socket(AF_INET, "10.0.0.1", "10.0.0.2", true), out, &odd);
  EXPECT_NE(out.find("\"name\":\"a\\\"b\\\\c\\u000ad\\u0001\""), std::string::npos) << out;
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "one line";
}

}  // namespace
}  // namespace tcpreap
