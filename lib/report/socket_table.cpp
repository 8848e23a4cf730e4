#include "report/socket_table.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string_view>

#include "net/tcp_state.h"

namespace tcpreap {

namespace {

constexpr size_t kStateWidth = 11;
constexpr size_t kEndpointWidth = 24;
constexpr std::string_view kNetnsHeader = "Netns";

void pad_to(std::string& out, size_t start, size_t width) {
  size_t used = out.size() - start;
  out.append(used < width ? width - used : 1, ' ');
}

// Right-aligns `text` in `width` columns after a space.
void right(std::string& out, std::string_view text, size_t width) {
  out += ' ';
  if (text.size() < width) out.append(width - text.size(), ' ');
  out += text;
}

template <typename T>
void right_number(std::string& out, const std::optional<T>& v, size_t width) {
  if (!v) return right(out, "-", width);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<uint64_t>(*v));
  right(out, std::string_view(buf, static_cast<size_t>(end - buf)), width);
}

}  // namespace

void append_duration_ms(uint32_t ms, std::string& out) {
  char buf[32];
  int n;
  if (ms < 1000)
    n = std::snprintf(buf, sizeof buf, "%ums", ms);
  else if (ms < 60'000)
    n = std::snprintf(buf, sizeof buf, "%u.%us", ms / 1000, ms % 1000 / 100);
  else if (ms < 3'600'000)
    n = std::snprintf(buf, sizeof buf, "%um%02us", ms / 60'000, ms % 60'000 / 1000);
  else
    n = std::snprintf(buf, sizeof buf, "%uh%02um", ms / 3'600'000, ms % 3'600'000 / 60'000);
  out.append(buf, static_cast<size_t>(n));
}

namespace {

void right_duration(std::string& out, std::optional<uint32_t> v, uint32_t per_ms) {
  if (!v) return right(out, "-", 8);
  std::string text;  // a few bytes: within the small-string buffer, no allocation
  append_duration_ms(*v / per_ms, text);
  right(out, text, 8);
}

}  // namespace

void append_endpoint(const IpAddress& a, uint16_t port, std::string& out) {
  char buf[IpAddress::kMaxText];
  const bool v6 = a.family == Family::kIPv6;
  if (v6) out += '[';
  out.append(buf, a.format(buf));
  if (v6) out += ']';
  out += ':';
  char pbuf[8];
  auto [end, ec] = std::to_chars(pbuf, pbuf + sizeof pbuf, port);
  out.append(pbuf, end);
}

size_t netns_column_width(std::span<const NamespaceInfo> namespaces) {
  size_t width = kNetnsHeader.size() + 1;
  for (const NamespaceInfo& n : namespaces) width = std::max(width, n.name.size() + 1);
  return width;
}

void append_netns_cell(const NamespaceInfo& netns, size_t width, std::string& out) {
  const size_t start = out.size();
  for (char c : netns.name) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
  pad_to(out, start, width);
}

void append_table_header(std::string& out, size_t netns_width) {
  if (netns_width > 0) {
    const size_t start = out.size();
    out += kNetnsHeader;
    pad_to(out, start, netns_width);
  }
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "%-*s%-*s%-*s %8s %7s %7s %7s %6s %8s %7s %7s\n",
                        static_cast<int>(kStateWidth), "State", static_cast<int>(kEndpointWidth), "Local",
                        static_cast<int>(kEndpointWidth - 1), "Remote", "LastRecv", "Unacked", "Retrans",
                        "Backoff", "Probes", "RTO", "Recv-Q", "Send-Q");
  out.append(buf, static_cast<size_t>(n));
}

void append_table_row(const TcpSocket& s, std::string& out) {
  size_t start = out.size();
  out += state_label(s.state);
  pad_to(out, start, kStateWidth);
  start = out.size();
  append_endpoint(s.local, s.local_port, out);
  pad_to(out, start, kEndpointWidth);
  start = out.size();
  append_endpoint(s.remote, s.remote_port, out);
  pad_to(out, start, kEndpointWidth);
  out.pop_back();  // the columns below each bring their own leading space

  const TcpInfo none;
  const TcpInfo& ti = s.info ? *s.info : none;
  right_duration(out, ti.last_recv_ms(), 1);
  right_number(out, ti.unacked, 7);
  right_number(out, ti.retransmits, 7);
  right_number(out, ti.backoff, 7);
  right_number(out, ti.probes, 6);
  right_duration(out, ti.rto_us, 1000);
  right_number(out, std::optional<uint32_t>(s.recv_queue), 7);
  right_number(out, std::optional<uint32_t>(s.send_queue), 7);
  out += '\n';
}

}  // namespace tcpreap
