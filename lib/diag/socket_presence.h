#pragma once
// Which socket holds a TCP 4-tuple right now: the check that lets tcpreap
// act on exactly the socket it decided on, never on a newer connection that
// took its 4-tuple since the scan (before an injected RST, which carries no
// cookie), and settle a SOCK_DESTROY whose answer was lost.
//
// DiagLookup asks the kernel with an exact SOCK_DIAG_BY_FAMILY request (no
// NLM_F_DUMP) naming the 4-tuple: the kernel answers with the socket its own
// lookup finds - the one a segment of that 4-tuple would reach
// (inet_diag_find_one_icsk() -> inet_lookup(): established, SYN-RECV and
// TIME-WAIT sockets first, then a listener) - or ENOENT. Not a dump filtered
// by bytecode to the 4-tuple: however narrow its bytecode, a dump walks the
// whole established hash, which every namespace shares - 3-4 ms a dump on
// an idle 2-CPU machine with 262 144 buckets, against 20-30 us a lookup,
// syscalls included (tests/integration/socket_presence_kernel_test.cpp prints
// both). One check per RST is affordable only as a lookup.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "net/tcp_socket.h"
#include "netlink/netlink_transport.h"
#include "netns/socket_maker.h"

namespace tcpreap {

// What holds one socket's 4-tuple.
struct TupleHolder {
  enum class Kind : uint8_t {
    kNobody,    // no socket at all
    kItself,    // the socket asked about (its cookie)
    kOther,     // another connection: another cookie on the same 4-tuple
    kListener,  // no connection: a segment would reach a listener
  };
  Kind kind = Kind::kNobody;
  uint64_t cookie = 0;  // the holder's (not for kNobody)
  uint8_t state = 0;    // the holder's, kernel numbering (not for kNobody)

  bool itself() const { return kind == Kind::kItself; }
  // For outcome details: "the socket still holds its 4-tuple", "its 4-tuple
  // now belongs to another socket (cookie 77, ESTAB)", "no connection holds
  // its 4-tuple (only a listener)", "no socket holds its 4-tuple".
  std::string describe() const;
  bool operator==(const TupleHolder&) const = default;
};

// The seam: "who holds each of these sockets' 4-tuples now".
class SocketPresence {
 public:
  virtual ~SocketPresence() = default;
  // One answer per socket, in order (decided by cookie: a socket whose
  // cookie holds the 4-tuple is kItself). An Error when looking up failed:
  // then nothing is known of any of them.
  virtual Result<std::vector<TupleHolder>> look(std::span<const TcpSocket* const> sockets) = 0;
};

// The SOCK_DIAG implementation: one exact request per socket, on its own
// netlink socket. Not thread-safe; movable.
class DiagLookup final : public SocketPresence {
 public:
  using TransportOpener = std::function<Result<std::unique_ptr<NetlinkTransport>>()>;

  // A NETLINK_SOCK_DIAG socket in the maker's network namespace: it finds
  // that namespace's sockets only. Its replacements (after an error) are
  // made by a copy of `maker`, in the same namespace.
  static Result<DiagLookup> open(const SocketMaker& maker = SocketMaker::here());
  // For tests: `opener` makes the transport, now and again after an error
  // (an answer half read is never read on: the socket is replaced, wherever
  // `opener` makes it).
  static Result<DiagLookup> open(TransportOpener opener);

  Result<std::vector<TupleHolder>> look(std::span<const TcpSocket* const> sockets) override;

 private:
  DiagLookup(TransportOpener opener, std::unique_ptr<NetlinkTransport> transport);
  Result<TupleHolder> look_one(const TcpSocket& socket);
  Result<TupleHolder> ask(const TcpSocket& socket);

  TransportOpener opener_;
  std::unique_ptr<NetlinkTransport> transport_;
  std::vector<uint8_t> receive_buffer_;
  TcpSocket answer_;  // decoded into, answer after answer
  uint32_t seq_;
};

}  // namespace tcpreap
