// libFuzzer target: a captured frame, as the RST injector's capture reads it.
// parse_segment must refuse or decode any bytes without reading outside them;
// whatever it decodes must build back into a packet that parses the same.

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "wire/tcp_packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> frame(data, data + size);  // exactly `size` bytes: ASan sees any overread
  auto seg = tcpreap::parse_segment(frame);
  if (!seg) return 0;
  tcpreap::TcpSegment bare = *seg;
  bare.payload_len = 0;
  auto packet = tcpreap::build_segment(bare);
  if (!packet) return 0;  // e.g. a v4-mapped pair cannot be rebuilt as one family
  auto again = tcpreap::parse_segment(packet->data());
  if (!again || !(*again == bare)) std::abort();
  return 0;
}
