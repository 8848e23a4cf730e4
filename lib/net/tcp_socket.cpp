#include "net/tcp_socket.h"

#include <algorithm>

namespace tcpreap {

std::optional<uint32_t> TcpInfo::last_recv_ms() const {
  if (last_data_recv_ms && last_ack_recv_ms) return std::min(*last_data_recv_ms, *last_ack_recv_ms);
  return last_data_recv_ms ? last_data_recv_ms : last_ack_recv_ms;
}

}  // namespace tcpreap
