// libFuzzer target: a received datagram, as the neighbour dump reader sees
// it (the sweep of pins left by a dead tcpreap). Whatever the bytes, it must
// return an error or entries - never crash, read out of bounds, or loop.

#include <cstdint>
#include <vector>

#include "netlink/neighbour_dump.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Netlink buffers are aligned; the fuzzer's copy is too, but say so.
  std::vector<uint8_t> buf(data, data + size);
  tcpreap::NeighbourDumpReader reader(0, 0);  // 0: accept any sequence number and port id
  (void)reader.feed({buf.data(), buf.size()});
  return 0;
}
