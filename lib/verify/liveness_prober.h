#pragma once
// Asking a silent peer whether it is still there, as kernel keepalive does,
// for sockets tcpreap does not own:
//  1. learn the socket's snd_nxt and rcv_nxt from a challenge ACK
//     (ChallengeAckLearner: the same step as RST injection);
//  2. send, as the local endpoint, a bare ACK to the peer with seq =
//     snd_nxt - 1 and ack = rcv_nxt: a sequence number just below the
//     peer's window, which a live peer answers with an ACK (tcp_send_dupack;
//     at most one per 500 ms per socket, net.ipv4.tcp_invalid_ratelimit)
//     that refreshes the socket's last_ack_recv. A peer that lost the
//     connection (rebooted) answers RST, which the kernel applies to the
//     socket itself. A dead peer answers nothing.
//  3. watch for those answers for a short window.
// Nothing here decides: a probe with no answer in the window is kSent, and
// the scans that follow (DecisionEngine) still see an answer that came later.
// Only the peer is asked; the local socket is never reset or changed.

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "net/tcp_socket.h"
#include "netns/socket_maker.h"
#include "verify/probe_outcome.h"
#include "wire/challenge_ack.h"

namespace tcpreap {

struct ProbeOptions {
  ChallengeOptions challenge;
  // How long to watch for the peers' answers once the probes are out. A
  // live peer on a LAN answers within a millisecond; a later answer is
  // still seen by the next scan.
  std::chrono::milliseconds answer_window{300};
};

// Not thread-safe: one probe() at a time. Movable.
class LivenessProber {
 public:
  // Opens the packet resources (PacketResources::open(): the capture and
  // raw senders, CAP_NET_RAW; a route netlink socket to pin neighbours,
  // CAP_NET_ADMIN, after deleting the pins another tcpreap process left) in
  // the maker's network namespace: it probes that namespace's sockets only.
  // open_note() says if the sweep removed pins, or failed to. EPERM -> an
  // Error whose message names CAP_NET_RAW.
  static Result<LivenessProber> open(const SocketMaker& maker = SocketMaker::here());

  LivenessProber(LivenessProber&&) noexcept;
  LivenessProber& operator=(LivenessProber&&) noexcept;
  ~LivenessProber();

  // Probes the peer of every socket at once; one outcome per socket, in
  // order. Takes the answer window plus, for a socket that does not answer
  // its SYNs at once, up to attempts * retry_after.
  std::vector<ProbeOutcome> probe(std::span<const TcpSocket> sockets, const ProbeOptions& options = {});

  // What open() did worth saying (PinSweep::note()): "" when nothing.
  const std::string& open_note() const;

 private:
  struct Impl;
  explicit LivenessProber(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The probe for a socket whose challenge ACK was `answer`: from the local
// end (`flow`) to the peer, seq = snd_nxt - 1, ack = rcv_nxt, the window
// the socket advertised, no options, no payload.
TcpSegment liveness_probe(const Flow& flow, const TcpSegment& answer);

}  // namespace tcpreap
