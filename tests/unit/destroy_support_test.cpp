// Whether SOCK_DESTROY is supported, asked of a scripted kernel: the one
// request it sends (a socket that cannot exist), each answer a kernel can
// give, and the transport failing or answering nonsense. The real kernel's
// answer is tests/integration/destroy_support_kernel_test.cpp.

#include "reap/destroy_support.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <vector>

#include "unit/netlink_builder.h"
#include "unit/scripted_destroy_kernel.h"

namespace tcpreap {
namespace {

using Datagrams = std::vector<std::vector<uint8_t>>;

using testing::error_payload;
using testing::FakeDestroyKernel;
using testing::kFakePid;
using testing::put_message;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(DestroySupport, EnoentForTheImpossibleSocketMeansSupported) {
  FakeDestroyKernel kernel;
  kernel.alive = {1, 2, 3};  // live sockets, none of them touched
  const auto r = probe_destroy_support(kernel.open_socket());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, DestroySupport::kSupported);
  EXPECT_EQ(kernel.alive, (std::set<uint64_t>{1, 2, 3}));

  // One request, for no socket anybody can hold: IPv4, every address,
  // port and interface 0, cookie 0 (never a socket's: not
  // INET_DIAG_NOCOOKIE, which would match any).
  ASSERT_EQ(kernel.batch_sizes, std::vector<size_t>{1});
  ASSERT_EQ(kernel.requests.size(), 1u);
  const inet_diag_req_v2& req = kernel.requests[0];
  EXPECT_EQ(req.sdiag_family, AF_INET);
  EXPECT_EQ(req.sdiag_protocol, IPPROTO_TCP);
  const inet_diag_sockid zero{};
  EXPECT_EQ(std::memcmp(&req.id, &zero, sizeof zero), 0);
  EXPECT_NE(req.id.idiag_cookie[0], INET_DIAG_NOCOOKIE);
}

TEST(DestroySupport, EopnotsuppMeansAKernelWithoutIt) {
  FakeDestroyKernel kernel;
  kernel.every_request_fails = EOPNOTSUPP;
  const auto r = probe_destroy_support(kernel.open_socket());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, DestroySupport::kUnsupported);
}

// Anything else cannot tell: an Error with the errno, never a guess.
TEST(DestroySupport, OtherAnswersCannotTell) {
  for (int e : {EACCES, EPERM, EINVAL, ENOMEM}) {
    FakeDestroyKernel kernel;
    kernel.every_request_fails = e;
    const auto r = probe_destroy_support(kernel.open_socket());
    ASSERT_FALSE(r.ok()) << "errno " << e;
    EXPECT_EQ(r.error().errnum(), e);
    EXPECT_TRUE(contains(r.error().message(), "asking whether the kernel has SOCK_DESTROY: the kernel answered"))
        << r.error().message();
  }
}

TEST(DestroySupport, ATransportFailureCannotTell) {
  {
    FakeDestroyKernel kernel;
    kernel.send_fails[0] = ENOBUFS;
    const auto r = probe_destroy_support(kernel.open_socket());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errnum(), ENOBUFS);
    EXPECT_TRUE(contains(r.error().message(), "asking whether the kernel has SOCK_DESTROY: sending"))
        << r.error().message();
  }
  {
    FakeDestroyKernel kernel;
    kernel.overflows[0] = {0, false};  // the answer dropped: ENOBUFS on receive
    const auto r = probe_destroy_support(kernel.open_socket());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errnum(), ENOBUFS);
  }
}

TEST(DestroySupport, AStrayAnswerIsSkipped) {
  FakeDestroyKernel kernel;
  kernel.stray_before[0] = 7;
  kernel.answers_per_datagram = 1;  // the stray one in a datagram of its own, then ours
  auto r = probe_destroy_support(kernel.open_socket());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, DestroySupport::kSupported);

  FakeDestroyKernel together;
  together.stray_before[0] = 7;
  together.every_request_fails = EOPNOTSUPP;  // the stray one says ENOENT: it must not count
  r = probe_destroy_support(together.open_socket());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, DestroySupport::kUnsupported);
}

// --- Answers no kernel should give, each an Error that says what came. ---

// Answers the request with `make(seq)`, datagram by datagram.
class CannedTransport final : public NetlinkTransport {
 public:
  using Make = std::function<Datagrams(uint32_t seq)>;
  explicit CannedTransport(Make make) : make_(std::move(make)) {}
  uint32_t portid() const override { return kFakePid; }
  Status send(std::span<const uint8_t> m) override {
    nlmsghdr h;
    std::memcpy(&h, m.data(), sizeof h);
    EXPECT_EQ(h.nlmsg_type, SOCK_DESTROY);
    EXPECT_EQ(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
    EXPECT_EQ(h.nlmsg_len, m.size());
    for (auto& d : make_(h.nlmsg_seq)) pending_.push_back(std::move(d));
    return Ok{};
  }
  Result<size_t> receive(std::span<uint8_t> buf) override {
    if (pending_.empty()) return Error(EAGAIN, "nothing queued");
    auto d = std::move(pending_.front());
    pending_.pop_front();
    std::copy_n(d.begin(), std::min(d.size(), buf.size()), buf.begin());
    return d.size();
  }

 private:
  Make make_;
  std::deque<std::vector<uint8_t>> pending_;
};

Result<DestroySupport> answered(CannedTransport::Make make) {
  return probe_destroy_support(std::make_unique<CannedTransport>(std::move(make)));
}

std::vector<uint8_t> one(uint16_t type, uint32_t seq, uint32_t pid, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> d;
  put_message(d, type, 0, seq, pid, payload);
  return d;
}

// A destroy cannot succeed for the impossible socket; were it ever ACKed,
// the kernel has shown that it can.
TEST(DestroySupport, AnAckMeansSupported) {
  const auto r = answered([](uint32_t seq) { return Datagrams{one(NLMSG_ERROR, seq, kFakePid, error_payload(0))}; });
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, DestroySupport::kSupported);
}

TEST(DestroySupport, MalformedAnswersAreErrors) {
  struct Case {
    const char* what;
    CannedTransport::Make make;
  };
  const std::vector<Case> cases = {
      {"for port id 78",
       [](uint32_t seq) { return Datagrams{one(NLMSG_ERROR, seq, kFakePid + 1, error_payload(-ENOENT))}; }},
      {"netlink message at offset 0: unexpected message type 20",
       [](uint32_t seq) { return Datagrams{one(SOCK_DIAG_BY_FAMILY, seq, kFakePid, error_payload(0))}; }},
      {"netlink message at offset 0: NLMSG_ERROR of 20 bytes is truncated",
       [](uint32_t seq) { return Datagrams{one(NLMSG_ERROR, seq, kFakePid, {0, 0, 0, 0})}; }},
      {"NLMSG_ERROR code 5 is no negative errno",
       [](uint32_t seq) { return Datagrams{one(NLMSG_ERROR, seq, kFakePid, error_payload(5))}; }},
      {"NLMSG_ERROR code -5000 is no negative errno",
       [](uint32_t seq) { return Datagrams{one(NLMSG_ERROR, seq, kFakePid, error_payload(-5000))}; }},
      {"truncated netlink message: 32 bytes left at offset 0",
       [](uint32_t seq) {
         auto d = one(NLMSG_ERROR, seq, kFakePid, error_payload(-ENOENT));
         d.resize(d.size() - 4);
         return Datagrams{d};
       }},
      // A dump's end answers no SOCK_DESTROY.
      {"netlink message at offset 0: unexpected message type 3",
       [](uint32_t seq) { return Datagrams{one(NLMSG_DONE, seq, kFakePid, testing::int_payload(0))}; }},
      {"an empty datagram", [](uint32_t) { return Datagrams{{}}; }},
      // Only answers to other requests, then nothing: the transport's error.
      {"nothing queued",
       [](uint32_t seq) { return Datagrams{one(NLMSG_ERROR, seq - 1, kFakePid, error_payload(-ENOENT))}; }},
      // A transport that keeps answering something else: bounded.
      {"no answer in 8 datagrams",
       [](uint32_t seq) {
         Datagrams many;
         for (int i = 0; i < 20; ++i) many.push_back(one(NLMSG_ERROR, seq + 1, kFakePid, error_payload(-ENOENT)));
         return many;
       }},
  };
  for (const auto& c : cases) {
    const auto r = answered(c.make);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_TRUE(contains(r.error().message(), c.what)) << r.error().message() << "\nwanted: " << c.what;
    EXPECT_TRUE(contains(r.error().message(), "asking whether the kernel has SOCK_DESTROY")) << r.error().message();
  }
}

}  // namespace
}  // namespace tcpreap
