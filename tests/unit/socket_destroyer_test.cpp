// SOCK_DESTROY requests and the classification of their answers, against a
// scripted kernel: what a namespace cannot produce on demand (EOPNOTSUPP
// needs a kernel without CONFIG_INET_DIAG_DESTROY; ENOBUFS a receive buffer
// overflowing at the right moment). The real kernel's side is
// tests/integration/reap_test.cpp and socket_destroyer_kernel_test.cpp.

#include "reap/socket_destroyer.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <optional>

#include "unit/scripted_destroy_kernel.h"

namespace tcpreap {
namespace {

using testing::FakeDestroyKernel;
using testing::FakeLookup;
using testing::socket_with_cookie;
using testing::sockets_with_cookies;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A destroyer on a scripted kernel: netlink sockets opened on `kernel`,
// lost answers settled by `lookup` (which reads the same live set).
struct Rig {
  FakeDestroyKernel kernel;
  FakeLookup* lookup = nullptr;
  std::optional<SocketDestroyer> destroyer;

  Rig() {
    auto l = std::make_unique<FakeLookup>(kernel);
    lookup = l.get();
    auto d = SocketDestroyer::open(kernel.opener(), std::move(l));
    EXPECT_TRUE(d.ok()) << d.error().message();
    destroyer.emplace(std::move(*d));
  }
  std::vector<ReapOutcome> destroy(std::span<const TcpSocket> sockets) { return destroyer->destroy(sockets); }
};

// What a kernel that answered everything says of socket `c`, given the errno
// it answered (kernel.refuse, or ENOENT for one not alive).
ReapResult answered_result(int e) {
  switch (e) {
    case 0: return ReapResult::kDone;
    case ENOENT: return ReapResult::kAlreadyGone;
    case EOPNOTSUPP: return ReapResult::kUnsupported;
    case EPERM: return ReapResult::kNotPermitted;
    default: return ReapResult::kFailed;
  }
}

TEST(SocketDestroyer, ClassifiesEveryAnswer) {
  Rig rig;
  const std::map<uint64_t, int> errnos = {{1, 0}, {2, ENOENT}, {3, EOPNOTSUPP}, {4, EPERM}, {5, EINVAL}};
  rig.kernel.alive = {1, 3, 4, 5};
  rig.kernel.refuse = [&](uint64_t c) { return errnos.at(c); };
  const std::vector<TcpSocket> sockets = sockets_with_cookies(1, 5);
  auto r = rig.destroy(sockets);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].result, ReapResult::kDone);
  EXPECT_EQ(r[1].result, ReapResult::kAlreadyGone);
  EXPECT_EQ(r[2].result, ReapResult::kUnsupported);
  EXPECT_EQ(r[3].result, ReapResult::kNotPermitted);
  EXPECT_TRUE(contains(r[3].detail, "CAP_NET_ADMIN")) << r[3].detail;
  EXPECT_EQ(r[4].result, ReapResult::kFailed);
  EXPECT_EQ(r[4].errnum, EINVAL);
  EXPECT_EQ(r[4].detail, "SOCK_DESTROY: Invalid argument");
  for (const auto& o : r) EXPECT_EQ(o.via, ReapVia::kDestroy);
  EXPECT_EQ(rig.lookup->calls, 0) << "every answer arrived: nothing to look up";
  // The dumped sockid went out verbatim, cookie included.
  ASSERT_EQ(rig.kernel.requests.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const inet_diag_sockid id = sockets[i].sockid();
    EXPECT_EQ(std::memcmp(&rig.kernel.requests[i].id, &id, sizeof id), 0);
    EXPECT_EQ(rig.kernel.requests[i].sdiag_protocol, IPPROTO_TCP);
    EXPECT_EQ(rig.kernel.requests[i].sdiag_family, sockets[i].family == Family::kIPv4 ? AF_INET : AF_INET6);
  }
}

TEST(SocketDestroyer, BatchesRequestsAndReadsEveryAnswer) {
  Rig rig;
  const std::vector<TcpSocket> sockets = sockets_with_cookies(1, 600);
  rig.kernel.add_alive(sockets);
  for (uint64_t c = 7; c <= 600; c += 7) rig.kernel.alive.erase(c);
  auto r = rig.destroy(sockets);
  EXPECT_EQ(rig.kernel.batch_sizes, (std::vector<size_t>{256, 256, 88}));
  ASSERT_EQ(r.size(), sockets.size());
  for (size_t i = 0; i < sockets.size(); ++i)
    EXPECT_EQ(r[i].result, (i + 1) % 7 == 0 ? ReapResult::kAlreadyGone : ReapResult::kDone) << i;
  // And again: sequence numbers move on, answers still match.
  const std::vector<TcpSocket> more = sockets_with_cookies(1001, 1003);
  rig.kernel.add_alive(more);
  auto again = rig.destroy(more);
  ASSERT_EQ(again.size(), 3u);
  for (const auto& o : again) EXPECT_EQ(o.result, ReapResult::kDone) << o.detail;
  EXPECT_EQ(rig.kernel.opened, 1) << "no trouble, no new socket";
}

// Batch 2 of 3 overflows the receive buffer: two datagrams of its answers
// arrive, then ENOBUFS, the rest lost. What was answered stands; the rest of
// that batch is settled by a lookup; batches 1 and 3 are unaffected; and
// the next call, on a new socket, reports exactly.
TEST(SocketDestroyer, EnobufsInTheMiddleOfABatchKeepsTheAnswersReadAndLooksUpTheRest) {
  Rig rig;
  const std::vector<TcpSocket> sockets = sockets_with_cookies(1, 600);
  rig.kernel.add_alive(sockets);
  for (uint64_t c = 7; c <= 600; c += 7) rig.kernel.alive.erase(c);  // ENOENT
  rig.kernel.refuse = [](uint64_t c) { return c % 11 == 0 ? EPERM : 0; };  // stays there
  rig.kernel.overflows[1] = {2, false};
  const std::set<uint64_t> gone_before = [&] {
    std::set<uint64_t> g;
    for (uint64_t c = 7; c <= 600; c += 7) g.insert(c);
    return g;
  }();

  auto r = rig.destroy(sockets);
  ASSERT_EQ(r.size(), sockets.size());
  int answered = 0, lost_there = 0, lost_gone = 0;
  for (size_t i = 0; i < sockets.size(); ++i) {
    const uint64_t c = sockets[i].cookie;
    const int e = gone_before.contains(c) ? ENOENT : c % 11 == 0 ? EPERM : 0;
    const bool in_batch_2 = i >= 256 && i < 512;
    const bool answer_lost = in_batch_2 && !rig.kernel.answer_read.contains(c) && e != 0;
    // A success has no answer of its own: in batch 2 only the lookup can tell.
    const bool unanswered = in_batch_2 && (e == 0 || answer_lost);
    EXPECT_EQ(r[i].via, ReapVia::kDestroy);
    if (!unanswered) {
      EXPECT_EQ(r[i].result, answered_result(e)) << "socket " << i << ": " << r[i].detail;
      answered += in_batch_2;
    } else if (rig.kernel.alive.contains(c)) {
      EXPECT_EQ(r[i].result, ReapResult::kFailed) << "socket " << i;
      EXPECT_EQ(r[i].errnum, ENOBUFS);
      EXPECT_TRUE(contains(r[i].detail, "answer was lost") && contains(r[i].detail, "still holds")) << r[i].detail;
      ++lost_there;
    } else {
      EXPECT_EQ(r[i].result, ReapResult::kDone) << "socket " << i << ": " << r[i].detail;
      EXPECT_TRUE(contains(r[i].detail, "answer was lost") && contains(r[i].detail, "lookup")) << r[i].detail;
      ++lost_gone;
    }
  }
  // The script produced every case, or this test proves nothing.
  EXPECT_EQ(answered, 20);
  EXPECT_GT(lost_there, 0);
  EXPECT_GT(lost_gone, 0);
  EXPECT_EQ(rig.kernel.batch_sizes, (std::vector<size_t>{256, 256, 88}));
  EXPECT_EQ(rig.lookup->looked_up, static_cast<size_t>(lost_there + lost_gone)) << "only batch 2's unanswered";

  const std::vector<TcpSocket> more = sockets_with_cookies(4001, 4003);  // none refused (c % 11 != 0)
  rig.kernel.add_alive(more);
  rig.kernel.alive.erase(4002);
  auto again = rig.destroy(more);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].result, ReapResult::kDone) << again[0].detail;
  EXPECT_EQ(again[1].result, ReapResult::kAlreadyGone) << again[1].detail;
  EXPECT_EQ(again[2].result, ReapResult::kDone) << again[2].detail;
  EXPECT_EQ(rig.kernel.opened, 2) << "a new netlink socket after the error";
}

// The send of batch 2 of 3 fails: the kernel processed none of it (a
// netlink send either delivers the whole datagram or nothing). Its sockets
// fail saying so; batches 1 and 3 stand; a second call destroys them.
TEST(SocketDestroyer, ASendErrorInBatchTwoOfThreeFailsThatBatchOnly) {
  Rig rig;
  const std::vector<TcpSocket> sockets = sockets_with_cookies(1, 600);
  rig.kernel.add_alive(sockets);
  rig.kernel.alive.erase(5);
  rig.kernel.alive.erase(555);
  rig.kernel.send_fails[1] = ENOBUFS;

  auto r = rig.destroy(sockets);
  ASSERT_EQ(r.size(), sockets.size());
  for (size_t i = 0; i < sockets.size(); ++i) {
    if (i >= 256 && i < 512) {
      EXPECT_EQ(r[i].result, ReapResult::kFailed) << i;
      EXPECT_EQ(r[i].errnum, ENOBUFS) << i;
      EXPECT_TRUE(contains(r[i].detail, "not sent")) << r[i].detail;
      EXPECT_TRUE(rig.kernel.alive.contains(sockets[i].cookie)) << "the kernel never saw its request";
    } else {
      EXPECT_EQ(r[i].result, i == 4 || i == 554 ? ReapResult::kAlreadyGone : ReapResult::kDone)
          << i << ": " << r[i].detail;
    }
  }
  EXPECT_EQ(rig.kernel.batch_sizes, (std::vector<size_t>{256, 88}));
  EXPECT_EQ(rig.lookup->calls, 0) << "nothing was sent, nothing to look up";

  auto again = rig.destroy(std::span(sockets).subspan(256, 256));
  ASSERT_EQ(again.size(), 256u);
  for (const auto& o : again) EXPECT_EQ(o.result, ReapResult::kDone) << o.detail;
  EXPECT_EQ(rig.kernel.opened, 2);
}

// ENOBUFS is reported before the answers that did fit, which stay queued on
// the socket. They must not be read as the answers of the next call.
TEST(SocketDestroyer, AnswersLeftQueuedByAnEarlierCallDoNotSpoilTheNext) {
  Rig rig;
  const std::vector<TcpSocket> first = sockets_with_cookies(1, 3);
  rig.kernel.add_alive(first);
  rig.kernel.refuse = [](uint64_t c) { return c == 2 || c == 5 ? EPERM : 0; };
  rig.kernel.overflows[0] = {0, true};

  auto r = rig.destroy(first);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].result, ReapResult::kDone) << r[0].detail;
  EXPECT_EQ(r[1].result, ReapResult::kFailed) << r[1].detail;  // refused, its answer unread: still there
  EXPECT_TRUE(contains(r[1].detail, "still holds")) << r[1].detail;
  EXPECT_EQ(r[2].result, ReapResult::kDone) << r[2].detail;

  const std::vector<TcpSocket> second = sockets_with_cookies(4, 6);
  rig.kernel.add_alive(second);
  auto again = rig.destroy(second);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].result, ReapResult::kDone) << again[0].detail;
  EXPECT_EQ(again[1].result, ReapResult::kNotPermitted) << again[1].detail;
  EXPECT_EQ(again[2].result, ReapResult::kDone) << again[2].detail;
  EXPECT_EQ(again[0].detail, "") << "answered, not looked up";
}

// An answer to a request of an earlier call (an older sequence number) on
// the socket is skipped, not taken for a broken socket.
TEST(SocketDestroyer, AStrayAnswerWithAnOldSequenceNumberIsSkipped) {
  Rig rig;
  const std::vector<TcpSocket> sockets = sockets_with_cookies(1, 3);
  rig.kernel.add_alive(sockets);
  rig.kernel.alive.erase(2);
  rig.kernel.stray_before[0] = 5;
  auto r = rig.destroy(sockets);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].result, ReapResult::kDone) << r[0].detail;
  EXPECT_EQ(r[1].result, ReapResult::kAlreadyGone) << r[1].detail;
  EXPECT_EQ(r[2].result, ReapResult::kDone) << r[2].detail;
  EXPECT_EQ(rig.lookup->calls, 0);

  const std::vector<TcpSocket> more = sockets_with_cookies(4, 5);
  rig.kernel.add_alive(more);
  auto again = rig.destroy(more);
  ASSERT_EQ(again.size(), 2u);
  for (const auto& o : again) EXPECT_EQ(o.result, ReapResult::kDone) << o.detail;
  EXPECT_EQ(rig.kernel.opened, 1);
}

// When the lookup that should settle a lost answer fails too, the socket
// fails and the detail says both.
TEST(SocketDestroyer, ALostAnswerWhoseLookupFailsIsFailedSayingBoth) {
  Rig rig;
  const std::vector<TcpSocket> sockets = sockets_with_cookies(1, 2);
  rig.kernel.add_alive(sockets);
  rig.kernel.overflows[0] = {0, false};
  rig.lookup->fail = Error(EIO, "looking up 10.0.0.1:2181 10.0.0.2:10001");
  auto r = rig.destroy(sockets);
  ASSERT_EQ(r.size(), 2u);
  for (const auto& o : r) {
    EXPECT_EQ(o.result, ReapResult::kFailed);
    EXPECT_EQ(o.errnum, EIO);
    EXPECT_TRUE(contains(o.detail, "answer was lost") && contains(o.detail, "Input/output error")) << o.detail;
  }
}

// No new netlink socket after an error: that call's sockets fail, saying
// why; the next call tries again.
TEST(SocketDestroyer, ASocketThatCannotBeReopenedFailsThatCallOnly) {
  Rig rig;
  const std::vector<TcpSocket> sockets = sockets_with_cookies(1, 4);
  rig.kernel.add_alive(sockets);
  rig.kernel.overflows[0] = {0, false};
  auto r = rig.destroy(std::span(sockets).first(1));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].result, ReapResult::kDone) << r[0].detail;  // by lookup

  rig.kernel.open_failures_left = 1;
  auto failed = rig.destroy(std::span(sockets).subspan(1, 2));
  ASSERT_EQ(failed.size(), 2u);
  for (const auto& o : failed) {
    EXPECT_EQ(o.result, ReapResult::kFailed);
    EXPECT_EQ(o.errnum, EMFILE);
    EXPECT_TRUE(contains(o.detail, "not sent")) << o.detail;
  }
  auto again = rig.destroy(std::span(sockets).subspan(1, 3));
  ASSERT_EQ(again.size(), 3u);
  for (const auto& o : again) EXPECT_EQ(o.result, ReapResult::kDone) << o.detail;
}

// Answers given as bytes, for the faults a scripted kernel never makes:
// `answer` builds a batch's datagrams from its first sequence number and
// request count; receive() hands them out, then reports EAGAIN.
class ScriptedAnswers final : public NetlinkTransport {
 public:
  using Answer = std::function<std::vector<std::vector<uint8_t>>(uint32_t first_seq, size_t count)>;
  explicit ScriptedAnswers(Answer answer) : answer_(std::move(answer)) {}
  uint32_t portid() const override { return testing::kFakePid; }
  Status send(std::span<const uint8_t> m) override {
    nlmsghdr h;
    std::memcpy(&h, m.data(), sizeof h);
    for (auto& d : answer_(h.nlmsg_seq, m.size() / NLMSG_ALIGN(h.nlmsg_len))) pending_.push_back(std::move(d));
    return Ok{};
  }
  Result<size_t> receive(std::span<uint8_t> buf) override {
    if (pending_.empty()) return Error(EAGAIN, "no answer queued");
    std::vector<uint8_t> d = std::move(pending_.front());
    pending_.pop_front();
    if (!d.empty()) std::memcpy(buf.data(), d.data(), d.size());  // an empty vector's data() may be null
    return d.size();
  }

 private:
  Answer answer_;
  std::deque<std::vector<uint8_t>> pending_;
};

std::vector<uint8_t> answer(uint32_t seq, int error, uint32_t pid = testing::kFakePid) {
  std::vector<uint8_t> d;
  testing::put_message(d, NLMSG_ERROR, 0, seq, pid, testing::error_payload(-error));
  return d;
}

// Answers are read through ReplyReader: its framing errors end the batch.
// Socket 0's answer, read before the fault, stands; sockets 1 and 2 have
// none, and with nothing to look them up they fail, saying why.
TEST(SocketDestroyer, AMalformedAnswerFailsTheUnansweredSayingWhy) {
  struct Case {
    const char* what;
    std::function<std::vector<uint8_t>(uint32_t first_seq)> fault;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"error code cut short",
       [](uint32_t s) {
         std::vector<uint8_t> d;
         testing::put_message(d, NLMSG_ERROR, 0, s + 1, testing::kFakePid, testing::int_payload(-EPERM));
         return d;
       },
       "netlink message at offset 0: NLMSG_ERROR of 20 bytes is truncated"},
      {"another port id", [](uint32_t s) { return answer(s + 2, 0, testing::kFakePid + 1); },
       "netlink message at offset 0 is for port id 78, ours is 77"},
      {"no errno", [](uint32_t s) { return answer(s + 1, 5000); },
       "netlink message at offset 0: NLMSG_ERROR code -5000 is no negative errno"},
      {"a DONE",
       [](uint32_t s) {
         std::vector<uint8_t> d;
         testing::put_message(d, NLMSG_DONE, NLM_F_MULTI, s + 2, testing::kFakePid, testing::int_payload(0));
         return d;
       },
       "netlink message at offset 0: unexpected message type 3"},
      {"cut short",
       [](uint32_t s) {
         auto d = answer(s + 2, 0);
         d.resize(d.size() - 4);
         return d;
       },
       "truncated netlink message: 32 bytes left at offset 0"},
      {"a length below a header",
       [](uint32_t s) {
         auto d = answer(s + 2, 0);
         const uint32_t len = 8;
         std::memcpy(d.data(), &len, sizeof len);
         return d;
       },
       "truncated netlink message: 36 bytes left at offset 0"},
      {"empty", [](uint32_t) { return std::vector<uint8_t>{}; }, "an empty datagram"},
  };
  const std::vector<TcpSocket> sockets = sockets_with_cookies(1, 3);
  for (const Case& c : cases) {
    SocketDestroyer destroyer(std::make_unique<ScriptedAnswers>([&](uint32_t first_seq, size_t count) {
      EXPECT_EQ(count, 3u);
      return std::vector<std::vector<uint8_t>>{answer(first_seq, EPERM), c.fault(first_seq)};
    }));
    auto r = destroyer.destroy(sockets);
    ASSERT_EQ(r.size(), 3u) << c.what;
    EXPECT_EQ(r[0].result, ReapResult::kNotPermitted) << c.what << ": " << r[0].detail;
    for (size_t i = 1; i < 3; ++i) {
      EXPECT_EQ(r[i].result, ReapResult::kFailed) << c.what;
      EXPECT_EQ(r[i].errnum, 0) << c.what;
      EXPECT_EQ(r[i].detail, std::string("the SOCK_DESTROY answer was lost (reading SOCK_DESTROY answers: ") +
                                 c.says + "), and nothing can look the socket up")
          << c.what;
    }
  }
}

// Several answers in a datagram, an earlier request's answer and a NOOP
// among them: the strays are skipped, the rest read in order.
TEST(SocketDestroyer, ReadsAnswersAmongStraysAndNoops) {
  const std::vector<TcpSocket> sockets = sockets_with_cookies(1, 3);
  SocketDestroyer destroyer(std::make_unique<ScriptedAnswers>([](uint32_t first_seq, size_t) {
    std::vector<uint8_t> d = answer(first_seq - 1, EPERM);
    testing::put_message(d, NLMSG_NOOP, 0, first_seq, testing::kFakePid, {});
    const auto second = answer(first_seq + 1, ENOENT);
    d.insert(d.end(), second.begin(), second.end());
    return std::vector<std::vector<uint8_t>>{d, answer(first_seq + 3, EPERM), answer(first_seq + 2, 0)};
  }));
  auto r = destroyer.destroy(sockets);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].result, ReapResult::kDone) << r[0].detail;
  EXPECT_EQ(r[1].result, ReapResult::kAlreadyGone) << r[1].detail;
  EXPECT_EQ(r[2].result, ReapResult::kDone) << r[2].detail;
}

TEST(SocketDestroyer, NothingToDoSendsNothing) {
  Rig rig;
  EXPECT_TRUE(rig.destroy({}).empty());
  EXPECT_TRUE(rig.kernel.batch_sizes.empty());
}

}  // namespace
}  // namespace tcpreap
