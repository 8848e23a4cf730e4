#include "diag/dump_reader.h"

#include <libmnl/libmnl.h>
#include <linux/sock_diag.h>

#include <string>

#include "diag/inet_diag_decoder.h"

namespace tcpreap {

namespace {

std::string at(size_t offset) { return "netlink message at offset " + std::to_string(offset); }

// mnl_nlmsg_ok() compares (int)nlmsg_len <= len: a length above INT_MAX
// turns negative and passes (found by tests/fuzz). Check it unsigned too.
bool message_fits(const nlmsghdr* nlh, int left) {
  return mnl_nlmsg_ok(nlh, left) && nlh->nlmsg_len <= static_cast<uint32_t>(left);
}

// The kernel reports -errno, and errnos end at MAX_ERRNO (4095).
bool is_errno(int negative) { return negative < 0 && negative >= -4095; }

}  // namespace

Result<bool> DumpReader::feed(std::span<const uint8_t> datagram, SocketSink& sink) {
  int left = static_cast<int>(datagram.size());
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(datagram.data());
  while (message_fits(nlh, left)) {
    const size_t offset = datagram.size() - static_cast<size_t>(left);
    if (!mnl_nlmsg_portid_ok(nlh, portid_))
      return Error(0, at(offset) + " is for port id " + std::to_string(nlh->nlmsg_pid) + ", ours is " +
                          std::to_string(portid_));
    if (!mnl_nlmsg_seq_ok(nlh, seq_))
      return Error(0, at(offset) + " has sequence number " + std::to_string(nlh->nlmsg_seq) +
                          ", the dump's is " + std::to_string(seq_));
    if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) interrupted_ = true;

    const std::span<const uint8_t> payload(static_cast<const uint8_t*>(mnl_nlmsg_get_payload(nlh)),
                                           nlh->nlmsg_len - MNL_NLMSG_HDRLEN);
    switch (nlh->nlmsg_type) {
      case NLMSG_DONE: {
        // A dump's DONE carries the dump's final status (netlink_dump_done).
        int status = 0;
        if (payload.size() < sizeof status)
          return Error(0, at(offset) + ": NLMSG_DONE of " + std::to_string(nlh->nlmsg_len) +
                              " bytes has no status");
        std::memcpy(&status, payload.data(), sizeof status);
        if (status < 0) {
          if (!is_errno(status))
            return Error(0, at(offset) + ": NLMSG_DONE status " + std::to_string(status) + " is no errno");
          return Error(-status, "the kernel ended the dump with an error");
        }
        return true;
      }
      case NLMSG_ERROR: {
        nlmsgerr err;
        if (payload.size() < sizeof err)
          return Error(0, at(offset) + ": NLMSG_ERROR of " + std::to_string(nlh->nlmsg_len) +
                              " bytes is truncated");
        std::memcpy(&err, payload.data(), sizeof err);
        if (err.error == 0) return Error(0, at(offset) + ": unexpected ACK in a dump");
        if (!is_errno(err.error))
          return Error(0, at(offset) + ": NLMSG_ERROR code " + std::to_string(err.error) + " is no negative errno");
        return Error(-err.error, "the kernel refused the dump");
      }
      case NLMSG_NOOP:
        break;
      case SOCK_DIAG_BY_FAMILY: {
        if (interrupted_) break;  // an inconsistent dump: its rest is drained, not used
        if (auto decoded = decode_inet_diag(payload, socket_); !decoded) return decoded.error().wrap(at(offset));
        ++sockets_;
        sink.on_socket(socket_);
        break;
      }
      default:
        return Error(0, at(offset) + " has unexpected type " + std::to_string(nlh->nlmsg_type));
    }
    nlh = mnl_nlmsg_next(nlh, &left);
  }
  // The last message may lack its alignment padding (left < 0); more than
  // that is a message cut short.
  if (left > 0)
    return Error(0, "truncated netlink message: " + std::to_string(left) + " bytes left at offset " +
                        std::to_string(datagram.size() - static_cast<size_t>(left)));
  return false;
}

}  // namespace tcpreap
