#pragma once
// The packet tools RST injection and liveness probing both work with, opened
// one way: the AF_PACKET capture, the raw senders, a route netlink socket
// for neighbour pins, and the random source of the SYNs' sequence numbers.

#include <optional>
#include <random>
#include <string>
#include <utility>

#include "core/error.h"
#include "netlink/route_netlink.h"
#include "wire/challenge_ack.h"
#include "wire/neighbour_pins.h"
#include "wire/packet_capture.h"
#include "wire/raw_sender.h"

namespace tcpreap {

// Not thread-safe. Movable, but the learner and the pins it hands out borrow
// its members: do not move it while they live.
class PacketResources {
 public:
  // Opens the capture and the raw senders (CAP_NET_RAW: EPERM -> an Error
  // whose message names it) in the maker's network namespace, and a route
  // netlink socket there. Without the latter everything works but
  // pinning neighbours (pins() says why to each caller); with it, first
  // deletes the neighbour entries another tcpreap process pinned in the
  // namespace (sweep_left_pins()): open_note() says if it did, or failed to.
  static Result<PacketResources> open(const SocketMaker& maker = SocketMaker::here());

  // A learner over this capture, sender and random source.
  ChallengeAckLearner learner() { return ChallengeAckLearner(capture_, sender_, rng_); }
  // No pins yet, over the route netlink socket (or none, saying why).
  NeighbourPins pins() { return NeighbourPins(rtnl_ ? &*rtnl_ : nullptr, rtnl_error_); }

  PacketCapture& capture() { return capture_; }
  RawSender& sender() { return sender_; }

  // What open() did worth saying (PinSweep::note()): "" when nothing.
  const std::string& open_note() const { return open_note_; }

 private:
  PacketResources(PacketCapture capture, RawSender sender)
      : capture_(std::move(capture)), sender_(std::move(sender)), rng_(std::random_device{}()) {}

  PacketCapture capture_;
  RawSender sender_;
  std::optional<RouteNetlink> rtnl_;  // absent: neighbours cannot be pinned,
  std::string rtnl_error_;            // and this says why
  std::mt19937 rng_;
  std::string open_note_;
};

}  // namespace tcpreap
