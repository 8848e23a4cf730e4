#pragma once
// The seam between the netlink protocol code and the kernel: send a request,
// receive a datagram. NetlinkSocket is the real one; tests wrap or replay.

#include <cstdint>
#include <span>

#include "core/error.h"

namespace tcpreap {

class NetlinkTransport {
 public:
  virtual ~NetlinkTransport() = default;
  // The port id the kernel addresses replies to.
  virtual uint32_t portid() const = 0;
  // Sends one or more netlink messages in one datagram.
  virtual Status send(std::span<const uint8_t> messages) = 0;
  // Receives one datagram into `buffer` and returns its size. A datagram
  // larger than the buffer is an error, never silently cut.
  virtual Result<size_t> receive(std::span<uint8_t> buffer) = 0;
};

}  // namespace tcpreap
