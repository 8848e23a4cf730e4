#pragma once
// Reads the reply to one SOCK_DIAG dump request, datagram by datagram.

#include <cstdint>
#include <span>

#include "core/error.h"
#include "diag/socket_sink.h"
#include "netlink/reply_reader.h"

namespace tcpreap {

class DumpReader {
 public:
  // Replies must carry this sequence number and port id (0 = not checked,
  // as libmnl's mnl_nlmsg_seq_ok/portid_ok decide).
  DumpReader(uint32_t seq, uint32_t portid) : reply_(ReplyReader::dump(seq, portid)) {}

  // Feeds one received datagram (4-byte aligned), passing each socket to
  // `sink`. Returns true once NLMSG_DONE has arrived. After an error the dump
  // is unusable: the caller abandons it (and its socket). Framing errors
  // are ReplyReader's, with no errno.
  //
  // Once a message carries NLM_F_DUMP_INTR the dump is inconsistent: its
  // remaining sockets are read but not delivered, and interrupted() says so.
  Result<bool> feed(std::span<const uint8_t> datagram, SocketSink& sink);

  bool interrupted() const { return reply_.interrupted(); }
  uint64_t sockets() const { return sockets_; }

 private:
  ReplyReader reply_;
  uint64_t sockets_ = 0;
  TcpSocket socket_;  // decoded into, socket after socket
};

}  // namespace tcpreap
