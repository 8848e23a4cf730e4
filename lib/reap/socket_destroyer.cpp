#include "reap/socket_destroyer.h"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "netlink/netlink_socket.h"
#include "netlink/reply_reader.h"
#include "net/tcp_state.h"

namespace tcpreap {

namespace {

constexpr size_t kRequestSize = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(inet_diag_req_v2));
// Each answer is a datagram of its own: 36 bytes with NETLINK_CAP_ACK (an
// error carries only the request's header), 108 without.
constexpr size_t kReceiveBufferSize = 16 * 1024;

// The socket's receive buffer (sk_rcvbuf) must hold a whole batch of
// answers: the kernel answers every request of a sendmsg before we read
// one, and each answer is its own skb, charged at its truesize - 832 bytes
// for a 36-byte error on Linux 6.18 (measured with /proc/net/netlink's Rmem
// column): 256 x 832 = 212 992 bytes, exactly the default rmem_default, no
// room to spare. An answer beyond sk_rcvbuf is dropped and the reader gets
// ENOBUFS (netlink_overrun()). 2 KiB per answer leaves room for kernels
// whose skbs weigh more (debug options, extended ACK TLVs, no CAP_ACK):
// 256 x 2 KiB = 512 KiB.
constexpr int kWantedRcvbuf = static_cast<int>(SocketDestroyer::kBatch * 2048);

// The kernel doubles what it is given (for its bookkeeping overhead).
// SO_RCVBUFFORCE (CAP_NET_ADMIN, which SOCK_DESTROY needs anyway) ignores
// net.core.rmem_max; SO_RCVBUF is capped by it. Best effort: should the
// buffer still overflow, the answers lost are settled by lookups.
void size_receive_buffer(int fd) {
  const int half = kWantedRcvbuf / 2;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &half, sizeof half) != 0)
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &half, sizeof half);
}

Result<std::unique_ptr<NetlinkTransport>> open_destroy_socket(const SocketMaker& maker) {
  auto s = NetlinkSocket::open(NETLINK_SOCK_DIAG, maker);
  if (!s) return s.error();
  size_receive_buffer(s->fd());
  return std::unique_ptr<NetlinkTransport>(std::make_unique<NetlinkSocket>(std::move(*s)));
}

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

ReapOutcome failed(int errnum, std::string detail) {
  return ReapOutcome{ReapResult::kFailed, ReapVia::kDestroy, errnum, std::move(detail)};
}

}  // namespace

Result<SocketDestroyer> SocketDestroyer::open(const SocketMaker& maker) {
  auto lookup = DiagLookup::open(maker);
  if (!lookup) return lookup.error();
  // By value: a reopen must land where the first socket did.
  return open([maker] { return open_destroy_socket(maker); }, std::make_unique<DiagLookup>(std::move(*lookup)));
}

Result<SocketDestroyer> SocketDestroyer::open(TransportOpener opener, std::unique_ptr<SocketPresence> lookup) {
  auto t = opener();
  if (!t) return t.error();
  return SocketDestroyer(std::move(opener), std::move(*t), std::move(lookup));
}

SocketDestroyer::SocketDestroyer(std::unique_ptr<NetlinkTransport> transport)
    : SocketDestroyer(TransportOpener{}, std::move(transport), nullptr) {}

SocketDestroyer::SocketDestroyer(TransportOpener opener, std::unique_ptr<NetlinkTransport> transport,
                                 std::unique_ptr<SocketPresence> lookup)
    : opener_(std::move(opener)),
      transport_(std::move(transport)),
      lookup_(std::move(lookup)),
      receive_buffer_(kReceiveBufferSize),
      seq_(static_cast<uint32_t>(std::time(nullptr)) ^ 0x5a5a0000u) {}

std::vector<ReapOutcome> SocketDestroyer::destroy(std::span<const TcpSocket> sockets) {
  std::vector<ReapOutcome> out(sockets.size());
  for (size_t i = 0; i < sockets.size(); i += kBatch) {
    const size_t n = std::min(kBatch, sockets.size() - i);
    destroy_batch(sockets.subspan(i, n), std::span(out).subspan(i, n));
  }
  return out;
}

// Requests carry seq first_seq + k; only the last asks for an ACK. The
// kernel handles a sendmsg's messages in order and answers a failure at
// once, so every error of the batch arrives before the last one's answer,
// and a request left unanswered once that has come succeeded.
void SocketDestroyer::destroy_batch(std::span<const TcpSocket> batch, std::span<ReapOutcome> out) {
  if (!transport_) {
    // Replaced after an error: a fresh socket holds no stale answers.
    std::optional<Error> why;
    if (!opener_) {
      why = Error(0, "the netlink socket failed earlier and cannot be replaced");
    } else if (auto t = opener_(); t) {
      transport_ = std::move(*t);
    } else {
      why = t.error();
    }
    if (why) {
      for (ReapOutcome& o : out) o = failed(why->errnum(), "SOCK_DESTROY not sent: " + why->message());
      return;
    }
  }

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
  // A netlink send reaches the kernel whole or not at all: once the
  // datagram is handed over, the kernel processes it and sendmsg succeeds
  // (netlink_unicast_kernel() returns its length), so a failed send means
  // no request of the batch was seen.
  if (auto sent = transport_->send(request_); !sent) {
    transport_.reset();
    for (ReapOutcome& o : out)
      o = failed(sent.error().errnum(), "SOCK_DESTROY not sent: " + sent.error().message());
    return;
  }

  std::vector<std::optional<int>> errors(batch.size());
  if (auto read = read_answers(first_seq, errors); !read) {
    transport_.reset();  // it may hold half an answer, or answers of this batch still queued
    settle_lost(batch, errors, read.error(), out);
    return;
  }
  for (size_t k = 0; k < batch.size(); ++k) out[k] = outcome_of(errors[k].value_or(0));
}

Status SocketDestroyer::read_answers(uint32_t first_seq, std::vector<std::optional<int>>& errors) {
  const auto count = static_cast<uint32_t>(errors.size());
  // Another sequence number is a stray answer to an earlier request: skipped.
  ReplyReader reply = ReplyReader::answers(first_seq, count, transport_->portid());
  while (true) {
    auto n = transport_->receive(receive_buffer_);
    if (!n) return n.error().wrap("reading SOCK_DESTROY answers");
    reply.start({receive_buffer_.data(), *n});
    bool last_answered = false;
    while (true) {
      auto next = reply.next();
      if (!next) return next.error().wrap("reading SOCK_DESTROY answers");
      if (!*next) break;
      const ReplyMessage& m = **next;
      if (m.kind != ReplyMessage::Kind::kError && m.kind != ReplyMessage::Kind::kAck)
        return Error(0, "reading SOCK_DESTROY answers: " + m.where() + ": unexpected message type " +
                            std::to_string(m.type));
      const uint32_t k = m.seq - first_seq;  // < count: the reader passes the batch's answers only
      errors[k] = m.errnum;
      if (k + 1 == count) last_answered = true;
    }
    if (last_answered) return Ok{};
  }
}

// The batch's answers stopped before the last one's: what was answered
// stands; whether the others were destroyed (a success has no answer of its
// own before the last) or refused (their error lost) only the kernel's
// tables tell now.
void SocketDestroyer::settle_lost(std::span<const TcpSocket> batch, const std::vector<std::optional<int>>& errors,
                                  const Error& why, std::span<ReapOutcome> out) {
  std::vector<size_t> lost;
  std::vector<const TcpSocket*> targets;
  for (size_t k = 0; k < batch.size(); ++k) {
    if (errors[k]) {
      out[k] = outcome_of(*errors[k]);
    } else {
      lost.push_back(k);
      targets.push_back(&batch[k]);
    }
  }
  const std::string lost_because = "the SOCK_DESTROY answer was lost (" + why.message() + ")";
  if (!lookup_) {
    for (size_t k : lost) out[k] = failed(why.errnum(), lost_because + ", and nothing can look the socket up");
    return;
  }
  auto holders = lookup_->look(targets);
  if (!holders) {
    for (size_t k : lost)
      out[k] = failed(holders.error().errnum(), lost_because + ", and looking the socket up failed: " +
                                                    holders.error().message());
    return;
  }
  for (size_t j = 0; j < lost.size(); ++j) {
    const TupleHolder& h = (*holders)[j];
    if (h.itself())
      out[lost[j]] = failed(why.errnum(), lost_because + ", and " + h.describe());
    else
      out[lost[j]] = ReapOutcome{ReapResult::kDone, ReapVia::kDestroy, 0,
                                 lost_because + "; an exact lookup confirms the socket is gone: " + h.describe()};
  }
}

}  // namespace tcpreap
