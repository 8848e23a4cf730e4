// ReplyReader against hand-built datagrams: each test breaks one field and
// asserts the exact outcome - the message delivered, skipped, or the error
// with its errno and text.

#include "netlink/reply_reader.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstring>
#include <vector>

#include "unit/netlink_builder.h"

namespace tcpreap {
namespace {

using testing::error_payload;
using testing::int_payload;
using testing::put_message;
using Kind = ReplyMessage::Kind;

constexpr uint32_t kSeq = 77;
constexpr uint32_t kPid = 4321;
constexpr uint16_t kData = 20;  // SOCK_DIAG_BY_FAMILY, RTM_NEWNEIGH's neighbour: any type >= NLMSG_MIN_TYPE

// What one datagram yields: its messages, up to the error if there is one.
struct Read {
  std::vector<ReplyMessage> messages;
  std::optional<Error> error;
};

Read read_all(ReplyReader& r, const std::vector<uint8_t>& d) {
  Read out;
  r.start({d.data(), d.size()});
  while (true) {
    auto next = r.next();
    if (!next) {
      out.error = next.error();
      return out;
    }
    if (!*next) return out;
    out.messages.push_back(**next);
  }
}

void set_len(std::vector<uint8_t>& d, size_t at, uint32_t len) { std::memcpy(d.data() + at, &len, sizeof len); }

TEST(ReplyReader, DeliversDataWithItsPayloadAndPlace) {
  std::vector<uint8_t> d;
  put_message(d, kData, NLM_F_MULTI, kSeq, kPid, {1, 2, 3, 4, 5});  // 21 bytes, padded to 24
  put_message(d, kData + 1, NLM_F_MULTI, kSeq, kPid, {9, 9, 9, 9});
  ReplyReader r = ReplyReader::dump(kSeq, kPid);
  Read got = read_all(r, d);
  ASSERT_FALSE(got.error) << got.error->message();
  ASSERT_EQ(got.messages.size(), 2u);
  const ReplyMessage& a = got.messages[0];
  EXPECT_EQ(a.kind, Kind::kData);
  EXPECT_EQ(a.type, kData);
  EXPECT_EQ(a.flags, NLM_F_MULTI);
  EXPECT_EQ(a.seq, kSeq);
  EXPECT_EQ(a.offset, 0u);
  EXPECT_EQ(a.room, d.size());
  EXPECT_EQ(a.message.data(), d.data());
  EXPECT_EQ(a.message.size(), 21u);
  EXPECT_EQ(std::vector<uint8_t>(a.payload.begin(), a.payload.end()), (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  const ReplyMessage& b = got.messages[1];
  EXPECT_EQ(b.type, kData + 1);
  EXPECT_EQ(b.offset, 24u);
  EXPECT_EQ(b.room, d.size() - 24);
  EXPECT_EQ(b.where(), "netlink message at offset 24");
}

TEST(ReplyReader, RejectsAnEmptyDatagram) {
  ReplyReader r = ReplyReader::answers(kSeq, 1, kPid);
  Read got = read_all(r, {});
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->errnum(), 0);
  EXPECT_EQ(got.error->message(), "an empty datagram");
}

TEST(ReplyReader, RejectsATruncatedHeaderAfterTheMessagesBeforeIt) {
  std::vector<uint8_t> d;
  put_message(d, kData, NLM_F_MULTI, kSeq, kPid, {1, 2, 3, 4});
  const size_t first = d.size();
  d.resize(d.size() + 12, 0xab);  // less than an nlmsghdr
  ReplyReader r = ReplyReader::dump(kSeq, kPid);
  Read got = read_all(r, d);
  ASSERT_EQ(got.messages.size(), 1u);
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->message(), "truncated netlink message: 12 bytes left at offset " + std::to_string(first));
}

TEST(ReplyReader, RejectsALengthShorterThanAHeader) {
  for (uint32_t len : {0u, 1u, 15u}) {  // 0 would never move on
    std::vector<uint8_t> d;
    put_message(d, kData, NLM_F_MULTI, kSeq, kPid, {1, 2, 3, 4});
    set_len(d, 0, len);
    ReplyReader r = ReplyReader::dump(kSeq, kPid);
    Read got = read_all(r, d);
    EXPECT_TRUE(got.messages.empty()) << len;
    ASSERT_TRUE(got.error) << len;
    EXPECT_EQ(got.error->message(), "truncated netlink message: 20 bytes left at offset 0") << len;
  }
}

TEST(ReplyReader, RejectsALengthPastTheDatagram) {
  // One byte past, and lengths that turn negative as an int (libmnl's
  // mnl_nlmsg_ok() would pass those).
  for (uint32_t len : {21u, 0x80000010u, 0xffffffffu}) {
    std::vector<uint8_t> d;
    put_message(d, kData, NLM_F_MULTI, kSeq, kPid, {1, 2, 3, 4});
    set_len(d, 0, len);
    ReplyReader r = ReplyReader::answers(kSeq, 1, kPid);
    Read got = read_all(r, d);
    EXPECT_TRUE(got.messages.empty()) << len;
    ASSERT_TRUE(got.error) << len;
    EXPECT_EQ(got.error->message(), "truncated netlink message: 20 bytes left at offset 0") << len;
  }
}

// The kernel pads every message, but a last message without its padding
// still fits: it is read, and the datagram ends there.
TEST(ReplyReader, AcceptsALastMessageWithoutItsPadding) {
  std::vector<uint8_t> d;
  put_message(d, kData, NLM_F_MULTI, kSeq, kPid, {1, 2, 3, 4, 5});
  d.resize(21);
  ReplyReader r = ReplyReader::dump(kSeq, kPid);
  Read got = read_all(r, d);
  ASSERT_FALSE(got.error) << got.error->message();
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(got.messages[0].payload.size(), 5u);
  EXPECT_EQ(got.messages[0].room, 21u);
}

TEST(ReplyReader, RejectsAnotherSequenceNumberInADump) {
  std::vector<uint8_t> d;
  put_message(d, kData, NLM_F_MULTI, kSeq + 1, kPid, {});
  ReplyReader r = ReplyReader::dump(kSeq, kPid);
  Read got = read_all(r, d);
  EXPECT_TRUE(got.messages.empty());
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->errnum(), 0);
  EXPECT_EQ(got.error->message(), "netlink message at offset 0 has sequence number 78, the dump's is 77");
}

TEST(ReplyReader, SkipsAnswersToOtherRequests) {
  std::vector<uint8_t> d;
  put_message(d, NLMSG_ERROR, 0, kSeq - 1, kPid, error_payload(-ENOENT));  // an earlier request's
  put_message(d, NLMSG_ERROR, 0, kSeq + 2, kPid, {});                     // beyond the window: not even checked
  put_message(d, NLMSG_ERROR, 0, kSeq + 1, kPid, error_payload(-EPERM));
  put_message(d, NLMSG_ERROR, 0, kSeq, kPid, error_payload(0));
  ReplyReader r = ReplyReader::answers(kSeq, 2, kPid);
  Read got = read_all(r, d);
  ASSERT_FALSE(got.error) << got.error->message();
  ASSERT_EQ(got.messages.size(), 2u);
  EXPECT_EQ(got.messages[0].seq, kSeq + 1);
  EXPECT_EQ(got.messages[0].kind, Kind::kError);
  EXPECT_EQ(got.messages[0].errnum, EPERM);
  EXPECT_EQ(got.messages[1].seq, kSeq);
  EXPECT_EQ(got.messages[1].kind, Kind::kAck);
  EXPECT_EQ(got.messages[1].errnum, 0);
}

// Sequence numbers wrap: the window 0xffffffff, 0, 1 is one window.
TEST(ReplyReader, AnswersAWindowAcrossTheWrap) {
  std::vector<uint8_t> d;
  for (uint32_t seq : {0xfffffffeu, 0xffffffffu, 0u, 1u, 2u})
    put_message(d, NLMSG_ERROR, 0, seq, kPid, error_payload(-ENOENT));
  ReplyReader r = ReplyReader::answers(0xffffffffu, 3, kPid);
  Read got = read_all(r, d);
  ASSERT_FALSE(got.error) << got.error->message();
  ASSERT_EQ(got.messages.size(), 3u);
  EXPECT_EQ(got.messages[0].seq, 0xffffffffu);
  EXPECT_EQ(got.messages[1].seq, 0u);
  EXPECT_EQ(got.messages[2].seq, 1u);
}

TEST(ReplyReader, RejectsAnotherPortIdWhateverItsSequenceNumber) {
  for (uint32_t seq : {kSeq, kSeq + 5}) {
    std::vector<uint8_t> d;
    put_message(d, NLMSG_ERROR, 0, seq, kPid + 1, error_payload(-ENOENT));
    ReplyReader r = ReplyReader::answers(kSeq, 1, kPid);
    Read got = read_all(r, d);
    EXPECT_TRUE(got.messages.empty());
    ASSERT_TRUE(got.error);
    EXPECT_EQ(got.error->message(), "netlink message at offset 0 is for port id 4322, ours is 4321");
  }
}

// libmnl's rule: 0 on either side is not checked.
TEST(ReplyReader, ZeroSequenceNumberOrPortIdIsNotChecked) {
  std::vector<uint8_t> d;
  put_message(d, kData, NLM_F_MULTI, 0, 0, {});
  put_message(d, kData, NLM_F_MULTI, kSeq, kPid, {});
  put_message(d, kData, NLM_F_MULTI, 5, 6, {});
  ReplyReader any = ReplyReader::dump(0, 0);
  Read got = read_all(any, d);
  ASSERT_FALSE(got.error) << got.error->message();
  EXPECT_EQ(got.messages.size(), 3u);

  ReplyReader ours = ReplyReader::dump(kSeq, kPid);
  got = read_all(ours, d);
  EXPECT_EQ(got.messages.size(), 2u) << "the kernel's seq 0 / pid 0 passes, 5 / 6 does not";
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->message(), "netlink message at offset 32 is for port id 6, ours is 4321");
}

TEST(ReplyReader, RejectsAnErrorTooShortForItsCode) {
  std::vector<uint8_t> d;
  put_message(d, NLMSG_ERROR, 0, kSeq, kPid, int_payload(-EPERM));  // no request header
  ReplyReader r = ReplyReader::answers(kSeq, 1, kPid);
  Read got = read_all(r, d);
  EXPECT_TRUE(got.messages.empty());
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->errnum(), 0);
  EXPECT_EQ(got.error->message(), "netlink message at offset 0: NLMSG_ERROR of 20 bytes is truncated");
}

TEST(ReplyReader, AnErrorCarriesTheKernelsErrno) {
  std::vector<uint8_t> d;
  put_message(d, NLMSG_ERROR, 0, kSeq, kPid, error_payload(-EACCES));
  for (ReplyReader r : {ReplyReader::dump(kSeq, kPid), ReplyReader::answers(kSeq, 1, kPid)}) {
    Read got = read_all(r, d);
    ASSERT_FALSE(got.error) << got.error->message();
    ASSERT_EQ(got.messages.size(), 1u);
    EXPECT_EQ(got.messages[0].kind, Kind::kError);
    EXPECT_EQ(got.messages[0].errnum, EACCES);
  }
}

TEST(ReplyReader, AnAckAnswersARequestButHasNoPlaceInADump) {
  std::vector<uint8_t> d;
  put_message(d, NLMSG_ERROR, 0, kSeq, kPid, error_payload(0));
  ReplyReader answers = ReplyReader::answers(kSeq, 1, kPid);
  Read got = read_all(answers, d);
  ASSERT_FALSE(got.error) << got.error->message();
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(got.messages[0].kind, Kind::kAck);

  ReplyReader dump = ReplyReader::dump(kSeq, kPid);
  got = read_all(dump, d);
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->message(), "netlink message at offset 0: unexpected ACK in a dump");
}

// Negating INT_MIN is undefined, and nothing above MAX_ERRNO is an errno.
TEST(ReplyReader, RejectsAnErrorCodeThatIsNoErrno) {
  for (int code : {INT_MIN, -4096, 5}) {
    std::vector<uint8_t> d;
    put_message(d, NLMSG_ERROR, 0, kSeq, kPid, error_payload(code));
    ReplyReader r = ReplyReader::answers(kSeq, 1, kPid);
    Read got = read_all(r, d);
    ASSERT_TRUE(got.error) << code;
    EXPECT_EQ(got.error->message(),
              "netlink message at offset 0: NLMSG_ERROR code " + std::to_string(code) + " is no negative errno");
  }
}

TEST(ReplyReader, DoneCarriesTheDumpsStatus) {
  std::vector<uint8_t> ok, failed;
  put_message(ok, NLMSG_DONE, NLM_F_MULTI, kSeq, kPid, int_payload(0));
  put_message(failed, NLMSG_DONE, NLM_F_MULTI, kSeq, kPid, int_payload(-ENOBUFS));
  ReplyReader r = ReplyReader::dump(kSeq, kPid);
  Read got = read_all(r, ok);
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(got.messages[0].kind, Kind::kDone);
  EXPECT_EQ(got.messages[0].errnum, 0);
  ReplyReader r2 = ReplyReader::dump(kSeq, kPid);
  got = read_all(r2, failed);
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(got.messages[0].kind, Kind::kDone);
  EXPECT_EQ(got.messages[0].errnum, ENOBUFS);
}

TEST(ReplyReader, RejectsADoneWithoutStatusOrWithOneThatIsNoErrno) {
  std::vector<uint8_t> bare, bogus;
  put_message(bare, NLMSG_DONE, NLM_F_MULTI, kSeq, kPid, {});
  put_message(bogus, NLMSG_DONE, NLM_F_MULTI, kSeq, kPid, int_payload(INT_MIN));
  ReplyReader r = ReplyReader::dump(kSeq, kPid);
  Read got = read_all(r, bare);
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->message(), "netlink message at offset 0: NLMSG_DONE of 16 bytes has no status");
  ReplyReader r2 = ReplyReader::dump(kSeq, kPid);
  got = read_all(r2, bogus);
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->message(), "netlink message at offset 0: NLMSG_DONE status -2147483648 is no errno");
}

TEST(ReplyReader, SkipsNoop) {
  std::vector<uint8_t> d;
  put_message(d, NLMSG_NOOP, 0, kSeq, kPid, {});
  put_message(d, kData, 0, kSeq, kPid, {});
  ReplyReader r = ReplyReader::answers(kSeq, 1, kPid);
  Read got = read_all(r, d);
  ASSERT_FALSE(got.error) << got.error->message();
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(got.messages[0].type, kData);
}

// A dump in parts: one datagram after another, NLMSG_DONE in the last.
// NLM_F_DUMP_INTR on any part holds for the rest of the reply.
TEST(ReplyReader, ReadsAMultiPartDumpAndRemembersAnInterruption) {
  std::vector<uint8_t> first, second, third;
  put_message(first, kData, NLM_F_MULTI, kSeq, kPid, {1, 0, 0, 0});
  put_message(first, kData, NLM_F_MULTI, kSeq, kPid, {2, 0, 0, 0});
  put_message(second, kData, NLM_F_MULTI | NLM_F_DUMP_INTR, kSeq, kPid, {3, 0, 0, 0});
  put_message(third, kData, NLM_F_MULTI, kSeq, kPid, {4, 0, 0, 0});
  put_message(third, NLMSG_DONE, NLM_F_MULTI, kSeq, kPid, int_payload(0));
  ReplyReader r = ReplyReader::dump(kSeq, kPid);
  Read got = read_all(r, first);
  ASSERT_EQ(got.messages.size(), 2u);
  EXPECT_FALSE(r.interrupted());
  got = read_all(r, second);
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(got.messages[0].payload[0], 3);
  EXPECT_EQ(got.messages[0].offset, 0u) << "each datagram is read from its start";
  EXPECT_TRUE(r.interrupted());
  got = read_all(r, third);
  ASSERT_FALSE(got.error) << got.error->message();
  ASSERT_EQ(got.messages.size(), 2u);
  EXPECT_EQ(got.messages[1].kind, Kind::kDone);
  EXPECT_TRUE(r.interrupted()) << "sticky";
}

TEST(ReplyReader, AStrayAnswerDoesNotInterrupt) {
  std::vector<uint8_t> d;
  put_message(d, NLMSG_ERROR, NLM_F_DUMP_INTR, kSeq - 1, kPid, error_payload(-ENOENT));
  put_message(d, NLMSG_ERROR, 0, kSeq, kPid, error_payload(0));
  ReplyReader r = ReplyReader::answers(kSeq, 1, kPid);
  Read got = read_all(r, d);
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_FALSE(r.interrupted());
}

// rtnetlink code tags its complaints; the kernel's errnos stay the kernel's.
TEST(ReplyReader, TagsItsOwnErrorsWithTheErrnosAskedFor) {
  const ReplyErrnos tags{EBADMSG, EPROTO};
  std::vector<uint8_t> cut, foreign, refused;
  put_message(cut, NLMSG_ERROR, 0, kSeq, kPid, int_payload(-EPERM));
  put_message(foreign, kData, 0, kSeq + 1, kPid, {});
  put_message(refused, NLMSG_ERROR, 0, kSeq, kPid, error_payload(-EPERM));
  auto read = [&](const std::vector<uint8_t>& d) {
    ReplyReader r = ReplyReader::dump(kSeq, kPid, tags);
    return read_all(r, d);
  };
  Read got = read(cut);
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->errnum(), EBADMSG);
  got = read(foreign);
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->errnum(), EPROTO);
  got = read({});
  ASSERT_TRUE(got.error);
  EXPECT_EQ(got.error->errnum(), EBADMSG);
  got = read(refused);
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(got.messages[0].errnum, EPERM);
}

}  // namespace
}  // namespace tcpreap
