#include "netlink/neighbour_dump.h"

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>

namespace tcpreap {

namespace {

Error malformed(const ReplyMessage& m, const std::string& what) { return Error(EBADMSG, m.where() + ": " + what); }

// What the attribute callback fills, and why it stopped.
struct Decoding {
  NeighbourEntry* entry;
  uint8_t family;
  bool has_dst = false;
  std::string error;
};

int neighbour_attr_body(const nlattr* a, void* data) {
  auto* d = static_cast<Decoding*>(data);
  const uint16_t len = mnl_attr_get_payload_len(a);
  switch (mnl_attr_get_type(a)) {
    case NDA_DST: {
      const size_t want = d->family == AF_INET ? 4 : 16;
      if (len != want) {
        d->error = "NDA_DST of " + std::to_string(len) + " bytes, want " + std::to_string(want);
        return MNL_CB_ERROR;
      }
      const void* p = mnl_attr_get_payload(a);
      d->entry->addr = d->family == AF_INET ? IpAddress::v4(p) : IpAddress::v6(p);
      d->has_dst = true;
      break;
    }
    case NDA_LLADDR: {
      if (len > 32) {  // MAX_ADDR_LEN
        d->error = "NDA_LLADDR of " + std::to_string(len) + " bytes";
        return MNL_CB_ERROR;
      }
      const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
      d->entry->lladdr.emplace(p, p + len);
      break;
    }
    case NDA_PROTOCOL:
      // mnl_attr_validate() checks a minimum only: want exactly one byte.
      if (mnl_attr_validate(a, MNL_TYPE_U8) < 0 || len != 1) {
        d->error = "NDA_PROTOCOL of " + std::to_string(len) + " bytes";
        return MNL_CB_ERROR;
      }
      d->entry->protocol = mnl_attr_get_u8(a);
      break;
  }
  return MNL_CB_OK;
}

// libmnl's callback: no exception may cross its C frames.
int neighbour_attr(const nlattr* a, void* data) {
  try {
    return neighbour_attr_body(a, data);
  } catch (const std::bad_alloc&) {
    errno = ENOMEM;
    return MNL_CB_ERROR;
  }
}

// Decodes one RTM_NEWNEIGH of an IPv4 or IPv6 table into `out`; nothing
// (and no error) for another family.
Result<bool> decode_neighbour(const ReplyMessage& m, NeighbourEntry& out) {
  // The attributes are walked up to the message's aligned end: it must be
  // inside the datagram (the kernel pads every message).
  if (MNL_ALIGN(m.message.size()) > m.room)
    return malformed(m, "RTM_NEWNEIGH of " + std::to_string(m.message.size()) +
                            " bytes, unpadded at the datagram's end");
  if (m.payload.size() < sizeof(ndmsg))
    return malformed(m, "RTM_NEWNEIGH of " + std::to_string(m.message.size()) + " bytes has no ndmsg");
  // libmnl walks attributes in place: the datagram is 4-byte aligned.
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(m.message.data());
  ndmsg ndm;
  std::memcpy(&ndm, m.payload.data(), sizeof ndm);
  if (ndm.ndm_family != AF_INET && ndm.ndm_family != AF_INET6) return false;

  // The attributes must tile the payload exactly: mnl_attr_parse() stops
  // silently at one that does not fit, which would hide it.
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  const auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(ndmsg)));
  while (mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a)))) a = mnl_attr_next(a);
  if (reinterpret_cast<const char*>(a) != tail)
    return malformed(m, "an attribute overruns the message at byte " +
                            std::to_string(reinterpret_cast<const char*>(a) - reinterpret_cast<const char*>(nlh)));

  out = NeighbourEntry{};
  out.ifindex = static_cast<uint32_t>(ndm.ndm_ifindex);
  out.state = ndm.ndm_state;
  out.addr.family = ndm.ndm_family == AF_INET ? Family::kIPv4 : Family::kIPv6;
  Decoding d{&out, ndm.ndm_family, false, {}};
  if (mnl_attr_parse(nlh, sizeof(ndmsg), neighbour_attr, &d) == MNL_CB_ERROR)
    return malformed(m, d.error.empty() ? "bad attribute" : d.error);
  if (!d.has_dst) return malformed(m, "RTM_NEWNEIGH without NDA_DST");
  return true;
}

}  // namespace

NeighbourDumpReader::NeighbourDumpReader(uint32_t seq, uint32_t portid)
    : reply_(ReplyReader::dump(seq, portid, kRtnetlinkErrnos)) {}

Result<bool> NeighbourDumpReader::feed(std::span<const uint8_t> datagram) {
  reply_.start(datagram);
  while (true) {
    auto next = reply_.next();
    if (!next) return next.error();
    if (!*next) return false;
    const ReplyMessage& m = **next;
    if (reply_.interrupted()) entries_.clear();  // the whole dump is to be done again
    if (m.kind == ReplyMessage::Kind::kDone) {
      if (m.errnum != 0) return Error(m.errnum, "the kernel ended the neighbour dump with an error");
      return true;
    }
    if (m.kind == ReplyMessage::Kind::kError) return Error(m.errnum, "the kernel refused the neighbour dump");
    if (m.kind != ReplyMessage::Kind::kData || m.type != RTM_NEWNEIGH)
      return malformed(m, "unexpected type " + std::to_string(m.type));
    NeighbourEntry e;
    auto decoded = decode_neighbour(m, e);
    if (!decoded) return decoded.error();
    if (*decoded && !reply_.interrupted()) entries_.push_back(std::move(e));
  }
}

}  // namespace tcpreap
