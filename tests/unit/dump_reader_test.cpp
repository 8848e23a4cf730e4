#include "diag/dump_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <climits>

#include "unit/netlink_builder.h"

namespace tcpreap {
namespace {

using testing::diag_msg;
using testing::error_payload;
using testing::int_payload;
using testing::put_message;
using testing::socket_payload;

constexpr uint32_t kSeq = 77;
constexpr uint32_t kPid = 4321;

struct RecordingSink : SocketSink {
  std::vector<uint16_t> ports;  // remote ports, in order
  int restarts = 0;
  void on_socket(const TcpSocket& s) override { ports.push_back(s.remote_port); }
  void on_restart() override { ++restarts; }
};

std::vector<uint8_t> socket_msg(uint16_t dport) {
  return socket_payload(diag_msg(AF_INET, 1, "127.0.0.1", 80, "127.0.0.2", dport));
}

Result<bool> feed(DumpReader& r, const std::vector<uint8_t>& d, SocketSink& sink) {
  return r.feed({d.data(), d.size()}, sink);
}

TEST(DumpReader, DeliversSocketsUntilDone) {
  std::vector<uint8_t> first, second;
  put_message(first, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, kSeq, kPid, socket_msg(1));
  put_message(first, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, kSeq, kPid, socket_msg(2));
  put_message(second, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, kSeq, kPid, socket_msg(3));
  put_message(second, NLMSG_DONE, NLM_F_MULTI, kSeq, kPid, int_payload(0));
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r1 = feed(reader, first, sink);
  ASSERT_TRUE(r1.ok());
  EXPECT_FALSE(*r1);
  auto r2 = feed(reader, second, sink);
  ASSERT_TRUE(r2.ok()) << r2.error().message();
  EXPECT_TRUE(*r2);
  EXPECT_THAT(sink.ports, ::testing::ElementsAre(1, 2, 3));
  EXPECT_EQ(reader.sockets(), 3u);
  EXPECT_FALSE(reader.interrupted());
}

TEST(DumpReader, ErrorCarriesTheKernelsErrno) {
  std::vector<uint8_t> d;
  put_message(d, NLMSG_ERROR, 0, kSeq, kPid, error_payload(-EPERM));
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum(), EPERM);
  EXPECT_EQ(r.error().message(), "the kernel refused the dump: Operation not permitted");
}

TEST(DumpReader, RejectsATruncatedError) {
  std::vector<uint8_t> d;
  put_message(d, NLMSG_ERROR, 0, kSeq, kPid, int_payload(-EPERM));  // no original header
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum(), 0);
  EXPECT_EQ(r.error().message(), "netlink message at offset 0: NLMSG_ERROR of 20 bytes is truncated");
}

TEST(DumpReader, RejectsAnAckInADump) {
  std::vector<uint8_t> d;
  put_message(d, NLMSG_ERROR, 0, kSeq, kPid, error_payload(0));
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "netlink message at offset 0: unexpected ACK in a dump");
}

TEST(DumpReader, RejectsADoneWithoutStatus) {
  std::vector<uint8_t> d;
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, kSeq, kPid, socket_msg(1));
  const size_t done_at = d.size();
  put_message(d, NLMSG_DONE, NLM_F_MULTI, kSeq, kPid, {});
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "netlink message at offset " + std::to_string(done_at) + ": NLMSG_DONE of 16 bytes has no status");
}

TEST(DumpReader, ADoneWithAnErrorStatusFailsTheDump) {
  std::vector<uint8_t> d;
  put_message(d, NLMSG_DONE, NLM_F_MULTI, kSeq, kPid, int_payload(-ENOBUFS));
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum(), ENOBUFS);
}

TEST(DumpReader, StopsDeliveringOnceTheDumpIsInterrupted) {
  std::vector<uint8_t> d;
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, kSeq, kPid, socket_msg(1));
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI | NLM_F_DUMP_INTR, kSeq, kPid, socket_msg(2));
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI | NLM_F_DUMP_INTR, kSeq, kPid, socket_msg(3));
  put_message(d, NLMSG_DONE, NLM_F_MULTI | NLM_F_DUMP_INTR, kSeq, kPid, int_payload(0));
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);  // read to the end, so the socket is clean for the retry
  EXPECT_TRUE(reader.interrupted());
  EXPECT_THAT(sink.ports, ::testing::ElementsAre(1));
}

TEST(DumpReader, RejectsAWrongSequenceNumber) {
  std::vector<uint8_t> d;
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, kSeq + 1, kPid, socket_msg(1));
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "netlink message at offset 0 has sequence number 78, the dump's is 77");
  EXPECT_TRUE(sink.ports.empty());
}

TEST(DumpReader, RejectsAWrongPortId) {
  std::vector<uint8_t> d;
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, kSeq, kPid + 1, socket_msg(1));
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "netlink message at offset 0 is for port id 4322, ours is 4321");
}

TEST(DumpReader, RejectsATruncatedHeader) {
  std::vector<uint8_t> d;
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, kSeq, kPid, socket_msg(1));
  const size_t first = d.size();
  d.resize(d.size() + 10, 0xab);  // 10 bytes: less than an nlmsghdr
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "truncated netlink message: 10 bytes left at offset " + std::to_string(first));
  EXPECT_THAT(sink.ports, ::testing::ElementsAre(1));
}

// A netlink socket never delivers nothing; a reader that waited on would
// spin on a transport that does.
TEST(DumpReader, RejectsAnEmptyDatagram) {
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, {}, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "an empty datagram");
}

TEST(DumpReader, RejectsAMessageLongerThanTheDatagram) {
  std::vector<uint8_t> d;
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, kSeq, kPid, socket_msg(1));
  d.resize(d.size() - 4);  // nlmsg_len now points past the end
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "truncated netlink message: " + std::to_string(d.size()) + " bytes left at offset 0");
  EXPECT_TRUE(sink.ports.empty());
}

TEST(DumpReader, NamesTheMessageThatFailedToDecode) {
  std::vector<uint8_t> d;
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, kSeq, kPid, socket_msg(1));
  const size_t second = d.size();
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, kSeq, kPid, std::vector<uint8_t>(40, 0));
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "netlink message at offset " + std::to_string(second) +
                                     ": inet_diag message of 40 bytes is shorter than struct inet_diag_msg (72)");
}

TEST(DumpReader, RejectsAnUnexpectedMessageType) {
  std::vector<uint8_t> d;
  put_message(d, 99, NLM_F_MULTI, kSeq, kPid, int_payload(0));
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "netlink message at offset 0 has unexpected type 99");
}

}  // namespace
}  // namespace tcpreap

namespace tcpreap {
namespace {

// Found by tests/fuzz: libmnl's mnl_nlmsg_ok() reads nlmsg_len as an int,
// so a length above INT_MAX passed its check and the walk left the buffer.
TEST(DumpReader, RejectsALengthAboveIntMax) {
  std::vector<uint8_t> d;
  testing::put_message(d, NLMSG_DONE, NLM_F_MULTI, kSeq, kPid, testing::int_payload(0));
  const uint32_t huge = 0x80000010u;
  std::memcpy(d.data(), &huge, sizeof huge);
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "truncated netlink message: 20 bytes left at offset 0");
}

}  // namespace
}  // namespace tcpreap

namespace tcpreap {
namespace {

// Found by tests/fuzz: negating INT_MIN is undefined.
TEST(DumpReader, RejectsAnErrorCodeThatIsNoErrno) {
  for (int code : {INT_MIN, -4096, 5}) {
    std::vector<uint8_t> d;
    testing::put_message(d, NLMSG_ERROR, 0, kSeq, kPid, testing::error_payload(code));
    DumpReader reader(kSeq, kPid);
    RecordingSink sink;
    auto r = feed(reader, d, sink);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errnum(), 0);
    EXPECT_EQ(r.error().message(),
              "netlink message at offset 0: NLMSG_ERROR code " + std::to_string(code) + " is no negative errno");
  }
  std::vector<uint8_t> d;
  testing::put_message(d, NLMSG_DONE, NLM_F_MULTI, kSeq, kPid, testing::int_payload(INT_MIN));
  DumpReader reader(kSeq, kPid);
  RecordingSink sink;
  auto r = feed(reader, d, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "netlink message at offset 0: NLMSG_DONE status -2147483648 is no errno");
}

}  // namespace
}  // namespace tcpreap
