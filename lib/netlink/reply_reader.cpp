#include "netlink/reply_reader.h"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include <algorithm>
#include <cstring>

namespace tcpreap {

namespace {

// The kernel reports -errno, and errnos end at MAX_ERRNO (4095). Checked
// before negating: -INT_MIN is undefined (found by tests/fuzz).
bool is_errno(int negative) { return negative < 0 && negative >= -4095; }

}  // namespace

std::string ReplyMessage::where() const { return "netlink message at offset " + std::to_string(offset); }

ReplyReader ReplyReader::dump(uint32_t seq, uint32_t portid, ReplyErrnos errnos) {
  return ReplyReader(Shape::kDump, seq, 1, portid, errnos);
}

ReplyReader ReplyReader::answers(uint32_t first_seq, uint32_t count, uint32_t portid, ReplyErrnos errnos) {
  return ReplyReader(Shape::kAnswers, first_seq, count, portid, errnos);
}

void ReplyReader::start(std::span<const uint8_t> datagram) {
  datagram_ = datagram;
  offset_ = 0;
}

bool ReplyReader::ours(uint32_t seq) const {
  if (shape_ == Shape::kDump) return first_seq_ == 0 || seq == 0 || seq == first_seq_;  // mnl_nlmsg_seq_ok()
  // Unsigned: an earlier request's number (or one from before a wrap)
  // lands far beyond the window.
  return seq - first_seq_ < count_;
}

Result<std::optional<ReplyMessage>> ReplyReader::next() {
  if (datagram_.empty()) return Error(errnos_.malformed, "an empty datagram");
  while (offset_ < datagram_.size()) {
    ReplyMessage m;
    m.offset = offset_;
    m.room = datagram_.size() - offset_;
    // Sizes in size_t: libmnl's mnl_nlmsg_ok() compares (int)nlmsg_len, so
    // a length above INT_MAX would pass it (found by tests/fuzz).
    nlmsghdr h{};
    if (m.room >= sizeof h) std::memcpy(&h, datagram_.data() + offset_, sizeof h);
    if (m.room < sizeof h || h.nlmsg_len < sizeof h || h.nlmsg_len > m.room)
      return Error(errnos_.malformed, "truncated netlink message: " + std::to_string(m.room) +
                                          " bytes left at offset " + std::to_string(m.offset));
    m.type = h.nlmsg_type;
    m.flags = h.nlmsg_flags;
    m.seq = h.nlmsg_seq;
    m.message = datagram_.subspan(offset_, h.nlmsg_len);
    m.payload = m.message.subspan(NLMSG_HDRLEN);
    // The last message may lack its alignment padding.
    offset_ += std::min<size_t>(NLMSG_ALIGN(static_cast<size_t>(h.nlmsg_len)), m.room);

    if (!mnl_nlmsg_portid_ok(&h, portid_))
      return Error(errnos_.foreign, m.where() + " is for port id " + std::to_string(h.nlmsg_pid) + ", ours is " +
                                        std::to_string(portid_));
    if (!ours(h.nlmsg_seq)) {
      if (shape_ == Shape::kAnswers) continue;
      return Error(errnos_.foreign, m.where() + " has sequence number " + std::to_string(h.nlmsg_seq) +
                                        ", the dump's is " + std::to_string(first_seq_));
    }
    if (h.nlmsg_flags & NLM_F_DUMP_INTR) interrupted_ = true;

    switch (h.nlmsg_type) {
      case NLMSG_NOOP:
        continue;
      case NLMSG_DONE: {
        // A dump's DONE carries the dump's final status (netlink_dump_done()).
        int status = 0;
        if (m.payload.size() < sizeof status)
          return Error(errnos_.malformed,
                       m.where() + ": NLMSG_DONE of " + std::to_string(h.nlmsg_len) + " bytes has no status");
        std::memcpy(&status, m.payload.data(), sizeof status);
        if (status < 0 && !is_errno(status))
          return Error(errnos_.malformed, m.where() + ": NLMSG_DONE status " + std::to_string(status) + " is no errno");
        m.kind = ReplyMessage::Kind::kDone;
        m.errnum = status < 0 ? -status : 0;
        return std::optional(m);
      }
      case NLMSG_ERROR: {
        // At least the error code and the request's header (NETLINK_CAP_ACK
        // leaves out the rest of the request).
        nlmsgerr err;
        if (m.payload.size() < sizeof err)
          return Error(errnos_.malformed,
                       m.where() + ": NLMSG_ERROR of " + std::to_string(h.nlmsg_len) + " bytes is truncated");
        std::memcpy(&err, m.payload.data(), sizeof err);
        if (err.error == 0) {
          if (shape_ == Shape::kDump) return Error(errnos_.malformed, m.where() + ": unexpected ACK in a dump");
          m.kind = ReplyMessage::Kind::kAck;
          return std::optional(m);
        }
        if (!is_errno(err.error))
          return Error(errnos_.malformed,
                       m.where() + ": NLMSG_ERROR code " + std::to_string(err.error) + " is no negative errno");
        m.kind = ReplyMessage::Kind::kError;
        m.errnum = -err.error;
        return std::optional(m);
      }
      default:
        m.kind = ReplyMessage::Kind::kData;
        return std::optional(m);
    }
  }
  return std::optional<ReplyMessage>{};
}

}  // namespace tcpreap
