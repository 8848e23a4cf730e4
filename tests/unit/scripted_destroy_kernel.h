#pragma once
// A scripted SOCK_DESTROY kernel for unit tests: a set of live sockets (by
// cookie), netlink "sockets" opened on it that answer SOCK_DESTROY batches
// as the kernel does (an error message per failure, an ACK where asked),
// and the faults a real netlink socket can show - a send that fails, a
// receive that reports ENOBUFS because answers overflowed the receive
// buffer, answers left queued, a stray answer of an earlier request.
// FakeLookup answers "who holds this 4-tuple" from the same live set.

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "diag/inet_diag_decoder.h"
#include "diag/socket_presence.h"
#include "net/tcp_socket.h"
#include "netlink/netlink_transport.h"
#include "unit/netlink_builder.h"

namespace tcpreap::testing {

inline constexpr uint32_t kFakePid = 77;

// A dumped-looking socket whose cookie is `cookie` (odd: IPv4, even: IPv6),
// its remote port derived from the cookie so that 4-tuples differ.
inline TcpSocket socket_with_cookie(uint64_t cookie) {
  const bool v4 = cookie % 2 == 1;
  auto b = socket_payload(diag_msg(v4 ? AF_INET : AF_INET6, 1, v4 ? "10.0.0.1" : "fd00::1", 2181,
                                   v4 ? "10.0.0.2" : "fd00::2", static_cast<uint16_t>(10000 + cookie % 50000),
                                   cookie));
  return *decode_inet_diag({b.data(), b.size()});
}

inline std::vector<TcpSocket> sockets_with_cookies(uint64_t first, uint64_t last) {
  std::vector<TcpSocket> out;
  for (uint64_t c = first; c <= last; ++c) out.push_back(socket_with_cookie(c));
  return out;
}

class FakeDestroyKernel {
 public:
  // Cookies of the sockets that exist; SOCK_DESTROY of one that does not
  // is ENOENT, of one that does removes it unless `refuse` names an errno.
  std::set<uint64_t> alive;
  std::function<int(uint64_t cookie)> refuse = [](uint64_t) { return 0; };
  // Non-zero: every request fails with this errno before any lookup, as a
  // kernel without CONFIG_INET_DIAG_DESTROY answers EOPNOTSUPP.
  int every_request_fails = 0;
  size_t answers_per_datagram = 10;

  // Faults, by send number (0 = the first send over all sockets opened).
  std::map<size_t, int> send_fails;  // that send fails with this errno; nothing is processed
  struct Overflow {
    size_t after = 0;          // datagrams delivered before the error
    bool keep_queued = false;  // the error comes first and the answers stay queued behind it
  };
  std::map<size_t, Overflow> overflows;  // that send's answers: ENOBUFS on receive
  std::map<size_t, uint32_t> stray_before;  // an answer with sequence number seq - n precedes that send's answers

  // What happened.
  std::vector<size_t> batch_sizes;        // requests per processed send
  std::vector<inet_diag_req_v2> requests;  // every request processed
  std::set<uint64_t> answer_read;         // cookies whose answer a receive() handed out
  int opened = 0;                          // sockets opened
  int open_failures_left = 0;              // the next n opens fail with EMFILE

  void add_alive(const std::vector<TcpSocket>& sockets) {
    for (const auto& s : sockets) alive.insert(s.cookie);
  }

  std::unique_ptr<NetlinkTransport> open_socket() { return std::make_unique<Socket>(*this); }
  // For SocketDestroyer's opener.
  std::function<Result<std::unique_ptr<NetlinkTransport>>()> opener() {
    return [this]() -> Result<std::unique_ptr<NetlinkTransport>> {
      if (open_failures_left > 0) {
        --open_failures_left;
        return Error(EMFILE, "opening netlink socket (bus 4)");
      }
      ++opened;
      return open_socket();
    };
  }

 private:
  class Socket final : public NetlinkTransport {
   public:
    explicit Socket(FakeDestroyKernel& k) : k_(k) {}
    uint32_t portid() const override { return kFakePid; }
    Status send(std::span<const uint8_t> m) override {
      const size_t global = k_.sends_++;
      if (auto f = k_.send_fails.find(global); f != k_.send_fails.end())
        return Error(f->second, "sending netlink request");
      std::vector<std::vector<uint8_t>> answers;
      size_t count = 0;
      uint32_t first_seq = 0;
      for (size_t off = 0; off + NLMSG_HDRLEN <= m.size(); ++count) {
        nlmsghdr h;
        std::memcpy(&h, m.data() + off, sizeof h);
        EXPECT_EQ(h.nlmsg_type, SOCK_DESTROY);
        if (count == 0) first_seq = h.nlmsg_seq;
        inet_diag_req_v2 req;
        std::memcpy(&req, m.data() + off + NLMSG_HDRLEN, sizeof req);
        k_.requests.push_back(req);
        const uint64_t cookie = static_cast<uint64_t>(req.id.idiag_cookie[1]) << 32 | req.id.idiag_cookie[0];
        int e = ENOENT;
        if (k_.every_request_fails != 0) {
          e = k_.every_request_fails;
        } else if (k_.alive.contains(cookie)) {
          e = k_.refuse(cookie);
          if (e == 0) k_.alive.erase(cookie);
        }
        if (e != 0 || (h.nlmsg_flags & NLM_F_ACK)) {
          answers.push_back(error_message(h, e));
          seq_cookie_[h.nlmsg_seq] = cookie;
        }
        off += NLMSG_ALIGN(h.nlmsg_len);
      }
      k_.batch_sizes.push_back(count);
      if (auto s = k_.stray_before.find(global); s != k_.stray_before.end()) {
        nlmsghdr old{static_cast<uint32_t>(NLMSG_HDRLEN + sizeof(inet_diag_req_v2)), SOCK_DESTROY, NLM_F_REQUEST,
                     first_seq - s->second, kFakePid};
        answers.insert(answers.begin(), error_message(old, ENOENT));
      }
      // The kernel may hand several answers over in one datagram.
      std::deque<std::vector<uint8_t>> datagrams;
      for (size_t i = 0; i < answers.size(); i += k_.answers_per_datagram) {
        std::vector<uint8_t> d;
        for (size_t j = i; j < std::min(answers.size(), i + k_.answers_per_datagram); ++j)
          d.insert(d.end(), answers[j].begin(), answers[j].end());
        datagrams.push_back(std::move(d));
      }
      if (auto o = k_.overflows.find(global); o != k_.overflows.end()) {
        // Answers beyond `after` did not fit: dropped, or (keep_queued)
        // the error is reported before those that did.
        if (!o->second.keep_queued) datagrams.resize(std::min(datagrams.size(), o->second.after));
        error_at_ = delivered_ + pending_.size() + (o->second.keep_queued ? 0 : datagrams.size());
      }
      for (auto& d : datagrams) pending_.push_back(std::move(d));
      return Ok{};
    }
    Result<size_t> receive(std::span<uint8_t> buf) override {
      if (error_at_ && *error_at_ == delivered_) {
        error_at_.reset();
        return Error(ENOBUFS, "receiving netlink reply");
      }
      // A real socket would block here for ever; the fake says so.
      if (pending_.empty()) return Error(EAGAIN, "no answer queued");
      auto d = std::move(pending_.front());
      pending_.pop_front();
      ++delivered_;
      if (d.size() > buf.size()) return Error(ENOSPC, "datagram larger than the buffer");
      std::memcpy(buf.data(), d.data(), d.size());
      for (size_t off = 0; off + NLMSG_HDRLEN <= d.size();) {
        nlmsghdr h;
        std::memcpy(&h, d.data() + off, sizeof h);
        if (auto c = seq_cookie_.find(h.nlmsg_seq); c != seq_cookie_.end()) k_.answer_read.insert(c->second);
        off += NLMSG_ALIGN(h.nlmsg_len);
      }
      return d.size();
    }

   private:
    static std::vector<uint8_t> error_message(const nlmsghdr& request, int e) {
      std::vector<uint8_t> payload(sizeof(nlmsgerr), 0);
      nlmsgerr err{};
      err.error = -e;
      err.msg = request;
      std::memcpy(payload.data(), &err, sizeof err);
      std::vector<uint8_t> out;
      put_message(out, NLMSG_ERROR, 0, request.nlmsg_seq, kFakePid, payload);
      return out;
    }

    FakeDestroyKernel& k_;
    std::deque<std::vector<uint8_t>> pending_;
    size_t delivered_ = 0;
    std::optional<size_t> error_at_;  // ENOBUFS once this many datagrams were delivered in all
    std::map<uint32_t, uint64_t> seq_cookie_;
  };

  size_t sends_ = 0;
};

// "Who holds this 4-tuple", answered from the kernel's live set: the socket
// itself while its cookie lives, nobody once it is gone.
class FakeLookup final : public SocketPresence {
 public:
  explicit FakeLookup(FakeDestroyKernel& k) : k_(k) {}
  std::optional<Error> fail;  // every look() fails with it
  int calls = 0;
  size_t looked_up = 0;

  Result<std::vector<TupleHolder>> look(std::span<const TcpSocket* const> sockets) override {
    ++calls;
    if (fail) return *fail;
    std::vector<TupleHolder> out;
    for (const TcpSocket* s : sockets) {
      ++looked_up;
      TupleHolder h;
      if (k_.alive.contains(s->cookie)) {
        h.kind = TupleHolder::Kind::kItself;
        h.cookie = s->cookie;
        h.state = s->state;
      }
      out.push_back(h);
    }
    return out;
  }

 private:
  FakeDestroyKernel& k_;
};

}  // namespace tcpreap::testing
