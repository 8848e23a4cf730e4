// libFuzzer target: the text of /proc/net/sockstat or sockstat6, as
// TcpSocketCount reads it. parse_sockstat_inuse must refuse or read any
// bytes without reading outside them, and a number it reads must be the one
// written after the label: printed back, it parses to itself.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "netns/tcp_socket_count.h"

namespace {

void check(std::string_view text, std::string_view label) {
  const auto value = tcpreap::parse_sockstat_inuse(text, label);
  if (!value) return;
  if (label.empty() || text.find(std::string(label) + " inuse ") == std::string_view::npos) std::abort();
  const std::string line = std::string(label) + " inuse " + std::to_string(*value) + "\n";
  if (tcpreap::parse_sockstat_inuse(line, label) != value) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Exactly `size` bytes on the heap: ASan sees any overread.
  const std::vector<char> bytes(data, data + size);
  const std::string_view text(bytes.data(), bytes.size());
  check(text, "TCP:");
  check(text, "TCP6:");
  // And a label from the input: its first byte says how many bytes follow.
  if (size > 0) {
    const size_t n = std::min<size_t>(data[0] % 8, size - 1);
    check(text.substr(1 + n), text.substr(1, n));
  }
  return 0;
}
