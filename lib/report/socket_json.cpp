#include "report/socket_json.h"

#include <charconv>
#include <string_view>

#include "net/tcp_state.h"

namespace tcpreap {

namespace {

void put_number(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void field(std::string& out, const char* name, uint64_t v) {
  out += ",\"";
  out += name;
  out += "\":";
  put_number(out, v);
}

template <typename T>
void field(std::string& out, const char* name, const std::optional<T>& v) {
  if (v) return field(out, name, static_cast<uint64_t>(*v));
  out += ",\"";
  out += name;
  out += "\":null";
}

void address(std::string& out, const char* name, const IpAddress& a) {
  char buf[IpAddress::kMaxText];
  out += ",\"";
  out += name;
  out += "\":\"";
  out.append(buf, a.format(buf));
  out += '"';
}

// `text` as a JSON string: quotes, backslashes and control characters
// escaped; other bytes as they are.
void string_value(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

void netns_field(std::string& out, const NamespaceInfo& n) {
  out += ",\"netns\":{\"name\":";
  string_value(out, n.name);
  out += ",\"id\":\"net:[";
  put_number(out, n.id.ino);
  out += "]\",\"container\":";
  if (n.container.empty())
    out += "null";
  else
    string_value(out, n.container);
  out += '}';
}

}  // namespace

void append_json_line(const TcpSocket& s, std::string& out, const NamespaceInfo* netns) {
  out += "{\"family\":\"";
  out += family_name(s.family);
  out += "\",\"state\":\"";
  out += state_label(s.state);
  out += '"';
  address(out, "local_address", s.local);
  field(out, "local_port", s.local_port);
  address(out, "remote_address", s.remote);
  field(out, "remote_port", s.remote_port);
  field(out, "interface", s.interface);
  field(out, "uid", s.uid);
  field(out, "inode", s.inode);
  field(out, "cookie", s.cookie);
  field(out, "recv_q", s.recv_queue);
  field(out, "send_q", s.send_queue);
  field(out, "timer", s.timer);
  field(out, "timer_expires_ms", s.timer_expires_ms);
  const TcpInfo none;
  const TcpInfo& ti = s.info ? *s.info : none;
  field(out, "last_recv_ms", ti.last_recv_ms());
  field(out, "last_data_recv_ms", ti.last_data_recv_ms);
  field(out, "last_ack_recv_ms", ti.last_ack_recv_ms);
  field(out, "last_data_sent_ms", ti.last_data_sent_ms);
  field(out, "unacked", ti.unacked);
  field(out, "retransmits", ti.retransmits);
  field(out, "backoff", ti.backoff);
  field(out, "probes", ti.probes);
  field(out, "total_retrans", ti.total_retrans);
  field(out, "rto_us", ti.rto_us);
  field(out, "rtt_us", ti.rtt_us);
  if (netns) netns_field(out, *netns);
  out += "}\n";
}

}  // namespace tcpreap
