#include "diag/socket_presence.h"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include <cerrno>
#include <ctime>

#include "diag/inet_diag_decoder.h"
#include "net/tcp_state.h"
#include "netlink/netlink_socket.h"
#include "netlink/reply_reader.h"

namespace tcpreap {

namespace {

constexpr size_t kRequestSize = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(inet_diag_req_v2));
// One answer per datagram: an inet_diag_msg and a few attributes (no
// tcp_info is asked for), or an error.
constexpr size_t kReceiveBufferSize = 16 * 1024;

std::string endpoint(const IpAddress& a, uint16_t port) {
  const std::string text = a.to_string();
  return (a.family == Family::kIPv6 ? "[" + text + "]" : text) + ":" + std::to_string(port);
}

std::string tuple_of(const TcpSocket& s) {
  return endpoint(s.local, s.local_port) + " " + endpoint(s.remote, s.remote_port);
}

}  // namespace

std::string TupleHolder::describe() const {
  switch (kind) {
    case Kind::kNobody:
      return "no socket holds its 4-tuple";
    case Kind::kItself:
      return std::string("the socket still holds its 4-tuple (") + state_label(state) + ")";
    case Kind::kOther:
      return "its 4-tuple now belongs to another socket (cookie " + std::to_string(cookie) + ", " +
             state_label(state) + ")";
    case Kind::kListener:
      return "no connection holds its 4-tuple (a segment would reach a listener)";
  }
  return "?";
}

Result<DiagLookup> DiagLookup::open(const SocketMaker& maker) {
  // By value: a reopen must land where the first socket did.
  return open([maker]() -> Result<std::unique_ptr<NetlinkTransport>> {
    auto s = NetlinkSocket::open(NETLINK_SOCK_DIAG, maker);
    if (!s) return s.error();
    return std::unique_ptr<NetlinkTransport>(std::make_unique<NetlinkSocket>(std::move(*s)));
  });
}

Result<DiagLookup> DiagLookup::open(TransportOpener opener) {
  auto t = opener();
  if (!t) return t.error().wrap("opening the socket lookup");
  return DiagLookup(std::move(opener), std::move(*t));
}

DiagLookup::DiagLookup(TransportOpener opener, std::unique_ptr<NetlinkTransport> transport)
    : opener_(std::move(opener)),
      transport_(std::move(transport)),
      receive_buffer_(kReceiveBufferSize),
      seq_(static_cast<uint32_t>(std::time(nullptr)) ^ 0x00a5a500u) {}

Result<std::vector<TupleHolder>> DiagLookup::look(std::span<const TcpSocket* const> sockets) {
  std::vector<TupleHolder> out;
  out.reserve(sockets.size());
  for (const TcpSocket* s : sockets) {
    auto h = look_one(*s);
    if (!h) return h.error();
    out.push_back(*h);
  }
  return out;
}

Result<TupleHolder> DiagLookup::look_one(const TcpSocket& socket) {
  if (!transport_) {
    auto t = opener_();
    if (!t) return t.error().wrap("reopening the socket lookup");
    transport_ = std::move(*t);
  }
  auto h = ask(socket);
  if (!h) {
    transport_.reset();  // an answer may be half read: never read on
    return h.error().wrap("looking up " + tuple_of(socket));
  }
  return h;
}

// The request names the 4-tuple (and the bound interface, which the
// kernel's lookup matches as it would for a segment) with no cookie
// (INET_DIAG_NOCOOKIE), so the kernel answers with whichever socket it
// finds rather than ESTALE: its cookie says whose the 4-tuple is.
Result<TupleHolder> DiagLookup::ask(const TcpSocket& socket) {
  alignas(nlmsghdr) uint8_t request[kRequestSize] = {};
  nlmsghdr* nlh = mnl_nlmsg_put_header(request);
  nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  nlh->nlmsg_flags = NLM_F_REQUEST;  // no NLM_F_DUMP: one lookup, one answer (no ACK)
  nlh->nlmsg_seq = ++seq_;
  auto* req = static_cast<inet_diag_req_v2*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
  req->sdiag_family = static_cast<uint8_t>(to_af(socket.family));
  req->sdiag_protocol = IPPROTO_TCP;
  req->idiag_states = StateSet::all().kernel_mask();
  req->id = socket.sockid();
  req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  if (auto sent = transport_->send({request, nlh->nlmsg_len}); !sent) return sent.error();

  // An answer to an earlier request (another sequence number) is not ours to read.
  ReplyReader reply = ReplyReader::answers(nlh->nlmsg_seq, 1, transport_->portid());
  while (true) {
    auto n = transport_->receive(receive_buffer_);
    if (!n) return n.error();
    reply.start({receive_buffer_.data(), *n});
    while (true) {
      auto next = reply.next();
      if (!next) return next.error();
      if (!*next) break;
      const ReplyMessage& m = **next;
      if (m.kind == ReplyMessage::Kind::kError) {
        if (m.errnum == ENOENT) return TupleHolder{};
        return Error(m.errnum, "the kernel refused the lookup");
      }
      if (m.kind != ReplyMessage::Kind::kData || m.type != SOCK_DIAG_BY_FAMILY)
        return Error(0, m.where() + ": unexpected message type " + std::to_string(m.type));
      if (auto st = decode_inet_diag(m.payload, answer_); !st) return st.error();
      TupleHolder h;
      h.cookie = answer_.cookie;
      h.state = answer_.state;
      h.kind = answer_.cookie == socket.cookie                           ? TupleHolder::Kind::kItself
               : answer_.state == static_cast<uint8_t>(TcpState::kListen) ? TupleHolder::Kind::kListener
                                                                          : TupleHolder::Kind::kOther;
      return h;
    }
  }
}

}  // namespace tcpreap
