#include "reap/socket_destroyer.h"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "netlink/netlink_socket.h"
#include "net/tcp_state.h"

namespace tcpreap {

namespace {

constexpr size_t kRequestSize = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(inet_diag_req_v2));
// With NETLINK_CAP_ACK an error carries only the request's header: 36 bytes.
constexpr size_t kReceiveBufferSize = 64 * 1024;

ReapOutcome outcome_of(int error) {
  ReapOutcome o;
  o.via = ReapVia::kDestroy;
  o.errnum = error;
  switch (error) {
    case 0:
      o.result = ReapResult::kDone;
      break;
    case ENOENT:
      o.result = ReapResult::kAlreadyGone;
      break;
    case EOPNOTSUPP:
      o.result = ReapResult::kUnsupported;
      o.detail = "this kernel has no SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY)";
      break;
    case EPERM:
    case EACCES:
      o.result = ReapResult::kNotPermitted;
      o.detail = "SOCK_DESTROY needs CAP_NET_ADMIN in the socket's network namespace";
      break;
    default:
      o.result = ReapResult::kFailed;
      o.detail = std::string("SOCK_DESTROY: ") + std::strerror(error);
      break;
  }
  return o;
}

}  // namespace

Result<SocketDestroyer> SocketDestroyer::open() {
  auto s = NetlinkSocket::open(NETLINK_SOCK_DIAG);
  if (!s) return s.error();
  return SocketDestroyer(std::make_unique<NetlinkSocket>(std::move(*s)));
}

SocketDestroyer::SocketDestroyer(std::unique_ptr<NetlinkTransport> transport)
    : transport_(std::move(transport)),
      receive_buffer_(kReceiveBufferSize),
      seq_(static_cast<uint32_t>(std::time(nullptr)) ^ 0x5a5a0000u) {}

Result<std::vector<ReapOutcome>> SocketDestroyer::destroy(std::span<const TcpSocket> sockets) {
  std::vector<ReapOutcome> out;
  out.reserve(sockets.size());
  for (size_t i = 0; i < sockets.size(); i += kBatch) {
    auto batch = sockets.subspan(i, std::min(kBatch, sockets.size() - i));
    if (auto st = destroy_batch(batch, out); !st) return st.error();
  }
  return out;
}

// Requests carry seq first_seq + k; only the last asks for an ACK. The
// kernel handles a sendmsg's messages in order and answers a failure at
// once, so every error of the batch arrives before the last one's answer.
Status SocketDestroyer::destroy_batch(std::span<const TcpSocket> batch, std::vector<ReapOutcome>& out) {
  request_.assign(batch.size() * kRequestSize, 0);
  const uint32_t first_seq = seq_ + 1;
  seq_ += static_cast<uint32_t>(batch.size());
  for (size_t k = 0; k < batch.size(); ++k) {
    uint8_t* at = request_.data() + k * kRequestSize;
    nlmsghdr* nlh = mnl_nlmsg_put_header(at);
    nlh->nlmsg_type = SOCK_DESTROY;
    nlh->nlmsg_flags = NLM_F_REQUEST | (k + 1 == batch.size() ? NLM_F_ACK : 0);
    nlh->nlmsg_seq = first_seq + static_cast<uint32_t>(k);
    auto* req = static_cast<inet_diag_req_v2*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
    req->sdiag_family = static_cast<uint8_t>(to_af(batch[k].family));
    req->sdiag_protocol = IPPROTO_TCP;
    req->idiag_states = StateSet::all().kernel_mask();
    req->id = batch[k].sockid();  // verbatim, cookie included
  }
  if (auto sent = transport_->send(request_); !sent) return sent.error().wrap("sending SOCK_DESTROY requests");

  std::vector<int> errors(batch.size(), 0);
  const uint32_t last_seq = first_seq + static_cast<uint32_t>(batch.size()) - 1;
  const uint32_t portid = transport_->portid();
  bool last_answered = false;
  while (!last_answered) {
    auto n = transport_->receive(receive_buffer_);
    if (!n) return n.error().wrap("reading SOCK_DESTROY answers");
    int left = static_cast<int>(*n);
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(receive_buffer_.data());
    while (mnl_nlmsg_ok(nlh, left) && nlh->nlmsg_len <= static_cast<uint32_t>(left)) {
      if (!mnl_nlmsg_portid_ok(nlh, portid))
        return Error(0, "SOCK_DESTROY answer for port id " + std::to_string(nlh->nlmsg_pid));
      if (nlh->nlmsg_type != NLMSG_ERROR)
        return Error(0, "unexpected message type " + std::to_string(nlh->nlmsg_type) + " among SOCK_DESTROY answers");
      nlmsgerr err;
      if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof err)
        return Error(0, "truncated SOCK_DESTROY answer of " + std::to_string(nlh->nlmsg_len) + " bytes");
      std::memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof err);
      const uint32_t seq = nlh->nlmsg_seq;
      if (seq < first_seq || seq > last_seq)
        return Error(0, "SOCK_DESTROY answer with sequence number " + std::to_string(seq) + ", expected " +
                            std::to_string(first_seq) + ".." + std::to_string(last_seq));
      if (err.error > 0 || err.error < -4095)
        return Error(0, "SOCK_DESTROY answer with error code " + std::to_string(err.error));
      errors[seq - first_seq] = -err.error;
      if (seq == last_seq) last_answered = true;
      nlh = mnl_nlmsg_next(nlh, &left);
    }
    if (left > 0) return Error(0, "truncated netlink message among SOCK_DESTROY answers");
  }
  for (int e : errors) out.push_back(outcome_of(e));
  return Ok{};
}

}  // namespace tcpreap
