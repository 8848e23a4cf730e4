#pragma once
// SOCK_DESTROY over NETLINK_SOCK_DIAG: the kernel aborts the socket (its
// owner gets ECONNABORTED) and sends the peer an RST. Requests name the
// dumped inet_diag_sockid verbatim, cookie included, so a recycled 4-tuple
// is never hit. Many requests go in one sendmsg; every answer is read.
//
// Every socket gets an outcome, whatever happens to the netlink socket:
// answers already read stand; after a transport error (a failed send,
// ENOBUFS, a malformed answer) the netlink socket is replaced, which also
// discards whatever answers it still held, and a socket whose answer was
// lost is looked up (SocketPresence) instead of being called failed.
//
// Uses its own netlink socket, never the scanner's: a dump in progress and
// destroy answers must not share a receive queue. Not thread-safe.

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "diag/socket_presence.h"
#include "net/tcp_socket.h"
#include "netlink/netlink_transport.h"
#include "netns/socket_maker.h"
#include "reap/reap_outcome.h"

namespace tcpreap {

class SocketDestroyer {
 public:
  using TransportOpener = std::function<Result<std::unique_ptr<NetlinkTransport>>()>;

  // Requests per sendmsg: one ACK per batch, errors for each failure
  // (~0.07 s for 10 000 sockets against ~0.15 s one by one, kernel-notes).
  static constexpr size_t kBatch = 256;

  // A NETLINK_SOCK_DIAG socket in the maker's network namespace
  // (SOCK_DESTROY reaches only that namespace's sockets), its receive buffer
  // sized for a batch of error answers, and a DiagLookup of that namespace.
  // Replacement sockets (of both) are made by copies of `maker`, in the
  // same namespace, whatever thread replaces them.
  static Result<SocketDestroyer> open(const SocketMaker& maker = SocketMaker::here());
  // `opener` makes the netlink socket, now and after every transport error;
  // `lookup` settles lost answers (nullptr: such sockets fail, unsettled).
  static Result<SocketDestroyer> open(TransportOpener opener, std::unique_ptr<SocketPresence> lookup);
  // For tests wrapping one transport: it is never replaced (after a
  // transport error the sockets of later calls fail, saying so) and lost
  // answers are not looked up.
  explicit SocketDestroyer(std::unique_ptr<NetlinkTransport> transport);

  // One outcome per socket, in order, each via = kDestroy:
  //   done; already-gone (ENOENT); unsupported (EOPNOTSUPP: a kernel without
  //   CONFIG_INET_DIAG_DESTROY); not-permitted (EPERM: CAP_NET_ADMIN missing
  //   in the socket's namespace); failed (any other errno, in `detail`).
  // After transport trouble:
  //   failed           the request was never sent (the send failed, or no
  //                    netlink socket could be opened): errnum says why;
  //   done / failed    its answer was lost: a lookup no longer finds the
  //                    socket (done), or still does (failed); `detail` says
  //                    the answer was lost and what the lookup found.
  std::vector<ReapOutcome> destroy(std::span<const TcpSocket> sockets);

 private:
  SocketDestroyer(TransportOpener opener, std::unique_ptr<NetlinkTransport> transport,
                  std::unique_ptr<SocketPresence> lookup);
  void destroy_batch(std::span<const TcpSocket> batch, std::span<ReapOutcome> out);
  // Reads the batch's answers into `errors` (errno per request, nullopt when
  // unanswered) until the last request's answer; an Error if the socket
  // failed first.
  Status read_answers(uint32_t first_seq, std::vector<std::optional<int>>& errors);
  void settle_lost(std::span<const TcpSocket> batch, const std::vector<std::optional<int>>& errors,
                   const Error& why, std::span<ReapOutcome> out);

  TransportOpener opener_;  // empty: the transport is never replaced
  std::unique_ptr<NetlinkTransport> transport_;  // null after a transport error
  std::unique_ptr<SocketPresence> lookup_;       // may be null
  std::vector<uint8_t> request_;
  std::vector<uint8_t> receive_buffer_;
  uint32_t seq_;
};

}  // namespace tcpreap
