#include "reap/destroy_support.h"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "netlink/netlink_socket.h"
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

bool message_fits(const nlmsghdr* nlh, int left) {
  return mnl_nlmsg_ok(nlh, left) && nlh->nlmsg_len <= static_cast<uint32_t>(left);
}

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
  const uint32_t portid = transport->portid();
  for (int datagram = 0; datagram < kMaxDatagrams; ++datagram) {
    auto n = transport->receive(buffer);
    if (!n) return n.error().wrap(kWhat);
    int left = static_cast<int>(*n);
    const auto* m = reinterpret_cast<const nlmsghdr*>(buffer.data());
    for (; message_fits(m, left); m = mnl_nlmsg_next(m, &left)) {
      if (!mnl_nlmsg_portid_ok(m, portid))
        return Error(0, kWhat + ": an answer for port id " + std::to_string(m->nlmsg_pid));
      if (m->nlmsg_seq != seq) continue;  // not ours (none should come)
      if (m->nlmsg_type != NLMSG_ERROR)
        return Error(0, kWhat + ": an answer of type " + std::to_string(m->nlmsg_type) + ", not NLMSG_ERROR");
      nlmsgerr err;
      if (m->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof err)
        return Error(0, kWhat + ": a truncated answer of " + std::to_string(m->nlmsg_len) + " bytes");
      std::memcpy(&err, mnl_nlmsg_get_payload(m), sizeof err);
      if (err.error > 0 || err.error < -4095)
        return Error(0, kWhat + ": an answer with error code " + std::to_string(err.error));
      switch (-err.error) {
        case ENOENT:
        case 0:  // something was destroyed: it cannot be, but it shows the kernel can
          return DestroySupport::kSupported;
        case EOPNOTSUPP:
          return DestroySupport::kUnsupported;
        default:
          return Error(-err.error, kWhat + ": the kernel answered");
      }
    }
    if (left > 0) return Error(0, kWhat + ": a truncated netlink message");
  }
  return Error(0, kWhat + ": no answer in " + std::to_string(kMaxDatagrams) + " datagrams");
}

Result<DestroySupport> probe_destroy_support() {
  auto s = NetlinkSocket::open(NETLINK_SOCK_DIAG);
  if (!s) return s.error().wrap(kWhat);
  return probe_destroy_support(std::make_unique<NetlinkSocket>(std::move(*s)));
}

}  // namespace tcpreap
