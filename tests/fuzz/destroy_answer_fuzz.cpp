// libFuzzer target: SOCK_DESTROY answers as SocketDestroyer reads them,
// through ReplyReader. Whatever the bytes: one outcome per socket, each by
// SOCK_DESTROY - never a crash, an out-of-bounds read, or a loop.
//
// Input: the batch's socket count (1 + byte 0 % 8), then datagrams, each a
// 2-byte little-endian length and its bytes (make_destroy_seeds.cpp writes
// examples). Sequence numbers in the input count from the batch's first
// request, whose number is time-based: the transport adds it to each header
// it finds as the datagram goes out, so answers land in the batch's window.

#include <linux/netlink.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

#include "reap/socket_destroyer.h"

namespace {

constexpr uint32_t kPortId = 77;

class FuzzedAnswers final : public tcpreap::NetlinkTransport {
 public:
  explicit FuzzedAnswers(std::deque<std::vector<uint8_t>> datagrams) : datagrams_(std::move(datagrams)) {}
  uint32_t portid() const override { return kPortId; }
  tcpreap::Status send(std::span<const uint8_t> m) override {
    nlmsghdr h;
    std::memcpy(&h, m.data(), sizeof h);
    first_seq_ = h.nlmsg_seq;
    return tcpreap::Ok{};
  }
  tcpreap::Result<size_t> receive(std::span<uint8_t> buf) override {
    if (datagrams_.empty()) return tcpreap::Error(EAGAIN, "no answer queued");
    std::vector<uint8_t> d = std::move(datagrams_.front());
    datagrams_.pop_front();
    if (d.size() > buf.size()) return tcpreap::Error(ENOSPC, "datagram larger than the buffer");
    // Stamp the batch's sequence numbers in, header after header for as
    // long as the lengths make sense (the reader judges the rest).
    for (size_t off = 0; d.size() - off >= sizeof(nlmsghdr);) {
      nlmsghdr h;
      std::memcpy(&h, d.data() + off, sizeof h);
      h.nlmsg_seq += first_seq_;
      std::memcpy(d.data() + off, &h, sizeof h);
      if (h.nlmsg_len < sizeof h || h.nlmsg_len > d.size() - off) break;
      off += std::min<size_t>(NLMSG_ALIGN(static_cast<size_t>(h.nlmsg_len)), d.size() - off);
    }
    if (!d.empty()) std::memcpy(buf.data(), d.data(), d.size());  // an empty vector's data() may be null
    return d.size();
  }

 private:
  std::deque<std::vector<uint8_t>> datagrams_;
  uint32_t first_seq_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t count = 1 + data[0] % 8;
  std::deque<std::vector<uint8_t>> datagrams;
  for (size_t at = 1; size - at >= 2;) {
    const size_t len = std::min(static_cast<size_t>(data[at] | data[at + 1] << 8), size - at - 2);
    datagrams.emplace_back(data + at + 2, data + at + 2 + len);
    at += 2 + len;
  }
  std::vector<tcpreap::TcpSocket> sockets(count);
  for (size_t i = 0; i < count; ++i) sockets[i].cookie = i + 1;

  tcpreap::SocketDestroyer destroyer(std::make_unique<FuzzedAnswers>(std::move(datagrams)));
  const auto outcomes = destroyer.destroy(sockets);
  if (outcomes.size() != count) std::abort();
  for (const auto& o : outcomes)
    if (o.via != tcpreap::ReapVia::kDestroy) std::abort();
  return 0;
}
