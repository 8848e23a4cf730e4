// Writes destroy_answer_fuzz's seed corpus: well-formed SOCK_DESTROY answer
// batches in its input format (socket count, then length-prefixed
// datagrams; sequence numbers relative to the batch's first request).

#include <fstream>
#include <string>
#include <vector>

#include "unit/netlink_builder.h"

using namespace tcpreap::testing;

namespace {

constexpr uint32_t kPortId = 77;  // destroy_answer_fuzz's transport

std::vector<uint8_t> answer(uint32_t rel_seq, int error) {
  std::vector<uint8_t> d;
  put_message(d, NLMSG_ERROR, 0, rel_seq, kPortId, error_payload(-error));
  return d;
}

// `sockets` (1..8), then each datagram behind its 2-byte length.
void write(const std::string& dir, const std::string& name, uint8_t sockets,
           const std::vector<std::vector<uint8_t>>& datagrams) {
  std::vector<uint8_t> out{static_cast<uint8_t>(sockets - 1)};
  for (const auto& d : datagrams) {
    out.push_back(static_cast<uint8_t>(d.size()));
    out.push_back(static_cast<uint8_t>(d.size() >> 8));
    out.insert(out.end(), d.begin(), d.end());
  }
  std::ofstream(dir + "/" + name, std::ios::binary)
      .write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
}

std::vector<uint8_t> join(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  write(dir, "one-ack", 1, {answer(0, 0)});
  write(dir, "errors-then-ack", 3, {answer(0, ENOENT), answer(1, EPERM), answer(2, 0)});
  write(dir, "answers-in-one-datagram", 4, {join(join(answer(1, EOPNOTSUPP), answer(2, ENOENT)), answer(3, 0))});
  write(dir, "stray-first", 2, {join(answer(0xffffffffu, ENOENT), answer(1, 0))});
  std::vector<uint8_t> done;
  put_message(done, NLMSG_DONE, NLM_F_MULTI, 0, kPortId, int_payload(0));
  write(dir, "done", 1, {done});
  return 0;
}
