// DiagLookup's requests and the reading of their answers, against a
// scripted kernel, byte for byte: what it asks (one exact 4-tuple, no
// cookie, no dump), how each answer is classified, and that a malformed or
// failed answer is an error that retires the netlink socket. The real
// kernel's side: tests/integration/socket_presence_kernel_test.cpp.

#include "diag/socket_presence.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <optional>

#include "diag/inet_diag_decoder.h"
#include "net/tcp_state.h"
#include "unit/netlink_builder.h"

namespace tcpreap {
namespace {

constexpr uint32_t kPid = 91;
using Datagrams = std::vector<std::vector<uint8_t>>;
using Answer = std::function<Datagrams(const nlmsghdr&, const inet_diag_req_v2&)>;

// Records each request and queues the datagrams `answer` makes of it.
class ScriptedKernel final : public NetlinkTransport {
 public:
  ScriptedKernel(const Answer& answer, std::vector<inet_diag_req_v2>& requests, std::vector<nlmsghdr>& headers)
      : answer_(answer), requests_(requests), headers_(headers) {}
  uint32_t portid() const override { return kPid; }
  Status send(std::span<const uint8_t> m) override {
    EXPECT_EQ(m.size(), NLMSG_HDRLEN + sizeof(inet_diag_req_v2)) << "one request per send";
    nlmsghdr h;
    std::memcpy(&h, m.data(), sizeof h);
    inet_diag_req_v2 req;
    std::memcpy(&req, m.data() + NLMSG_HDRLEN, sizeof req);
    headers_.push_back(h);
    requests_.push_back(req);
    for (auto& d : answer_(h, req)) pending_.push_back(std::move(d));
    return Ok{};
  }
  Result<size_t> receive(std::span<uint8_t> buf) override {
    if (pending_.empty()) return Error(EAGAIN, "no answer queued");
    auto d = std::move(pending_.front());
    pending_.pop_front();
    if (!d.empty()) std::memcpy(buf.data(), d.data(), d.size());
    return d.size();
  }

 private:
  const Answer& answer_;
  std::vector<inet_diag_req_v2>& requests_;
  std::vector<nlmsghdr>& headers_;
  std::deque<std::vector<uint8_t>> pending_;
};

TcpSocket dumped(uint64_t cookie, uint8_t state = 1) {
  auto b = testing::socket_payload(testing::diag_msg(AF_INET6, state, "fd00::1", 2181, "fd00::2", 40000, cookie));
  return *decode_inet_diag({b.data(), b.size()});
}

// A datagram holding the kernel's answer to `h`: a socket with `cookie`.
std::vector<uint8_t> found(const nlmsghdr& h, uint64_t cookie, uint8_t state = 1, uint32_t pid = kPid) {
  std::vector<uint8_t> d;
  testing::put_message(
      d, SOCK_DIAG_BY_FAMILY, 0, h.nlmsg_seq, pid,
      testing::socket_payload(testing::diag_msg(AF_INET6, state, "fd00::1", 2181, "fd00::2", 40000, cookie)));
  return d;
}
std::vector<uint8_t> error(const nlmsghdr& h, int negative_errno) {
  std::vector<uint8_t> d;
  testing::put_message(d, NLMSG_ERROR, 0, h.nlmsg_seq, kPid, testing::error_payload(negative_errno));
  return d;
}

struct Rig {
  Answer answer;
  std::vector<inet_diag_req_v2> requests;
  std::vector<nlmsghdr> headers;
  int opened = 0;
  std::optional<DiagLookup> lookup;

  Rig() {
    auto l = DiagLookup::open([this]() -> Result<std::unique_ptr<NetlinkTransport>> {
      ++opened;
      return std::unique_ptr<NetlinkTransport>(std::make_unique<ScriptedKernel>(answer, requests, headers));
    });
    EXPECT_TRUE(l.ok());
    lookup.emplace(std::move(*l));
  }
  Result<TupleHolder> look(const TcpSocket& s) {
    const TcpSocket* p = &s;
    auto r = lookup->look(std::span(&p, 1));
    if (!r) return r.error();
    EXPECT_EQ(r->size(), 1u);
    return r->front();
  }
};

TEST(DiagLookup, AsksForTheExactFourTupleWithoutCookieAndNoDump) {
  Rig rig;
  rig.answer = [](const nlmsghdr& h, const inet_diag_req_v2&) { return Datagrams{error(h, -ENOENT)}; };
  const TcpSocket s = dumped(0x1122334455667788ull);
  ASSERT_TRUE(rig.look(s).ok());
  ASSERT_EQ(rig.requests.size(), 1u);
  const nlmsghdr& h = rig.headers[0];
  EXPECT_EQ(h.nlmsg_type, SOCK_DIAG_BY_FAMILY);
  EXPECT_EQ(h.nlmsg_flags, NLM_F_REQUEST) << "no NLM_F_DUMP: a lookup, not a walk of the hash";
  const inet_diag_req_v2& req = rig.requests[0];
  EXPECT_EQ(req.sdiag_family, AF_INET6);
  EXPECT_EQ(req.sdiag_protocol, IPPROTO_TCP);
  EXPECT_EQ(req.idiag_ext, 0) << "no tcp_info wanted";
  inet_diag_sockid want = s.sockid();
  want.idiag_cookie[0] = want.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  EXPECT_EQ(std::memcmp(&req.id, &want, sizeof want), 0) << "the 4-tuple and interface verbatim, no cookie";
}

TEST(DiagLookup, ClassifiesWhatTheKernelFinds) {
  Rig rig;
  const TcpSocket s = dumped(7);
  const uint8_t listen = static_cast<uint8_t>(TcpState::kListen);
  const uint8_t time_wait = static_cast<uint8_t>(TcpState::kTimeWait);
  struct Case {
    std::function<std::vector<uint8_t>(const nlmsghdr&)> answer;
    TupleHolder want;
  };
  const std::vector<Case> cases = {
      {[](const nlmsghdr& h) { return found(h, 7); }, {TupleHolder::Kind::kItself, 7, 1}},
      {[&](const nlmsghdr& h) { return found(h, 7, time_wait); }, {TupleHolder::Kind::kItself, 7, time_wait}},
      {[](const nlmsghdr& h) { return found(h, 8); }, {TupleHolder::Kind::kOther, 8, 1}},
      {[&](const nlmsghdr& h) { return found(h, 9, listen); }, {TupleHolder::Kind::kListener, 9, listen}},
      {[](const nlmsghdr& h) { return error(h, -ENOENT); }, {}},
  };
  for (const Case& c : cases) {
    rig.answer = [&](const nlmsghdr& h, const inet_diag_req_v2&) { return Datagrams{c.answer(h)}; };
    auto got = rig.look(s);
    ASSERT_TRUE(got.ok()) << got.error().message();
    EXPECT_EQ(*got, c.want) << got->describe();
  }
  EXPECT_EQ(rig.opened, 1);
}

// Answers to earlier requests (an older sequence number) are read past.
TEST(DiagLookup, SkipsAnswersToEarlierRequests) {
  Rig rig;
  rig.answer = [](const nlmsghdr& h, const inet_diag_req_v2&) {
    nlmsghdr old = h;
    old.nlmsg_seq -= 3;
    std::vector<uint8_t> both = found(old, 8);
    const auto mine = found(h, 7);
    both.insert(both.end(), mine.begin(), mine.end());
    return Datagrams{error(old, -ENOENT), both};
  };
  auto got = rig.look(dumped(7));
  ASSERT_TRUE(got.ok()) << got.error().message();
  EXPECT_TRUE(got->itself());
}

// Each malformed or refused answer is an error naming the 4-tuple, and the
// netlink socket it came on is replaced before the next lookup.
TEST(DiagLookup, AMalformedOrRefusedAnswerIsAnErrorAndRetiresTheSocket) {
  Rig rig;
  const TcpSocket s = dumped(7);
  struct Case {
    const char* what;
    std::function<Datagrams(const nlmsghdr&)> answer;
    int errnum;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"refused", [](const nlmsghdr& h) { return Datagrams{error(h, -EACCES)}; }, EACCES, "refused the lookup"},
      {"not an errno", [](const nlmsghdr& h) { return Datagrams{error(h, -5000)}; }, 0, "no negative errno"},
      {"truncated error",
       [](const nlmsghdr& h) {
         std::vector<uint8_t> d;
         testing::put_message(d, NLMSG_ERROR, 0, h.nlmsg_seq, kPid, testing::int_payload(-ENOENT));
         return Datagrams{d};
       },
       0, "NLMSG_ERROR of 20 bytes is truncated"},
      {"other port id", [](const nlmsghdr& h) { return Datagrams{found(h, 7, 1, kPid + 1)}; }, 0, "port id"},
      {"unexpected type",
       [](const nlmsghdr& h) {
         std::vector<uint8_t> d;
         testing::put_message(d, NLMSG_DONE, 0, h.nlmsg_seq, kPid, testing::int_payload(0));
         return Datagrams{d};
       },
       0, "unexpected message type"},
      {"cut short",
       [](const nlmsghdr& h) {
         auto d = found(h, 7);
         d.resize(d.size() - 8);
         return Datagrams{d};
       },
       0, "truncated"},
      {"empty", [](const nlmsghdr&) { return Datagrams{std::vector<uint8_t>{}}; }, 0, "empty datagram"},
      {"silence", [](const nlmsghdr&) { return Datagrams{}; }, EAGAIN, "no answer"},
  };
  int opened = rig.opened;
  for (const Case& c : cases) {
    rig.answer = [&](const nlmsghdr& h, const inet_diag_req_v2&) { return c.answer(h); };
    auto got = rig.look(s);
    ASSERT_FALSE(got.ok()) << c.what;
    EXPECT_EQ(got.error().errnum(), c.errnum) << c.what << ": " << got.error().message();
    EXPECT_NE(got.error().message().find(c.says), std::string::npos) << c.what << ": " << got.error().message();
    EXPECT_NE(got.error().message().find("looking up [fd00::1]:2181"), std::string::npos) << got.error().message();
    // The next lookup starts on a fresh socket and succeeds.
    rig.answer = [](const nlmsghdr& h, const inet_diag_req_v2&) { return Datagrams{found(h, 7)}; };
    auto next = rig.look(s);
    ASSERT_TRUE(next.ok()) << c.what << ": " << next.error().message();
    EXPECT_TRUE(next->itself());
    EXPECT_EQ(rig.opened, ++opened) << c.what;
  }
}

// Several sockets: one answer each, in order; the first failure fails the
// whole call.
TEST(DiagLookup, LooksUpEverySocketInOrder) {
  Rig rig;
  const TcpSocket a = dumped(1), b = dumped(2), c = dumped(3);
  int n = 0;
  rig.answer = [&n](const nlmsghdr& h, const inet_diag_req_v2&) {
    switch (n++) {
      case 0: return Datagrams{found(h, 1)};
      case 1: return Datagrams{error(h, -ENOENT)};
      default: return Datagrams{found(h, 4)};
    }
  };
  const TcpSocket* all[] = {&a, &b, &c};
  auto got = rig.lookup->look(all);
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].kind, TupleHolder::Kind::kItself);
  EXPECT_EQ((*got)[1].kind, TupleHolder::Kind::kNobody);
  EXPECT_EQ((*got)[2], (TupleHolder{TupleHolder::Kind::kOther, 4, 1}));

  rig.answer = [](const nlmsghdr& h, const inet_diag_req_v2&) { return Datagrams{error(h, -EPERM)}; };
  auto failed = rig.lookup->look(all);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(rig.requests.size(), 4u) << "stops at the first failure";
}

}  // namespace
}  // namespace tcpreap
