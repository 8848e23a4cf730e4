// CaptureSession without privileges: the step-down through its `attach`
// seam; start() and stop() on a UDP socket, whose attached program the
// kernel reads back (SO_GET_FILTER); the watch loop fed through a Unix
// datagram socket pair; failures through a descriptor that is no socket.

#include "wire/capture_session.h"

#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "unit/allocation_counter.h"

// Instruction by instruction; in the global namespace, where sock_filter is
// and where std::vector's == finds it.
bool operator==(const sock_filter& a, const sock_filter& b) {
  return a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k;
}

namespace tcpreap {
namespace {

using Clock = SegmentWatcher::Clock;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

const Flow kFlow4{ip("10.231.0.1"), ip("10.231.0.2"), 8080, 40000};
const Flow kFlow6{ip("fd00:231::1"), ip("fd00:231::2"), 443, 51234};

size_t program_size(std::span<const Flow> flows, CaptureMatch m, CaptureDirection d = CaptureDirection::kSent) {
  return compile_capture_program(flows, m, d).value().size();
}

// ---- The step-down ----------------------------------------------------------

// An `attach` that fails with `errnums[k]` on its k-th call (0: takes it)
// and records what it was given.
struct ScriptedAttach {
  std::vector<int> errnums;
  std::vector<std::vector<sock_filter>> attached;

  Status operator()(std::span<const sock_filter> code) {
    attached.emplace_back(code.begin(), code.end());
    const size_t k = attached.size() - 1;
    const int e = k < errnums.size() ? errnums[k] : 0;
    if (e != 0) return Error(e, "attempt " + std::to_string(k + 1));
    return Ok{};
  }
};

Result<CaptureMatch> step_down(std::span<const Flow> flows, ScriptedAttach& a,
                               CaptureDirection d = CaptureDirection::kSent) {
  return attach_finest_program(flows, d, [&a](std::span<const sock_filter> code) { return a(code); });
}

TEST(CaptureStepDown, ExactProgramTakenAtOnce) {
  const std::vector<Flow> flows{kFlow4, kFlow6};
  ScriptedAttach a;
  auto m = step_down(flows, a);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(*m, CaptureMatch::kExactFlows);
  ASSERT_EQ(a.attached.size(), 1u);
  EXPECT_EQ(a.attached[0], *compile_capture_program(flows, CaptureMatch::kExactFlows));
}

TEST(CaptureStepDown, EnomemMovesToSourcePortsThenAnyTcp) {
  const std::vector<Flow> flows{kFlow4, kFlow6};
  ScriptedAttach once{{ENOMEM}, {}};
  auto m = step_down(flows, once);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(*m, CaptureMatch::kSourcePorts);
  ASSERT_EQ(once.attached.size(), 2u);
  EXPECT_EQ(once.attached[1], *compile_capture_program(flows, CaptureMatch::kSourcePorts));

  ScriptedAttach twice{{ENOMEM, ENOMEM}, {}};
  m = step_down(flows, twice);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(*m, CaptureMatch::kAnyTcp);
  ASSERT_EQ(twice.attached.size(), 3u);
  EXPECT_EQ(twice.attached[0].size(), program_size(flows, CaptureMatch::kExactFlows));
  EXPECT_EQ(twice.attached[1].size(), program_size(flows, CaptureMatch::kSourcePorts));
  EXPECT_EQ(twice.attached[2], *compile_capture_program(flows, CaptureMatch::kAnyTcp));
}

TEST(CaptureStepDown, EnomemEverywhereReturnsTheLastFailure) {
  const std::vector<Flow> flows{kFlow4};
  ScriptedAttach a{{ENOMEM, ENOMEM, ENOMEM}, {}};
  auto m = step_down(flows, a);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().errnum(), ENOMEM);
  EXPECT_EQ(m.error().context(), "attempt 3");
  EXPECT_EQ(a.attached.size(), 3u);
}

TEST(CaptureStepDown, AnyOtherFailureEndsIt) {
  const std::vector<Flow> flows{kFlow4};
  for (int e : {EINVAL, EPERM, EBADF}) {
    ScriptedAttach a{{e}, {}};
    auto m = step_down(flows, a);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().errnum(), e);
    EXPECT_EQ(a.attached.size(), 1u) << "no coarser program after errno " << e;
  }
}

TEST(CaptureStepDown, ProgramsTooLongToCompileAreNeverAttached) {
  std::vector<Flow> flows;
  for (uint32_t i = 0; i < 5000; ++i) {
    Flow f = i % 2 ? kFlow6 : kFlow4;
    f.src_port = static_cast<uint16_t>(1024 + i);  // a client: a local port each
    flows.push_back(f);
  }
  ScriptedAttach a;
  auto m = step_down(flows, a);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(*m, CaptureMatch::kAnyTcp);
  ASSERT_EQ(a.attached.size(), 1u);
  EXPECT_EQ(a.attached[0], *compile_capture_program(flows, CaptureMatch::kAnyTcp));
}

TEST(CaptureStepDown, CompilesForTheDirectionAsked) {
  const std::vector<Flow> flows{kFlow4};
  ScriptedAttach a{{ENOMEM}, {}};
  ASSERT_TRUE(step_down(flows, a, CaptureDirection::kReceived).ok());
  ASSERT_EQ(a.attached.size(), 2u);
  EXPECT_EQ(a.attached[0], *compile_capture_program(flows, CaptureMatch::kExactFlows, CaptureDirection::kReceived));
  EXPECT_EQ(a.attached[1], *compile_capture_program(flows, CaptureMatch::kSourcePorts, CaptureDirection::kReceived));
}

// ---- start() and stop() -------------------------------------------------------

// The program attached to `fd`, as the kernel kept it.
std::vector<sock_filter> attached_program(int fd) {
  socklen_t n = 0;  // asks for the number of instructions
  if (::getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, nullptr, &n) != 0) return {};
  std::vector<sock_filter> code(n);
  if (n > 0 && ::getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, code.data(), &n) != 0) return {};
  return code;
}

TEST(CaptureSession, StartAttachesTheFinestProgramAndStopLeavesDropAll) {
  // Classic BPF attaches to any socket: a UDP one stands in for AF_PACKET.
  UniqueFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(udp.valid());
  const int fd = udp.get();
  PacketCapture capture(std::move(udp));
  CaptureSession session(capture);
  const std::vector<Flow> flows{kFlow4, kFlow6};
  ASSERT_TRUE(session.start(flows, CaptureDirection::kReceived).ok());
  EXPECT_EQ(session.match(), CaptureMatch::kExactFlows);
  EXPECT_EQ(attached_program(fd),
            *compile_capture_program(flows, CaptureMatch::kExactFlows, CaptureDirection::kReceived));
  auto stopped = session.stop();
  ASSERT_TRUE(stopped.ok()) << stopped.error().message();
  EXPECT_EQ(attached_program(fd), drop_all_program());
}

// The real ENOMEM: 200 exact IPv6 flows (3,815 instructions) fit
// BPF_MAXINSNS but not the default optmem_max of 128 KiB
// (sk_filter_charge()).
TEST(CaptureSession, StartStepsDownWhenTheKernelRefusesTheExactProgram) {
  std::vector<Flow> flows;
  for (uint16_t i = 0; i < 200; ++i) {
    Flow f = kFlow6;
    f.dst_port = static_cast<uint16_t>(10000 + i);
    flows.push_back(f);
  }
  const auto exact = compile_capture_program(flows, CaptureMatch::kExactFlows);
  ASSERT_TRUE(exact.has_value());
  UniqueFd probe(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sock_fprog fprog{static_cast<unsigned short>(exact->size()), const_cast<sock_filter*>(exact->data())};
  if (::setsockopt(probe.get(), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) == 0)
    GTEST_SKIP() << "net.core.optmem_max takes a " << exact->size() << "-instruction program here";
  ASSERT_EQ(errno, ENOMEM);

  UniqueFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int fd = udp.get();
  PacketCapture capture(std::move(udp));
  CaptureSession session(capture);
  ASSERT_TRUE(session.start(flows, CaptureDirection::kSent).ok());
  EXPECT_EQ(session.match(), CaptureMatch::kSourcePorts);
  EXPECT_EQ(attached_program(fd), *compile_capture_program(flows, CaptureMatch::kSourcePorts));
}

TEST(CaptureSession, FailingToRestoreDropAllIsReported) {
  PacketCapture capture(UniqueFd(::eventfd(0, EFD_CLOEXEC)));  // no socket: every setsockopt fails
  ASSERT_GE(capture.fd(), 0);
  CaptureSession session(capture);
  auto stopped = session.stop();
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().errnum(), ENOTSOCK);
  EXPECT_NE(stopped.error().message().find("leaving the capture accepting nothing"), std::string::npos)
      << stopped.error().message();
}

TEST(CaptureSession, StartFailureIsTheKernelsWithoutAStepDown) {
  PacketCapture capture(UniqueFd(::eventfd(0, EFD_CLOEXEC)));
  CaptureSession session(capture);
  const std::vector<Flow> flows{kFlow4};
  auto started = session.start(flows, CaptureDirection::kSent);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().errnum(), ENOTSOCK);
}

TEST(CaptureSession, DropCounterThatCannotBeResetAtStartIsSaidLater) {
  // A UDP socket has no PACKET_STATISTICS: the reset in start() fails.
  PacketCapture capture(UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)));
  CaptureSession session(capture);
  const std::vector<Flow> flows{kFlow4};
  ASSERT_TRUE(session.start(flows, CaptureDirection::kSent).ok()) << "the program is attached all the same";
  auto drops = session.take_drops();
  ASSERT_FALSE(drops.ok());
  EXPECT_NE(drops.error().message().find("from the start"), std::string::npos) << drops.error().message();
}

// ---- watch() ------------------------------------------------------------------

// Collects segments until it has `want`; gives up after `max_ticks` ticks so
// that a broken loop fails the test rather than hanging it.
struct Collector final : SegmentWatcher {
  size_t want = 0;
  int max_ticks = 3;
  std::chrono::milliseconds wake_after{5000};
  std::vector<TcpSegment> got;
  int ticks = 0;

  std::optional<Clock::time_point> tick(Clock::time_point now) override {
    if (++ticks > max_ticks) return std::nullopt;
    return now + wake_after;
  }
  void on_segment(const TcpSegment& seg) override { got.push_back(seg); }
  bool done() const override { return got.size() >= want; }
};

TcpSegment ack_from(const Flow& f, uint32_t seq) {
  TcpSegment s;
  s.flow = f;
  s.flags = tcp_flag::kAck;
  s.seq = seq;
  s.ack = 1;
  s.window = 100;
  return s;
}

// A capture whose frames the test writes into `feed`: a Unix datagram pair,
// one datagram a frame, starting at the IP header as on AF_PACKET SOCK_DGRAM.
struct FedCapture {
  UniqueFd feed;
  PacketCapture capture{UniqueFd()};

  FedCapture() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) != 0) return;
    capture = PacketCapture(UniqueFd(fds[0]));
    feed = UniqueFd(fds[1]);
  }
  bool send(std::span<const uint8_t> bytes) {
    return ::send(feed.get(), bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size());
  }
  bool send(const TcpSegment& s) { return send(build_segment(s).value().data()); }
};

TEST(CaptureSessionWatch, HandsOverParsedSegmentsSkipsMalformedAndStopsWhenDone) {
  FedCapture fed;
  ASSERT_TRUE(fed.feed.valid());
  const uint8_t junk[] = {0x45, 0, 0, 5, 0};
  ASSERT_TRUE(fed.send(ack_from(kFlow4, 1)));
  ASSERT_TRUE(fed.send(junk));
  ASSERT_TRUE(fed.send(ack_from(kFlow6, 2)));
  ASSERT_TRUE(fed.send(ack_from(kFlow4, 3)));  // after the watcher is done: left queued

  CaptureSession session(fed.capture);
  Collector c;
  c.want = 2;
  auto watched = session.watch(c);
  ASSERT_TRUE(watched.ok()) << watched.error().message();
  ASSERT_EQ(c.got.size(), 2u);
  EXPECT_EQ(c.got[0], ack_from(kFlow4, 1));
  EXPECT_EQ(c.got[1], ack_from(kFlow6, 2));
  EXPECT_EQ(c.ticks, 1) << "the frames were queued before the first wait";

  uint8_t left[64];
  const ssize_t n = ::recv(fed.capture.fd(), left, sizeof left, MSG_DONTWAIT);
  ASSERT_EQ(n, 40) << "the third segment stays queued";
  EXPECT_EQ(parse_segment({left, 40}).value(), ack_from(kFlow4, 3));
}

TEST(CaptureSessionWatch, RunsTheTimersUntilTheyEndIt) {
  FedCapture fed;
  ASSERT_TRUE(fed.feed.valid());
  CaptureSession session(fed.capture);
  Collector c;
  c.want = 1;
  c.max_ticks = 3;
  c.wake_after = std::chrono::milliseconds(0);  // due at once: a poll that does not wait
  ASSERT_TRUE(session.watch(c).ok());
  EXPECT_EQ(c.ticks, 4) << "three ticks each followed by a wait, the fourth ended the watch";
  EXPECT_TRUE(c.got.empty());
}

TEST(CaptureSessionWatch, AWatcherAlreadyDoneIsNotTicked) {
  FedCapture fed;
  ASSERT_TRUE(fed.feed.valid());
  ASSERT_TRUE(fed.send(ack_from(kFlow4, 1)));
  CaptureSession session(fed.capture);
  Collector c;  // wants nothing
  ASSERT_TRUE(session.watch(c).ok());
  EXPECT_EQ(c.ticks, 0);
  EXPECT_TRUE(c.got.empty());
}

TEST(CaptureSessionWatch, AReadFailureEndsItWithTheError) {
  // Readable (a count of 1) yet no socket: recvfrom() fails.
  PacketCapture capture(UniqueFd(::eventfd(1, EFD_CLOEXEC)));
  CaptureSession session(capture);
  Collector c;
  c.want = 1;
  auto watched = session.watch(c);
  ASSERT_FALSE(watched.ok());
  EXPECT_EQ(watched.error().errnum(), ENOTSOCK);
  EXPECT_NE(watched.error().message().find("receiving from the AF_PACKET capture"), std::string::npos)
      << watched.error().message();
}

TEST(CaptureSessionWatch, AllocatesNothingPerFrame) {
  constexpr size_t kFrames = 64;
  FedCapture fed;
  ASSERT_TRUE(fed.feed.valid());
  CaptureSession session(fed.capture);
  Collector c;
  c.got.reserve(kFrames + 1);

  // The canary: a malformed frame's parse error allocates its message, and
  // the count sees it.
  const uint8_t junk[] = {0x45, 0, 0, 5, 0};
  ASSERT_TRUE(fed.send(junk));
  ASSERT_TRUE(fed.send(ack_from(kFlow4, 0)));
  c.want = 1;
  uint64_t before = test::allocations();
  ASSERT_TRUE(session.watch(c).ok());
  EXPECT_GT(test::allocations(), before) << "the count does not see the watch loop";

  for (uint32_t i = 1; i <= kFrames; ++i) ASSERT_TRUE(fed.send(ack_from(i % 2 ? kFlow6 : kFlow4, i)));
  c.want = 1 + kFrames;
  c.ticks = 0;
  before = test::allocations();
  ASSERT_TRUE(session.watch(c).ok());
  EXPECT_EQ(test::allocations(), before);
  EXPECT_EQ(c.got.size(), 1 + kFrames);
}

}  // namespace
}  // namespace tcpreap
