#pragma once
// The human table of `tcpreap list`, one fixed-width row per socket; over
// several network namespaces (`list -A`, `--netns`), a first column names
// each socket's namespace.

#include <span>
#include <string>

#include "net/tcp_socket.h"
#include "netns/namespace_info.h"

namespace tcpreap {

// With `netns_width` > 0, the header starts with the namespace column
// "Netns", that many characters wide (netns_column_width()).
void append_table_header(std::string& out, size_t netns_width = 0);
// Appends one row and a newline; no allocation once `out` is warm.
void append_table_row(const TcpSocket& s, std::string& out);

// The namespace column's width for these namespaces: the longest name and a
// space, at least the header's.
size_t netns_column_width(std::span<const NamespaceInfo> namespaces);
// The namespace's name padded to `width` (at least one space after it),
// control characters shown as '?': put before append_table_row(). No
// allocation once `out` is warm.
void append_netns_cell(const NamespaceInfo& netns, size_t width, std::string& out);

// "850ms", "12.3s", "4m05s", "2h03m" - the time since the last receive.
void append_duration_ms(uint32_t ms, std::string& out);
// "10.0.0.1:2181", "[fd00::1]:2181".
void append_endpoint(const IpAddress& a, uint16_t port, std::string& out);

}  // namespace tcpreap
