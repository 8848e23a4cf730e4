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

std::string at(size_t offset) { return "netlink message at offset " + std::to_string(offset); }

Error malformed(size_t offset, const std::string& what) { return Error(EBADMSG, at(offset) + ": " + what); }

// mnl_nlmsg_ok() compares (int)nlmsg_len <= len: a length above INT_MAX
// turns negative and passes (mnl_cb_run() walks datagrams the same way,
// and ignores bytes left over: hence this loop of our own). Check unsigned.
bool message_fits(const nlmsghdr* nlh, int left) {
  return mnl_nlmsg_ok(nlh, left) && nlh->nlmsg_len <= static_cast<uint32_t>(left);
}

// The kernel reports -errno, and errnos end at MAX_ERRNO (4095).
bool is_errno(int negative) { return negative < 0 && negative >= -4095; }

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
// (and no error) for another family. `room` is what the datagram holds
// from the message on.
Result<bool> decode_neighbour(const nlmsghdr* nlh, int room, size_t offset, NeighbourEntry& out) {
  // The attributes are walked up to the message's aligned end: it must be
  // inside the datagram (the kernel pads every message).
  if (MNL_ALIGN(nlh->nlmsg_len) > static_cast<uint32_t>(room))
    return malformed(offset,
                     "RTM_NEWNEIGH of " + std::to_string(nlh->nlmsg_len) + " bytes, unpadded at the datagram's end");
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ndmsg))
    return malformed(offset, "RTM_NEWNEIGH of " + std::to_string(nlh->nlmsg_len) + " bytes has no ndmsg");
  ndmsg ndm;
  std::memcpy(&ndm, mnl_nlmsg_get_payload(nlh), sizeof ndm);
  if (ndm.ndm_family != AF_INET && ndm.ndm_family != AF_INET6) return false;

  // The attributes must tile the payload exactly: mnl_attr_parse() stops
  // silently at one that does not fit, which would hide it.
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  const auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(ndmsg)));
  while (mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a)))) a = mnl_attr_next(a);
  if (reinterpret_cast<const char*>(a) != tail)
    return malformed(offset, "an attribute overruns the message at byte " +
                                 std::to_string(reinterpret_cast<const char*>(a) - reinterpret_cast<const char*>(nlh)));

  out = NeighbourEntry{};
  out.ifindex = static_cast<uint32_t>(ndm.ndm_ifindex);
  out.state = ndm.ndm_state;
  out.addr.family = ndm.ndm_family == AF_INET ? Family::kIPv4 : Family::kIPv6;
  Decoding d{&out, ndm.ndm_family, false, {}};
  if (mnl_attr_parse(nlh, sizeof(ndmsg), neighbour_attr, &d) == MNL_CB_ERROR)
    return malformed(offset, d.error.empty() ? "bad attribute" : d.error);
  if (!d.has_dst) return malformed(offset, "RTM_NEWNEIGH without NDA_DST");
  return true;
}

}  // namespace

Result<bool> NeighbourDumpReader::feed(std::span<const uint8_t> datagram) {
  int left = static_cast<int>(datagram.size());
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(datagram.data());
  while (message_fits(nlh, left)) {
    const size_t offset = datagram.size() - static_cast<size_t>(left);
    if (!mnl_nlmsg_portid_ok(nlh, portid_))
      return Error(EPROTO, at(offset) + " is for port id " + std::to_string(nlh->nlmsg_pid) + ", ours is " +
                               std::to_string(portid_));
    if (!mnl_nlmsg_seq_ok(nlh, seq_))
      return Error(EPROTO, at(offset) + " has sequence number " + std::to_string(nlh->nlmsg_seq) +
                               ", the dump's is " + std::to_string(seq_));
    if ((nlh->nlmsg_flags & NLM_F_DUMP_INTR) && !interrupted_) {
      interrupted_ = true;
      entries_.clear();  // the whole dump is to be done again
    }
    const size_t payload = nlh->nlmsg_len - MNL_NLMSG_HDRLEN;
    switch (nlh->nlmsg_type) {
      case NLMSG_DONE: {
        // A dump's DONE carries the dump's final status (netlink_dump_done).
        int status = 0;
        if (payload < sizeof status)
          return malformed(offset, "NLMSG_DONE of " + std::to_string(nlh->nlmsg_len) + " bytes has no status");
        std::memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof status);
        if (status < 0) {
          if (!is_errno(status))
            return malformed(offset, "NLMSG_DONE status " + std::to_string(status) + " is no errno");
          return Error(-status, "the kernel ended the neighbour dump with an error");
        }
        return true;
      }
      case NLMSG_ERROR: {
        nlmsgerr err;
        if (payload < sizeof err)
          return malformed(offset, "NLMSG_ERROR of " + std::to_string(nlh->nlmsg_len) + " bytes is truncated");
        std::memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof err);
        if (err.error == 0) return malformed(offset, "unexpected ACK in a dump");
        if (!is_errno(err.error))
          return malformed(offset, "NLMSG_ERROR code " + std::to_string(err.error) + " is no negative errno");
        return Error(-err.error, "the kernel refused the neighbour dump");
      }
      case NLMSG_NOOP:
        break;
      case RTM_NEWNEIGH: {
        NeighbourEntry e;
        auto decoded = decode_neighbour(nlh, left, offset, e);
        if (!decoded) return decoded.error();
        if (*decoded && !interrupted_) entries_.push_back(std::move(e));
        break;
      }
      default:
        return malformed(offset, "unexpected type " + std::to_string(nlh->nlmsg_type));
    }
    nlh = mnl_nlmsg_next(nlh, &left);
  }
  // The last message may lack its alignment padding (left < 0); more than
  // that is a message cut short.
  if (left > 0)
    return Error(EBADMSG, "truncated netlink message: " + std::to_string(left) + " bytes left at offset " +
                              std::to_string(datagram.size() - static_cast<size_t>(left)));
  return false;
}

}  // namespace tcpreap
