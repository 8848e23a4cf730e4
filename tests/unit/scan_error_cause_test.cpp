// The causes of tcpreap_scan_errors_by_cause_total: the errno of each, and
// the errors the real scanner returns - against a scripted transport - land
// on the cause they should, so a change of the scanner's errors shows here.

#include "metrics/scan_error_cause.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <set>
#include <string>

#include "diag/socket_scanner.h"
#include "unit/netlink_builder.h"

namespace tcpreap {
namespace {

using Datagrams = std::vector<std::vector<uint8_t>>;

using testing::diag_msg;
using testing::error_payload;
using testing::int_payload;
using testing::put_message;
using testing::socket_payload;

std::string cause_of(const Error& e) { return scan_error_cause_name(scan_error_cause(e)); }

TEST(ScanErrorCause, EachErrnoHasItsCause) {
  const std::vector<std::pair<int, std::string>> cases = {
      {ENOBUFS, "buffer-overrun"}, {EMFILE, "descriptors"}, {ENFILE, "descriptors"},
      {EPERM, "permission"},       {EACCES, "permission"},  {EAGAIN, "interrupted"},
      {0, "protocol"},             {EBADMSG, "protocol"},   {EPROTO, "protocol"},
      {ENOSPC, "protocol"},        {EINVAL, "other"},       {ENOMEM, "other"},
      {ETIMEDOUT, "other"},        {EINTR, "other"},        {4095, "other"},
  };
  for (const auto& [errnum, cause] : cases) EXPECT_EQ(cause_of(Error(errnum, "x")), cause) << "errno " << errnum;
}

// A closed set of distinct, Prometheus-friendly words.
TEST(ScanErrorCause, TheSetIsClosedAndNamed) {
  std::set<std::string> names;
  for (ScanErrorCause c : kScanErrorCauses) {
    const std::string n = scan_error_cause_name(c);
    EXPECT_FALSE(n.empty());
    EXPECT_EQ(n.find_first_not_of("abcdefghijklmnopqrstuvwxyz-"), std::string::npos) << n;
    names.insert(n);
  }
  EXPECT_EQ(names.size(), kScanErrorCauses.size());
  EXPECT_EQ(names, (std::set<std::string>{"buffer-overrun", "descriptors", "permission", "interrupted", "protocol",
                                          "other"}));
}

// --- What SocketScanner::scan() returns, classified. ---

constexpr uint32_t kPid = 4242;

// Answers each dump request with `reply(seq)`; a receive past the queue
// fails with `receive_error`, an open with `open_error` when set.
struct Script {
  std::function<Datagrams(int family, uint32_t seq)> reply;
  int receive_error = ETIMEDOUT;
  int open_error = 0;
};

class ScriptedTransport final : public NetlinkTransport {
 public:
  explicit ScriptedTransport(const Script& s) : script_(s) {}
  uint32_t portid() const override { return kPid; }
  Status send(std::span<const uint8_t> m) override {
    nlmsghdr h;
    std::memcpy(&h, m.data(), sizeof h);
    inet_diag_req_v2 req;
    std::memcpy(&req, m.data() + NLMSG_HDRLEN, sizeof req);
    for (auto& d : script_.reply(req.sdiag_family, h.nlmsg_seq)) pending_.push_back(std::move(d));
    return Ok{};
  }
  Result<size_t> receive(std::span<uint8_t> buf) override {
    if (pending_.empty()) return Error(script_.receive_error, "receiving netlink reply");
    auto d = std::move(pending_.front());
    pending_.pop_front();
    std::memcpy(buf.data(), d.data(), std::min(d.size(), buf.size()));
    return d.size();
  }

 private:
  const Script& script_;
  std::deque<std::vector<uint8_t>> pending_;
};

std::vector<uint8_t> a_socket(int family, uint32_t seq, uint16_t flags) {
  std::vector<uint8_t> d;
  const bool v4 = family == AF_INET;
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI | flags, seq, kPid,
              socket_payload(diag_msg(family, 1, v4 ? "127.0.0.1" : "::1", 80, v4 ? "127.0.0.1" : "::1", 1000)));
  return d;
}

std::vector<uint8_t> done(uint32_t seq, uint16_t flags = 0) {
  std::vector<uint8_t> d;
  put_message(d, NLMSG_DONE, NLM_F_MULTI | flags, seq, kPid, int_payload(0));
  return d;
}

struct NullSink : SocketSink {
  void on_socket(const TcpSocket&) override {}
};

// The scanner's error for `script`, classified.
std::string scan_cause(const Script& script, std::string* message = nullptr) {
  auto scanner = SocketScanner::open([&script]() -> Result<std::unique_ptr<NetlinkTransport>> {
    if (script.open_error != 0) return Error(script.open_error, "opening netlink socket (bus 4)");
    return std::unique_ptr<NetlinkTransport>(std::make_unique<ScriptedTransport>(script));
  });
  if (!scanner) {
    if (message) *message = scanner.error().message();
    return cause_of(scanner.error());
  }
  auto q = ScanQuery::compile(SocketFilter{});
  EXPECT_TRUE(q.ok());
  NullSink sink;
  auto stats = scanner->scan(*q, sink);
  EXPECT_FALSE(stats.ok()) << "the script was meant to fail the scan";
  if (stats.ok()) return "(none)";
  if (message) *message = stats.error().message();
  return cause_of(stats.error());
}

TEST(ScanErrorCause, EveryPassInterruptedIsInterrupted) {
  Script s;
  s.reply = [](int fam, uint32_t seq) {
    return Datagrams{a_socket(fam, seq, NLM_F_DUMP_INTR), done(seq, NLM_F_DUMP_INTR)};
  };
  std::string why;
  EXPECT_EQ(scan_cause(s, &why), "interrupted") << why;
}

TEST(ScanErrorCause, AnOverrunReceiveQueueIsBufferOverrun) {
  Script s;
  s.reply = [](int fam, uint32_t seq) { return Datagrams{a_socket(fam, seq, 0)}; };  // then ENOBUFS
  s.receive_error = ENOBUFS;
  std::string why;
  EXPECT_EQ(scan_cause(s, &why), "buffer-overrun") << why;
}

TEST(ScanErrorCause, NoDescriptorIsDescriptors) {
  Script s;
  s.open_error = EMFILE;
  std::string why;
  EXPECT_EQ(scan_cause(s, &why), "descriptors") << why;
}

TEST(ScanErrorCause, TheKernelRefusingIsPermission) {
  Script s;
  s.reply = [](int, uint32_t seq) {
    std::vector<uint8_t> d;
    put_message(d, NLMSG_ERROR, 0, seq, kPid, error_payload(-EACCES));
    return Datagrams{d};
  };
  std::string why;
  EXPECT_EQ(scan_cause(s, &why), "permission") << why;
}

TEST(ScanErrorCause, RepliesThatMakeNoSenseAreProtocol) {
  const std::vector<std::function<Datagrams(int, uint32_t)>> replies = {
      // Cut short.
      [](int fam, uint32_t seq) {
        auto d = a_socket(fam, seq, 0);
        d.resize(d.size() - 8);
        return Datagrams{d};
      },
      // A reply to another request.
      [](int fam, uint32_t seq) { return Datagrams{a_socket(fam, seq + 1, 0)}; },
      // A socket message too short to be one.
      [](int, uint32_t seq) {
        std::vector<uint8_t> d;
        put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, seq, kPid, int_payload(7));
        return Datagrams{d};
      },
      // An ACK in the middle of a dump.
      [](int, uint32_t seq) {
        std::vector<uint8_t> d;
        put_message(d, NLMSG_ERROR, 0, seq, kPid, error_payload(0));
        return Datagrams{d};
      },
  };
  for (size_t i = 0; i < replies.size(); ++i) {
    Script s;
    s.reply = replies[i];
    std::string why;
    EXPECT_EQ(scan_cause(s, &why), "protocol") << "reply " << i << ": " << why;
  }
}

TEST(ScanErrorCause, AnythingElseIsOther) {
  Script s;
  s.reply = [](int, uint32_t seq) {
    std::vector<uint8_t> d;
    put_message(d, NLMSG_ERROR, 0, seq, kPid, error_payload(-EINVAL));  // a filter the kernel refused
    return Datagrams{d};
  };
  std::string why;
  EXPECT_EQ(scan_cause(s, &why), "other") << why;
}

}  // namespace
}  // namespace tcpreap
