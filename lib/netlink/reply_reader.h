#pragma once
// Walks the reply to a netlink request, datagram by datagram: the one place
// that checks a reply's framing and its control messages, whoever reads it
// (socket dumps, neighbour dumps, SOCK_DESTROY answers, lookups, rtnetlink).
//
// Each message must fit what is left of its datagram (nlmsg_len at least a
// header, at most what remains; only the last may lack its alignment
// padding) and be for our port id; its sequence number says whether it is
// ours. NLMSG_ERROR and NLMSG_DONE are checked and decoded here, NLMSG_NOOP
// is skipped, NLM_F_DUMP_INTR is remembered. Every other message is the
// caller's to decode from its payload.
//
// Allocates nothing but its errors. Not thread-safe.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/error.h"

namespace tcpreap {

// One message of ours, its framing checked.
struct ReplyMessage {
  enum class Kind : uint8_t {
    kData,   // neither NLMSG_ERROR nor NLMSG_DONE: `type` says what the payload is
    kError,  // NLMSG_ERROR: the kernel refused the request with `errnum` (> 0)
    kAck,    // NLMSG_ERROR with error 0: the request succeeded (never in a dump)
    kDone,   // NLMSG_DONE: the dump ended, with `errnum` (0: complete)
  };
  Kind kind = Kind::kData;
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t seq = 0;
  int errnum = 0;
  size_t offset = 0;                 // where the message starts in its datagram
  std::span<const uint8_t> message;  // header and payload: nlmsg_len bytes, as aligned as the datagram
  std::span<const uint8_t> payload;  // the bytes after the header
  size_t room = 0;                   // bytes from the message's start to the datagram's end

  // "netlink message at offset N": how every error about it begins.
  std::string where() const;
};

// The errnos a ReplyReader's own errors carry. By default none: core/error.h
// reports malformed input with errnum 0. The rtnetlink code says EBADMSG for
// a malformed reply and EPROTO for one meant for another request or socket,
// as its libmnl callbacks do.
struct ReplyErrnos {
  int malformed = 0;
  int foreign = 0;
};
inline constexpr ReplyErrnos kRtnetlinkErrnos{EBADMSG, EPROTO};

class ReplyReader {
 public:
  // The reply to a dump (NLM_F_DUMP) of sequence number `seq`, to port id
  // `portid` (0 on either side: not checked, as libmnl's mnl_nlmsg_seq_ok
  // and mnl_nlmsg_portid_ok decide). A message of another sequence number
  // is an error, and so is an ACK: a dump ends with NLMSG_DONE.
  static ReplyReader dump(uint32_t seq, uint32_t portid, ReplyErrnos errnos = {});
  // The answers to `count` requests sent in order with sequence numbers
  // first_seq, first_seq + 1, ... (wrapping), to port id `portid` (checked
  // as for a dump). A message of any other sequence number answers an
  // earlier request: it is skipped, unread.
  static ReplyReader answers(uint32_t first_seq, uint32_t count, uint32_t portid, ReplyErrnos errnos = {});

  // Starts on one received datagram, which must stay alive (and unchanged)
  // while its messages are used.
  void start(std::span<const uint8_t> datagram);

  // The datagram's next message of ours; nullopt once the datagram is read
  // to its end. An Error (naming the offset and the numbers at fault) for
  // an empty datagram, a message cut short or shorter than its header, one
  // for another port id, one of another sequence number in a dump, an
  // NLMSG_ERROR or NLMSG_DONE too short for its error code, an error code
  // that is no errno, or an ACK in a dump. After an Error the reply is
  // unusable: the caller abandons it, and its socket.
  Result<std::optional<ReplyMessage>> next();

  // Whether a message of ours carried NLM_F_DUMP_INTR: the dump is
  // inconsistent, to be done again. Stays set for the rest of the reply.
  bool interrupted() const { return interrupted_; }

 private:
  enum class Shape : uint8_t { kDump, kAnswers };
  ReplyReader(Shape shape, uint32_t first_seq, uint32_t count, uint32_t portid, ReplyErrnos errnos)
      : shape_(shape), first_seq_(first_seq), count_(count), portid_(portid), errnos_(errnos) {}
  bool ours(uint32_t seq) const;

  Shape shape_;
  uint32_t first_seq_;
  uint32_t count_;  // answers only
  uint32_t portid_;
  ReplyErrnos errnos_;
  bool interrupted_ = false;
  std::span<const uint8_t> datagram_;
  size_t offset_ = 0;
};

}  // namespace tcpreap
