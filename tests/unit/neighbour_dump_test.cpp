// NeighbourDumpReader on hand-built RTM_GETNEIGH dump replies: the good
// path, then one broken field at a time, each with its exact outcome. And
// is_pin(), the sweep's decision on a decoded entry.

#include "netlink/neighbour_dump.h"

#include <gtest/gtest.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <climits>

#include "unit/netlink_builder.h"
#include "wire/neighbour_pins.h"

namespace tcpreap {
namespace {

using testing::append;
using testing::error_payload;
using testing::int_payload;
using testing::pad4;
using testing::put_attr;
using testing::put_message;

constexpr uint32_t kSeq = 7;
constexpr uint32_t kPort = 4242;
const std::vector<uint8_t> kNull(6, 0);
const std::vector<uint8_t> kReal = {0x02, 0, 0, 0, 0, 0x09};

IpAddress addr(const char* text) { return *IpAddress::parse(text); }

// The payload of an RTM_NEWNEIGH: ndmsg, then NDA_DST (`dst_len` bytes of
// `dst`, or none for 0), NDA_LLADDR, NDA_PROTOCOL when given.
std::vector<uint8_t> neigh_payload(uint8_t family, const char* dst, uint16_t state,
                                   std::optional<std::vector<uint8_t>> lladdr, std::optional<uint8_t> protocol,
                                   int dst_len = -1) {
  std::vector<uint8_t> b;
  ndmsg ndm{};
  ndm.ndm_family = family;
  ndm.ndm_ifindex = 3;
  ndm.ndm_state = state;
  append(b, &ndm, sizeof ndm);
  pad4(b);
  if (dst) {
    const IpAddress a = addr(dst);
    put_attr(b, NDA_DST, a.bytes.data(), dst_len >= 0 ? static_cast<size_t>(dst_len) : a.size());
  }
  if (lladdr) put_attr(b, NDA_LLADDR, lladdr->data(), lladdr->size());
  if (protocol) put_attr(b, NDA_PROTOCOL, &*protocol, 1);
  return b;
}

std::vector<uint8_t> done(int status = 0) {
  std::vector<uint8_t> d;
  put_message(d, NLMSG_DONE, NLM_F_MULTI, kSeq, kPort, int_payload(status));
  return d;
}

std::vector<uint8_t> one(const std::vector<uint8_t>& payload, uint16_t flags = NLM_F_MULTI) {
  std::vector<uint8_t> d;
  put_message(d, RTM_NEWNEIGH, flags, kSeq, kPort, payload);
  return d;
}

Result<bool> feed(NeighbourDumpReader& r, const std::vector<uint8_t>& d) { return r.feed(d); }

TEST(NeighbourDumpReader, DecodesEntriesOfBothFamiliesUntilDone) {
  NeighbourDumpReader r(kSeq, kPort);
  std::vector<uint8_t> d;
  put_message(d, RTM_NEWNEIGH, NLM_F_MULTI, kSeq, kPort,
              neigh_payload(AF_INET, "10.0.0.2", NUD_STALE, kNull, kNeighbourPinProtocol));
  put_message(d, RTM_NEWNEIGH, NLM_F_MULTI, kSeq, kPort,
              neigh_payload(AF_INET6, "fd00::2", NUD_FAILED, std::nullopt, std::nullopt));
  auto first = feed(r, d);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_FALSE(*first);
  auto last = feed(r, done());
  ASSERT_TRUE(last) << last.error().message();
  EXPECT_TRUE(*last);
  EXPECT_FALSE(r.interrupted());
  ASSERT_EQ(r.entries().size(), 2u);
  EXPECT_EQ(r.entries()[0], (NeighbourEntry{3, addr("10.0.0.2"), NUD_STALE, kNull, kNeighbourPinProtocol}));
  EXPECT_EQ(r.entries()[1], (NeighbourEntry{3, addr("fd00::2"), NUD_FAILED, std::nullopt, std::nullopt}));
}

TEST(NeighbourDumpReader, SkipsUnknownAttributesAndOtherFamilies) {
  NeighbourDumpReader r(kSeq, kPort);
  std::vector<uint8_t> p = neigh_payload(AF_INET, "10.0.0.2", NUD_REACHABLE, kReal, std::nullopt);
  const uint32_t probes = 3;
  put_attr(p, NDA_PROBES, &probes, sizeof probes);
  std::vector<uint8_t> d = one(p);
  put_message(d, RTM_NEWNEIGH, NLM_F_MULTI, kSeq, kPort, neigh_payload(AF_BRIDGE, nullptr, NUD_REACHABLE, kReal, {}));
  ASSERT_TRUE(feed(r, d));
  ASSERT_EQ(r.entries().size(), 1u);
  EXPECT_EQ(r.entries()[0].lladdr, kReal);
}

// Each malformed datagram: an EBADMSG Error, nothing decoded.
void expect_malformed(const std::vector<uint8_t>& d, const std::string& says) {
  NeighbourDumpReader r(kSeq, kPort);
  auto fed = r.feed(d);
  ASSERT_FALSE(fed) << "accepted";
  EXPECT_EQ(fed.error().errnum(), EBADMSG) << fed.error().message();
  EXPECT_NE(fed.error().message().find(says), std::string::npos) << fed.error().message();
  EXPECT_TRUE(r.entries().empty());
}

TEST(NeighbourDumpReader, RejectsAMessageCutShort) {
  std::vector<uint8_t> d = one(neigh_payload(AF_INET, "10.0.0.2", NUD_STALE, kNull, 231));
  d.resize(d.size() - 8);  // the datagram ends inside the message
  expect_malformed(d, "truncated netlink message");
}

TEST(NeighbourDumpReader, RejectsALengthAboveIntMax) {
  std::vector<uint8_t> d = one(neigh_payload(AF_INET, "10.0.0.2", NUD_STALE, kNull, 231));
  nlmsghdr h;
  std::memcpy(&h, d.data(), sizeof h);
  h.nlmsg_len = 0x80000010u;  // negative as an int: mnl_nlmsg_ok() alone would pass it
  std::memcpy(d.data(), &h, sizeof h);
  expect_malformed(d, "truncated netlink message");
}

TEST(NeighbourDumpReader, RejectsAnAttributeOverrunningItsMessage) {
  std::vector<uint8_t> p = neigh_payload(AF_INET, "10.0.0.2", NUD_STALE, kNull, 231);
  // The last attribute (NDA_PROTOCOL, 8 bytes with padding) claims 12.
  nlattr a;
  std::memcpy(&a, p.data() + p.size() - 8, sizeof a);
  a.nla_len = 12;
  std::memcpy(p.data() + p.size() - 8, &a, sizeof a);
  expect_malformed(one(p), "an attribute overruns the message");
}

TEST(NeighbourDumpReader, RejectsAnAttributeShorterThanItsHeader) {
  std::vector<uint8_t> p = neigh_payload(AF_INET, "10.0.0.2", NUD_STALE, kNull, 231);
  nlattr a;
  std::memcpy(&a, p.data() + p.size() - 8, sizeof a);
  a.nla_len = 2;
  std::memcpy(p.data() + p.size() - 8, &a, sizeof a);
  expect_malformed(one(p), "an attribute overruns the message");
}

TEST(NeighbourDumpReader, RejectsAnAddressOfTheWrongLength) {
  expect_malformed(one(neigh_payload(AF_INET, "10.0.0.2", NUD_STALE, kNull, 231, 5)), "NDA_DST of 5 bytes, want 4");
  expect_malformed(one(neigh_payload(AF_INET6, "fd00::2", NUD_STALE, kNull, 231, 4)), "NDA_DST of 4 bytes, want 16");
}

TEST(NeighbourDumpReader, RejectsAProtocolOfTheWrongLength) {
  std::vector<uint8_t> p = neigh_payload(AF_INET, "10.0.0.2", NUD_STALE, kNull, std::nullopt);
  const uint16_t wide = 231;
  put_attr(p, NDA_PROTOCOL, &wide, sizeof wide);
  expect_malformed(one(p), "NDA_PROTOCOL of 2 bytes");
  std::vector<uint8_t> empty = neigh_payload(AF_INET, "10.0.0.2", NUD_STALE, kNull, std::nullopt);
  put_attr(empty, NDA_PROTOCOL, nullptr, 0);
  expect_malformed(one(empty), "NDA_PROTOCOL of 0 bytes");
}

TEST(NeighbourDumpReader, RejectsALinkLayerAddressLongerThanAnyDevice) {
  expect_malformed(one(neigh_payload(AF_INET, "10.0.0.2", NUD_STALE, std::vector<uint8_t>(33, 0), 231)),
                   "NDA_LLADDR of 33 bytes");
}

TEST(NeighbourDumpReader, RejectsAMessageWithoutNdmsgOrDestination) {
  std::vector<uint8_t> short_ndm(sizeof(ndmsg) - 4, 0);
  short_ndm[0] = AF_INET;
  expect_malformed(one(short_ndm), "has no ndmsg");
  expect_malformed(one(neigh_payload(AF_INET, nullptr, NUD_STALE, kNull, 231)), "without NDA_DST");
}

TEST(NeighbourDumpReader, RejectsAnUnpaddedMessageAtTheDatagramsEnd) {
  std::vector<uint8_t> p = neigh_payload(AF_INET, "10.0.0.2", NUD_STALE, kNull, std::nullopt);
  const uint8_t proto = 231;
  nlattr a{static_cast<uint16_t>(NLA_HDRLEN + 1), NDA_PROTOCOL};
  append(p, &a, sizeof a);
  append(p, &proto, 1);  // no padding: the message ends 3 bytes short of alignment
  std::vector<uint8_t> d;
  nlmsghdr h{static_cast<uint32_t>(NLMSG_HDRLEN + p.size()), RTM_NEWNEIGH, NLM_F_MULTI, kSeq, kPort};
  append(d, &h, sizeof h);
  append(d, p.data(), p.size());
  expect_malformed(d, "unpadded");
}

TEST(NeighbourDumpReader, RejectsUnexpectedTypesAndAcks) {
  std::vector<uint8_t> d;
  put_message(d, RTM_NEWROUTE, NLM_F_MULTI, kSeq, kPort, std::vector<uint8_t>(12, 0));
  expect_malformed(d, "unexpected type 24");
  std::vector<uint8_t> ack;
  put_message(ack, NLMSG_ERROR, 0, kSeq, kPort, error_payload(0));
  expect_malformed(ack, "unexpected ACK");
  std::vector<uint8_t> cut;
  put_message(cut, NLMSG_ERROR, 0, kSeq, kPort, int_payload(-EPERM));  // no room for the request's header
  expect_malformed(cut, "NLMSG_ERROR of 20 bytes is truncated");
  std::vector<uint8_t> no_status;
  put_message(no_status, NLMSG_DONE, NLM_F_MULTI, kSeq, kPort, {});
  expect_malformed(no_status, "has no status");
}

TEST(NeighbourDumpReader, ReportsTheKernelsErrno) {
  NeighbourDumpReader r(kSeq, kPort);
  std::vector<uint8_t> d;
  put_message(d, NLMSG_ERROR, 0, kSeq, kPort, error_payload(-EPERM));
  auto fed = r.feed(d);
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error().errnum(), EPERM);
  NeighbourDumpReader r2(kSeq, kPort);
  auto ended = r2.feed(done(-ENOBUFS));
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().errnum(), ENOBUFS);
}

TEST(NeighbourDumpReader, RejectsAnotherRequestsReply) {
  std::vector<uint8_t> seq, port;
  put_message(seq, RTM_NEWNEIGH, NLM_F_MULTI, kSeq + 1, kPort, neigh_payload(AF_INET, "10.0.0.2", 0, {}, {}));
  put_message(port, RTM_NEWNEIGH, NLM_F_MULTI, kSeq, kPort + 1, neigh_payload(AF_INET, "10.0.0.2", 0, {}, {}));
  for (const auto& d : {seq, port}) {
    NeighbourDumpReader r(kSeq, kPort);
    auto fed = r.feed(d);
    ASSERT_FALSE(fed);
    EXPECT_EQ(fed.error().errnum(), EPROTO) << fed.error().message();
  }
}

// NLM_F_DUMP_INTR: read to the end, keep nothing, say so.
TEST(NeighbourDumpReader, AnInterruptedDumpIsReadToItsEndAndKeepsNothing) {
  NeighbourDumpReader r(kSeq, kPort);
  ASSERT_TRUE(feed(r, one(neigh_payload(AF_INET, "10.0.0.2", NUD_STALE, kNull, 231))));
  ASSERT_TRUE(feed(r, one(neigh_payload(AF_INET, "10.0.0.3", NUD_STALE, kNull, 231), NLM_F_MULTI | NLM_F_DUMP_INTR)));
  ASSERT_TRUE(feed(r, one(neigh_payload(AF_INET, "10.0.0.4", NUD_STALE, kNull, 231))));
  auto last = feed(r, done());
  ASSERT_TRUE(last);
  EXPECT_TRUE(*last);
  EXPECT_TRUE(r.interrupted());
  EXPECT_TRUE(r.entries().empty());
}

TEST(IsPin, OurProtocolAndANullAddressOnly) {
  const IpAddress a = addr("10.0.0.2");
  EXPECT_TRUE(is_pin({3, a, NUD_STALE, kNull, kNeighbourPinProtocol}));
  EXPECT_TRUE(is_pin({3, a, NUD_PERMANENT, kNull, kNeighbourPinProtocol}));
  EXPECT_TRUE(is_pin({3, a, NUD_DELAY, std::vector<uint8_t>(16, 0), kNeighbourPinProtocol}));
  EXPECT_FALSE(is_pin({3, a, NUD_REACHABLE, kReal, kNeighbourPinProtocol}));  // healed by the peer
  EXPECT_FALSE(is_pin({3, a, NUD_FAILED, std::nullopt, kNeighbourPinProtocol}));  // reverted
  EXPECT_FALSE(is_pin({3, a, NUD_STALE, std::vector<uint8_t>{}, kNeighbourPinProtocol}));
  EXPECT_FALSE(is_pin({3, a, NUD_PERMANENT, kNull, std::nullopt}));  // someone else's
  EXPECT_FALSE(is_pin({3, a, NUD_PERMANENT, kNull, RTPROT_STATIC}));
}

}  // namespace
}  // namespace tcpreap
