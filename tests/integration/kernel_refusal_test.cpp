// The real kernel refusing a dump: a wrapper around the real netlink socket
// changes one byte of the request (the bytecode's first op code), and the
// kernel's inet_diag_bc_audit() answers EINVAL. The error must reach the
// caller with the errno and the family it was dumping; the scanner must
// recover on the next scan. Needs no privileges.

#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>

#include "diag/socket_scanner.h"
#include "netlink/netlink_socket.h"

namespace tcpreap {
namespace {

class CorruptingTransport final : public NetlinkTransport {
 public:
  CorruptingTransport(NetlinkSocket real, bool& corrupt) : real_(std::move(real)), corrupt_(corrupt) {}
  uint32_t portid() const override { return real_.portid(); }
  Status send(std::span<const uint8_t> m) override {
    std::vector<uint8_t> copy(m.begin(), m.end());
    // nlmsghdr, inet_diag_req_v2, then the INET_DIAG_REQ_BYTECODE attribute.
    const size_t first_op = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(inet_diag_req_v2)) + NLA_HDRLEN;
    if (corrupt_ && copy.size() > first_op) copy[first_op] = 0xee;  // no such op
    return real_.send(copy);
  }
  Result<size_t> receive(std::span<uint8_t> buf) override { return real_.receive(buf); }

 private:
  NetlinkSocket real_;
  bool& corrupt_;
};

struct CountSink : SocketSink {
  int n = 0;
  void on_socket(const TcpSocket&) override { ++n; }
};

TEST(KernelRefusal, BadBytecodeIsEinvalWithContextAndTheScannerRecovers) {
  bool corrupt = true;
  int opened = 0;
  auto scanner = SocketScanner::open([&]() -> Result<std::unique_ptr<NetlinkTransport>> {
    ++opened;
    auto s = NetlinkSocket::open(NETLINK_SOCK_DIAG);
    if (!s) return s.error();
    return std::unique_ptr<NetlinkTransport>(std::make_unique<CorruptingTransport>(std::move(*s), corrupt));
  });
  ASSERT_TRUE(scanner.ok()) << scanner.error().message();

  SocketFilter f;
  f.all_of = {{Condition::local_port({1, 1})}};
  auto query = ScanQuery::compile(f);
  ASSERT_TRUE(query.ok());
  CountSink sink;
  auto refused = scanner->scan(*query, sink);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().errnum(), EINVAL);
  EXPECT_EQ(refused.error().message(),
            "dumping IPv4 TCP sockets: the kernel refused the dump: Invalid argument");

  corrupt = false;
  auto again = scanner->scan(*query, sink);
  EXPECT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(opened, 2);
}

}  // namespace
}  // namespace tcpreap
