#pragma once

#include "net/tcp_socket.h"

namespace tcpreap {

// Receives the sockets of a scan as they are decoded. The TcpSocket reference
// is valid only during the call: copy what you keep.
class SocketSink {
 public:
  virtual ~SocketSink() = default;
  virtual void on_socket(const TcpSocket& socket) = 0;
  // The kernel flagged the dump inconsistent (NLM_F_DUMP_INTR) and the scan
  // starts over: forget every socket delivered since the scan began.
  virtual void on_restart() {}
};

}  // namespace tcpreap
