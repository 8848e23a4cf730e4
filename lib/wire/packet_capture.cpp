#include "wire/packet_capture.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "wire/capture_program.h"

namespace tcpreap {

namespace {

Error capture_error(int errnum, const std::string& what) {
  if (errnum == EPERM || errnum == EACCES)
    return Error(errnum, what + " (an AF_PACKET capture needs CAP_NET_RAW in the network namespace)");
  return Error(errnum, what);
}

}  // namespace

Result<PacketCapture> PacketCapture::open(const SocketMaker& maker) {
  // Protocol 0: the socket receives nothing until bind() names one, so no
  // frame slips in before the program is attached. The maker's error names
  // a missing CAP_NET_RAW.
  auto fd = maker.make(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (!fd) return fd.error().wrap("opening the AF_PACKET capture");
  PacketCapture capture(std::move(*fd));
  if (auto s = capture.attach(drop_all_program()); !s) return s.error();
  // Room for a burst: with a thousand sockets answering within a
  // millisecond, each frame costs its skb's truesize (~1 KiB) however short
  // the snap. SO_RCVBUFFORCE (CAP_NET_ADMIN) passes net.core.rmem_max;
  // without it SO_RCVBUF is clamped to it. Best effort either way: a dropped
  // answer only costs a retry.
  int bytes = 8 << 20;
  if (::setsockopt(capture.fd(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    (void)::setsockopt(capture.fd(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = 0;  // every interface
  if (::bind(capture.fd(), reinterpret_cast<const sockaddr*>(&sll), sizeof sll) != 0)
    return capture_error(errno, "binding the AF_PACKET socket to ETH_P_ALL");
  return capture;
}

Status PacketCapture::attach(std::span<const sock_filter> program) {
  sock_fprog prog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
  if (program.size() > BPF_MAXINSNS)
    return Error(EINVAL, "capture program of " + std::to_string(program.size()) + " instructions, more than " +
                             std::to_string(BPF_MAXINSNS));
  if (::setsockopt(fd_.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
    return Error(errno, "attaching a capture program of " + std::to_string(program.size()) + " instructions");
  return Ok{};
}

Status PacketCapture::set_program(std::span<const sock_filter> program) {
  // Accept nothing, empty the queue, then switch: whatever is queued after
  // that, the new program accepted.
  if (auto s = attach(drop_all_program()); !s) return s;
  uint8_t scratch[64];
  while (true) {
    auto f = next(scratch);
    if (!f) return f.error();
    if (!*f) break;
  }
  return attach(program);
}

Result<std::optional<CapturedFrame>> PacketCapture::next(std::span<uint8_t> buffer) {
  while (true) {
    sockaddr_ll sll{};
    socklen_t len = sizeof sll;
    // MSG_TRUNC: the return value is the frame's length even when the
    // buffer is shorter.
    const ssize_t n = ::recvfrom(fd_.get(), buffer.data(), buffer.size(), MSG_TRUNC | MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&sll), &len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return std::optional<CapturedFrame>{};
      return Error(errno, "receiving from the AF_PACKET capture");
    }
    CapturedFrame f;
    f.wire_size = static_cast<size_t>(n);
    f.size = std::min(f.wire_size, buffer.size());
    f.ifindex = sll.sll_ifindex;
    f.pkttype = sll.sll_pkttype;
    return std::optional<CapturedFrame>(f);
  }
}

Result<uint32_t> PacketCapture::take_drops() {
  tpacket_stats st{};
  socklen_t len = sizeof st;
  if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0)
    return Error(errno, "reading the capture's PACKET_STATISTICS");
  return st.tp_drops;
}

}  // namespace tcpreap
