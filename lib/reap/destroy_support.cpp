#include "reap/destroy_support.h"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <ctime>
#include <string>
#include <vector>

#include "netlink/netlink_socket.h"
#include "netlink/reply_reader.h"
#include "net/tcp_state.h"

namespace tcpreap {

namespace {

constexpr size_t kRequestSize = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(inet_diag_req_v2));
// One answer: 36 bytes with NETLINK_CAP_ACK, the request echoed without it,
// extended ACK attributes perhaps: far below this.
constexpr size_t kReceiveBufferSize = 8192;
// Datagrams read before giving up on the answer. A fresh socket holds
// nothing else, so the first one is the answer; the bound only keeps a
// misbehaving transport from holding the start-up for ever.
constexpr int kMaxDatagrams = 8;

const std::string kWhat = "asking whether the kernel has SOCK_DESTROY";

}  // namespace

Result<DestroySupport> probe_destroy_support(std::unique_ptr<NetlinkTransport> transport) {
  // Zeroed: the impossible socket (IPv4, 0.0.0.0:0 to 0.0.0.0:0, no
  // interface, cookie 0; the header says why nothing matches it).
  alignas(nlmsghdr) uint8_t request[kRequestSize] = {};
  nlmsghdr* nlh = mnl_nlmsg_put_header(request);
  nlh->nlmsg_type = SOCK_DESTROY;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  const uint32_t seq = static_cast<uint32_t>(std::time(nullptr)) ^ 0x0d570000u;
  nlh->nlmsg_seq = seq;
  auto* req = static_cast<inet_diag_req_v2*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
  req->sdiag_family = AF_INET;
  req->sdiag_protocol = IPPROTO_TCP;
  req->idiag_states = StateSet::all().kernel_mask();
  if (auto sent = transport->send({request, nlh->nlmsg_len}); !sent) return sent.error().wrap(kWhat);

  std::vector<uint8_t> buffer(kReceiveBufferSize);
  // Framing, port id and the error code are the reader's to check; answers
  // to other requests (none should come) it skips.
  ReplyReader reply = ReplyReader::answers(seq, 1, transport->portid());
  for (int datagram = 0; datagram < kMaxDatagrams; ++datagram) {
    auto n = transport->receive(buffer);
    if (!n) return n.error().wrap(kWhat);
    reply.start({buffer.data(), *n});
    auto next = reply.next();
    if (!next) return next.error().wrap(kWhat);
    if (!*next) continue;  // nothing of ours in this datagram
    const ReplyMessage& m = **next;
    switch (m.kind) {
      case ReplyMessage::Kind::kAck:  // something was destroyed: it cannot be, but it shows the kernel can
        return DestroySupport::kSupported;
      case ReplyMessage::Kind::kError:
        if (m.errnum == ENOENT) return DestroySupport::kSupported;
        if (m.errnum == EOPNOTSUPP) return DestroySupport::kUnsupported;
        return Error(m.errnum, kWhat + ": the kernel answered");
      case ReplyMessage::Kind::kData:
      case ReplyMessage::Kind::kDone:
        break;
    }
    return Error(0, kWhat + ": " + m.where() + ": unexpected message type " + std::to_string(m.type));
  }
  return Error(0, kWhat + ": no answer in " + std::to_string(kMaxDatagrams) + " datagrams");
}

Result<DestroySupport> probe_destroy_support(const SocketMaker& maker) {
  auto s = NetlinkSocket::open(NETLINK_SOCK_DIAG, maker);
  if (!s) return s.error().wrap(kWhat);
  return probe_destroy_support(std::make_unique<NetlinkSocket>(std::move(*s)));
}

}  // namespace tcpreap
