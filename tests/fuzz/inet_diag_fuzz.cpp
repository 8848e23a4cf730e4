// libFuzzer target: a received datagram, as the dump reader and the decoder
// see it. Whatever the bytes, they must return an error or sockets - never
// crash, read out of bounds, or loop.

#include <cstdint>
#include <cstring>
#include <vector>

#include "diag/dump_reader.h"
#include "diag/inet_diag_decoder.h"

namespace {

struct CountingSink : tcpreap::SocketSink {
  uint64_t n = 0;
  void on_socket(const tcpreap::TcpSocket& s) override { n += s.local_port; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Netlink buffers are aligned; the fuzzer's copy is too, but say so.
  std::vector<uint8_t> buf(data, data + size);
  CountingSink sink;
  tcpreap::DumpReader reader(0, 0);  // 0: accept any sequence number and port id
  (void)reader.feed({buf.data(), buf.size()}, sink);
  (void)tcpreap::decode_inet_diag({buf.data(), buf.size()});
  return 0;
}
