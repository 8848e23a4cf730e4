#pragma once
// One socket as one line of JSON, fields named after the kernel's with units
// in the name. Written by hand: the scan path must not allocate. The values
// are numbers and addresses, and a namespace's name and container, which
// are escaped (a /run/netns file name may hold any byte but '/').

#include <string>

#include "net/tcp_socket.h"
#include "netns/namespace_info.h"

namespace tcpreap {

// Appends the object and a newline to `out`. Fields tcp_info did not carry
// are null. With `netns` (`list -A`, `--netns`), the object ends with
// "netns":{"name":"web-1","id":"net:[4026532]","container":"3f2a9c1b7d0e"}
// (container null when none is known); without it the object is what it
// always was. `out` keeps its capacity between calls: no allocation once warm.
void append_json_line(const TcpSocket& s, std::string& out, const NamespaceInfo* netns = nullptr);

}  // namespace tcpreap
