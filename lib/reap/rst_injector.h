#pragma once
// Resets local TCP sockets by injecting an RST, for when SOCK_DESTROY cannot
// (no CONFIG_INET_DIAG_DESTROY): the "killcx" technique, verified.
//
// For each socket, in the network namespace the injector was opened in:
//  1. look its 4-tuple up (DiagLookup): if the kernel no longer finds the
//     socket decided on (its cookie) there - it closed, and maybe a new
//     connection took the 4-tuple - nothing is sent;
//  2. capture (AF_PACKET, classic BPF) what the socket sends to its peer;
//  3. send it a spoofed SYN from the peer (raw socket): an ESTABLISHED-like
//     socket answers with an RFC 5961 challenge ACK whose ack is rcv_nxt
//     (any other segment it sends carries the same ack and serves as well);
//  4. look it up again, and only if it still holds its 4-tuple send a
//     spoofed RST from the peer with seq = rcv_nxt exactly: the
//     application's next call fails with ECONNRESET;
//  5. look it up until it is gone, and report done only then.
// A SYN and an RST name no socket, only a 4-tuple: the lookups are what
// keeps them off a newer connection on the same 4-tuple.
// A SYN-ACK answer means a listener, not an established socket, has the
// 4-tuple (the socket closed after the lookup): its embryo is reset and the
// socket reported not-established. An RST answer means no socket at all. An on-link peer whose neighbour entry
// failed swallows the challenge ACK before any device sees it: the injector
// then pins a temporary neighbour entry (NeighbourPins: removed before
// reset() returns, and reverting by itself should the process die) and asks
// again.
//
// The peer is not told anything: only the local end is reset (SOCK_DESTROY
// resets both).

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "net/tcp_socket.h"
#include "netns/socket_maker.h"
#include "reap/reap_outcome.h"
#include "wire/challenge_ack.h"

namespace tcpreap {

// What a reset can be told is how to learn rcv_nxt: the challenge-ACK
// options (SYNs per socket, their spacing, the answer timeout, neighbour
// pins).
using RstOptions = ChallengeOptions;

// Not thread-safe: one reset() at a time. Movable.
class RstInjector {
 public:
  // Opens the packet resources (PacketResources::open(): the capture and
  // raw senders, CAP_NET_RAW; a route netlink socket for neighbour entries,
  // after deleting the pins another tcpreap process left) and SOCK_DIAG
  // sockets (to look sockets up, reopened by a copy of `maker`), all in the
  // maker's network namespace: the injector only ever reaches that
  // namespace's sockets.
  // open_note() says if the sweep removed pins, or failed to.
  // EPERM -> an Error whose message names CAP_NET_RAW.
  static Result<RstInjector> open(const SocketMaker& maker = SocketMaker::here());

  RstInjector(RstInjector&&) noexcept;
  RstInjector& operator=(RstInjector&&) noexcept;
  ~RstInjector();

  // Resets every socket of `sockets` (as dumped: ESTABLISHED, CLOSE-WAIT,
  // FIN-WAIT-1/2, CLOSING, LAST-ACK) and returns one outcome per socket, in
  // the same order, via ReapVia::kRst:
  //   kDone            an RST at rcv_nxt was sent while a lookup found the
  //                    socket (its cookie) holding its 4-tuple, and a lookup
  //                    after no longer finds it;
  //   kAlreadyGone     before the first SYN or before the RST, a lookup
  //                    found another socket or none on its 4-tuple (or the
  //                    socket itself closed): nothing more was sent; or an
  //                    RST answered the SYN and a lookup agrees;
  //   kNotEstablished  a SYN-ACK answered (a listener made an embryo, which
  //                    was reset); the listener is untouched;
  //   kNoAnswer        nothing answered `attempts` SYNs;
  //   kFailed          refused (LISTEN, TIME-WAIT, SYN-RECV, ... are never
  //                    touched), a send failed, or the socket outlived its
  //                    RSTs; `detail` and `errnum` say which.
  // All sockets are worked on at once in one poll loop: the call takes about
  // attempts * retry_after at worst, however many sockets there are. A socket
  // listed twice is worked on once and reported twice.
  std::vector<ReapOutcome> reset(std::span<const TcpSocket> sockets, const RstOptions& options = {});

  // What open() did worth saying (PinSweep::note()): "" when nothing.
  const std::string& open_note() const;

 private:
  struct Impl;
  explicit RstInjector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tcpreap
