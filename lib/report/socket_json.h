#pragma once
// One socket as one line of JSON, fields named after the kernel's with units
// in the name. Written by hand: the values are numbers and addresses, never
// strings that need escaping, and the scan path must not allocate.

#include <string>

#include "net/tcp_socket.h"

namespace tcpreap {

// Appends the object and a newline to `out`. Fields tcp_info did not carry
// are null. `out` keeps its capacity between calls: no allocation once warm.
void append_json_line(const TcpSocket& s, std::string& out);

}  // namespace tcpreap
