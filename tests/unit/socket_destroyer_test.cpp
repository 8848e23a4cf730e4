// SOCK_DESTROY requests and the classification of their answers, against a
// scripted kernel: what a namespace cannot produce on demand (EOPNOTSUPP
// needs a kernel without CONFIG_INET_DIAG_DESTROY). The real kernel's side is
// tests/integration/reap_test.cpp.

#include "reap/socket_destroyer.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "diag/inet_diag_decoder.h"
#include "unit/netlink_builder.h"

namespace tcpreap {
namespace {

constexpr uint32_t kPid = 77;

// Answers each request with the errno `verdict(cookie)` gives, as the kernel
// would: an error message for a failure, an ACK only where one was asked for.
class ScriptedKernel final : public NetlinkTransport {
 public:
  std::function<int(uint64_t cookie)> verdict = [](uint64_t) { return 0; };
  std::vector<inet_diag_req_v2> requests;
  std::vector<size_t> batch_sizes;

  uint32_t portid() const override { return kPid; }
  Status send(std::span<const uint8_t> m) override {
    std::vector<uint8_t> answer;
    size_t count = 0;
    for (size_t off = 0; off + NLMSG_HDRLEN <= m.size(); ++count) {
      nlmsghdr h;
      std::memcpy(&h, m.data() + off, sizeof h);
      EXPECT_EQ(h.nlmsg_type, SOCK_DESTROY);
      inet_diag_req_v2 req;
      std::memcpy(&req, m.data() + off + NLMSG_HDRLEN, sizeof req);
      requests.push_back(req);
      const uint64_t cookie = static_cast<uint64_t>(req.id.idiag_cookie[1]) << 32 | req.id.idiag_cookie[0];
      const int e = verdict(cookie);
      if (e != 0 || (h.nlmsg_flags & NLM_F_ACK)) {
        std::vector<uint8_t> payload(sizeof(nlmsgerr), 0);
        nlmsgerr err{};
        err.error = -e;
        err.msg = h;
        std::memcpy(payload.data(), &err, sizeof err);
        testing::put_message(answer, NLMSG_ERROR, 0, h.nlmsg_seq, kPid, payload);
      }
      off += NLMSG_ALIGN(h.nlmsg_len);
    }
    batch_sizes.push_back(count);
    // The kernel may split its answers over several datagrams.
    for (size_t at = 0; at < answer.size(); at += 360) {
      const size_t n = std::min<size_t>(360, answer.size() - at);
      pending_.emplace_back(answer.begin() + static_cast<long>(at), answer.begin() + static_cast<long>(at + n));
    }
    return Ok{};
  }
  Result<size_t> receive(std::span<uint8_t> buf) override {
    if (pending_.empty()) return Error(ETIMEDOUT, "no answer");
    auto d = std::move(pending_.front());
    pending_.pop_front();
    std::memcpy(buf.data(), d.data(), d.size());
    return d.size();
  }

 private:
  std::deque<std::vector<uint8_t>> pending_;
};

TcpSocket socket_with_cookie(uint64_t cookie) {
  auto b = testing::socket_payload(testing::diag_msg(cookie % 2 ? AF_INET : AF_INET6, 1,
                                                     cookie % 2 ? "10.0.0.1" : "fd00::1", 2181,
                                                     cookie % 2 ? "10.0.0.2" : "fd00::2", 40000, cookie));
  return *decode_inet_diag({b.data(), b.size()});
}

TEST(SocketDestroyer, ClassifiesEveryAnswer) {
  auto kernel = std::make_unique<ScriptedKernel>();
  const std::map<uint64_t, int> errnos = {{1, 0}, {2, ENOENT}, {3, EOPNOTSUPP}, {4, EPERM}, {5, EINVAL}};
  kernel->verdict = [&](uint64_t c) { return errnos.at(c); };
  ScriptedKernel* k = kernel.get();
  SocketDestroyer d(std::move(kernel));
  std::vector<TcpSocket> sockets;
  for (uint64_t c = 1; c <= 5; ++c) sockets.push_back(socket_with_cookie(c));
  auto r = d.destroy(sockets);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].result, ReapResult::kDone);
  EXPECT_EQ((*r)[1].result, ReapResult::kAlreadyGone);
  EXPECT_EQ((*r)[2].result, ReapResult::kUnsupported);
  EXPECT_EQ((*r)[3].result, ReapResult::kNotPermitted);
  EXPECT_NE((*r)[3].detail.find("CAP_NET_ADMIN"), std::string::npos);
  EXPECT_EQ((*r)[4].result, ReapResult::kFailed);
  EXPECT_EQ((*r)[4].errnum, EINVAL);
  EXPECT_EQ((*r)[4].detail, "SOCK_DESTROY: Invalid argument");
  for (const auto& o : *r) EXPECT_EQ(o.via, ReapVia::kDestroy);
  // The dumped sockid went out verbatim, cookie included.
  ASSERT_EQ(k->requests.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const inet_diag_sockid id = sockets[i].sockid();
    EXPECT_EQ(std::memcmp(&k->requests[i].id, &id, sizeof id), 0);
    EXPECT_EQ(k->requests[i].sdiag_protocol, IPPROTO_TCP);
    EXPECT_EQ(k->requests[i].sdiag_family, sockets[i].family == Family::kIPv4 ? AF_INET : AF_INET6);
  }
}

TEST(SocketDestroyer, BatchesRequestsAndReadsEveryAnswer) {
  auto kernel = std::make_unique<ScriptedKernel>();
  kernel->verdict = [](uint64_t c) { return c % 7 == 0 ? ENOENT : 0; };
  ScriptedKernel* k = kernel.get();
  SocketDestroyer d(std::move(kernel));
  std::vector<TcpSocket> sockets;
  for (uint64_t c = 1; c <= 600; ++c) sockets.push_back(socket_with_cookie(c));
  auto r = d.destroy(sockets);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(k->batch_sizes, (std::vector<size_t>{256, 256, 88}));
  for (size_t i = 0; i < sockets.size(); ++i)
    EXPECT_EQ((*r)[i].result, (i + 1) % 7 == 0 ? ReapResult::kAlreadyGone : ReapResult::kDone) << i;
  // And again: sequence numbers move on, answers still match.
  auto again = d.destroy(std::span(sockets).first(3));
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->size(), 3u);
}

TEST(SocketDestroyer, AMissingAnswerIsAnErrorNotSilence) {
  class Mute final : public NetlinkTransport {
    uint32_t portid() const override { return kPid; }
    Status send(std::span<const uint8_t>) override { return Ok{}; }
    Result<size_t> receive(std::span<uint8_t>) override { return Error(EAGAIN, "nothing"); }
  };
  SocketDestroyer d(std::make_unique<Mute>());
  std::vector<TcpSocket> one = {socket_with_cookie(1)};
  auto r = d.destroy(one);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "reading SOCK_DESTROY answers: nothing: Resource temporarily unavailable");
}

TEST(SocketDestroyer, NothingToDoSendsNothing) {
  auto kernel = std::make_unique<ScriptedKernel>();
  ScriptedKernel* k = kernel.get();
  SocketDestroyer d(std::move(kernel));
  auto r = d.destroy({});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  EXPECT_TRUE(k->batch_sizes.empty());
}

}  // namespace
}  // namespace tcpreap
