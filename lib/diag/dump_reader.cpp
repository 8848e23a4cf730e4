#include "diag/dump_reader.h"

#include <linux/sock_diag.h>

#include <string>

#include "diag/inet_diag_decoder.h"

namespace tcpreap {

Result<bool> DumpReader::feed(std::span<const uint8_t> datagram, SocketSink& sink) {
  reply_.start(datagram);
  while (true) {
    auto next = reply_.next();
    if (!next) return next.error();
    if (!*next) return false;
    const ReplyMessage& m = **next;
    if (m.kind == ReplyMessage::Kind::kDone) {
      if (m.errnum != 0) return Error(m.errnum, "the kernel ended the dump with an error");
      return true;
    }
    if (m.kind == ReplyMessage::Kind::kError) return Error(m.errnum, "the kernel refused the dump");
    if (m.kind != ReplyMessage::Kind::kData || m.type != SOCK_DIAG_BY_FAMILY)
      return Error(0, m.where() + " has unexpected type " + std::to_string(m.type));
    if (reply_.interrupted()) continue;  // an inconsistent dump: its rest is drained, not used
    if (auto decoded = decode_inet_diag(m.payload, socket_); !decoded) return decoded.error().wrap(m.where());
    ++sockets_;
    sink.on_socket(socket_);
  }
}

}  // namespace tcpreap
