#pragma once
// Learning where a local TCP socket stands - its snd_nxt and rcv_nxt - with
// nothing but packets, for sockets tcpreap does not own (the "killcx" step):
//  1. capture (AF_PACKET, classic BPF) what the socket sends to its peer;
//  2. send it a SYN spoofed from the peer (raw socket): a synchronized
//     socket answers with an RFC 5961 challenge ACK, seq = snd_nxt and
//     ack = rcv_nxt (any other segment it sends carries the same and serves
//     as well).
// A SYN-ACK answer means a listener, not an established socket, has the
// 4-tuple: the embryo our SYN made is reset at once. An RST answer means no
// socket has it. An on-link peer whose neighbour entry is unresolved
// swallows the answer before any device sees it: after the first
// unanswered SYN the neighbour is pinned (NeighbourPins) and asked again.
//
// What comes next is the caller's: an RST at rcv_nxt resets the socket
// (RstInjector), a segment at snd_nxt - 1 probes the peer (LivenessProber).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "net/tcp_socket.h"
#include "wire/neighbour_pins.h"
#include "wire/packet_capture.h"
#include "wire/raw_sender.h"
#include "wire/tcp_packet.h"

namespace tcpreap {

struct ChallengeOptions {
  // SYNs per socket before it is reported kNoAnswer.
  int attempts = 4;
  // Between two SYNs to one socket. Must exceed net.ipv4.tcp_invalid_ratelimit
  // (500 ms): a socket sends at most one challenge ACK per 500 ms, and any
  // out-of-window ACK it sends counts against that too.
  std::chrono::milliseconds retry_after{600};
  // How long to wait for an answer to a SYN before deciding the neighbour
  // may be the reason (see pin_neighbour), and after the last SYN before
  // giving up. An answer arriving later, before the next SYN, still counts.
  std::chrono::milliseconds answer_timeout{250};
  // When the first SYN draws no answer and the peer (or its gateway) has an
  // unresolved neighbour entry (absent, INCOMPLETE or FAILED) on the
  // interface of the route to it: add a temporary NUD_STALE entry with a
  // null link-layer address (needs CAP_NET_ADMIN; see neighbour_pins.h) and
  // ask again; the caller deletes the entry once no socket needs it. A
  // valid entry is never replaced.
  bool pin_neighbour = true;
};

enum class ChallengeAnswer : uint8_t {
  kAck,       // an ACK answered: `segment` holds seq = snd_nxt, ack = rcv_nxt
  kRst,       // an RST answered: no socket has this 4-tuple any more
  kSynAck,    // a listener's embryo answered, and was reset
  kNoAnswer,  // nothing answered `attempts` SYNs
  kRefused,   // never asked: not a synchronized socket between two IP endpoints of one family
  kFailed,    // a send or the capture failed: `errnum`, `detail`
};

struct Challenge {
  using Clock = std::chrono::steady_clock;

  ChallengeAnswer answer = ChallengeAnswer::kFailed;
  Flow flow;           // the socket's local -> peer direction, as on the wire
  TcpSegment segment;  // the answer, for kAck, kRst, kSynAck
  int syns = 0;        // SYNs sent
  Clock::time_point first_syn{}, last_syn{};
  // A temporary neighbour entry held for this socket: the caller releases
  // it (NeighbourPins::release) once done with the peer.
  std::optional<size_t> pin;
  int errnum = 0;
  std::string detail;  // why (refused, failed, unanswered)
  // What was found of the neighbour, when it was looked at; and, should
  // leaving the capture idle after the call fail, that failure.
  std::string note;
};

// The socket's local -> peer direction as it appears in packets (a
// dual-stack IPv6 socket with an IPv4 peer speaks IPv4); nothing when its
// ends are of two families.
std::optional<Flow> wire_flow(const TcpSocket& s);

// Not thread-safe; uses, and does not own, the capture, the sender and the
// random source (PacketResources::learner() hands one out). Each learn()
// is one CaptureSession: it leaves the capture's program accepting nothing.
class ChallengeAckLearner {
 public:
  ChallengeAckLearner(PacketCapture& capture, RawSender& sender, std::mt19937& rng)
      : capture_(capture), sender_(sender), rng_(rng) {}

  // Asks every socket at once, in one poll loop, and returns one Challenge
  // per socket in the same order. A socket listed twice (same flow) is asked
  // once; its copies carry no pin. `not_before[i]`, when given, is the
  // earliest time for socket i's first SYN. `on_answer(i, c)` is called as
  // soon as socket i's ACK, RST or SYN-ACK arrives, before the others are
  // done: act there while rcv_nxt is fresh. Takes about attempts *
  // retry_after at worst, however many sockets there are.
  using Clock = Challenge::Clock;
  std::vector<Challenge> learn(std::span<const TcpSocket* const> sockets, const ChallengeOptions& options,
                               NeighbourPins& pins, std::span<const Clock::time_point> not_before = {},
                               const std::function<void(size_t, const Challenge&)>& on_answer = {});

 private:
  PacketCapture& capture_;
  RawSender& sender_;
  std::mt19937& rng_;
};

}  // namespace tcpreap
