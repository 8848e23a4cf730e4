#pragma once
// Capturing the segments local sockets send (challenge ACKs) or receive
// (answers to liveness probes): an
// AF_PACKET SOCK_DGRAM socket on every interface of the namespace ("cooked":
// frames start at the IP header whatever the link type) with a classic BPF
// program (capture_program.h) that lets through only the segments being
// waited for. CaptureSession (capture_session.h) is the one way to use it.

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "core/error.h"
#include "core/unique_fd.h"
#include "netns/socket_maker.h"

namespace tcpreap {

struct CapturedFrame {
  size_t size = 0;        // bytes stored in the caller's buffer
  size_t wire_size = 0;   // bytes the program kept (more than size: the buffer was short)
  int ifindex = 0;        // the interface it was seen on
  uint8_t pkttype = 0;    // PACKET_OUTGOING, PACKET_HOST, ...
};

// An AF_PACKET capture on all interfaces of the network namespace it was
// made in (the maker's). Not thread-safe.
class PacketCapture {
 public:
  // Opens the socket with a program that accepts nothing, then binds it to
  // every protocol (ETH_P_ALL) on every interface: no frame is queued that a
  // program did not accept. Needs CAP_NET_RAW (EPERM otherwise, said so in
  // the error). Non-blocking. The socket is made in the maker's network
  // namespace and sees that namespace's interfaces only.
  static Result<PacketCapture> open(const SocketMaker& maker = SocketMaker::here());

  // Wraps `fd` as it is: nothing attached, nothing bound. open() is the way
  // to capture; this lets a test feed a CaptureSession through a socket of
  // its own (or fail it with a descriptor that is no socket).
  explicit PacketCapture(UniqueFd fd) : fd_(std::move(fd)) {}

  // Replaces the program. Frames the previous program accepted and nobody
  // read yet are discarded: afterwards next() returns only frames `program`
  // accepted. The kernel checks the program (EINVAL when malformed).
  Status set_program(std::span<const sock_filter> program);

  // The next queued frame, copied into `buffer`; nothing when none is
  // queued (never blocks: poll fd() for POLLIN).
  Result<std::optional<CapturedFrame>> next(std::span<uint8_t> buffer);

  // Frames the kernel dropped since the last call because the socket's
  // receive buffer was full (PACKET_STATISTICS; reading resets it).
  Result<uint32_t> take_drops();

  int fd() const { return fd_.get(); }

 private:
  Status attach(std::span<const sock_filter> program);
  UniqueFd fd_;
};

}  // namespace tcpreap
