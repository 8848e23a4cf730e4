#pragma once
// The human table of `tcpreap list`, one fixed-width row per socket.

#include <string>

#include "net/tcp_socket.h"

namespace tcpreap {

void append_table_header(std::string& out);
// Appends one row and a newline; no allocation once `out` is warm.
void append_table_row(const TcpSocket& s, std::string& out);

// "850ms", "12.3s", "4m05s", "2h03m" - the time since the last receive.
void append_duration_ms(uint32_t ms, std::string& out);
// "10.0.0.1:2181", "[fd00::1]:2181".
void append_endpoint(const IpAddress& a, uint16_t port, std::string& out);

}  // namespace tcpreap
