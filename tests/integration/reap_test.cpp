// Reaping on the real kernel, from the victims' side: in a server namespace,
// half-open connections (their client sockets vanished silently: nft drops
// exactly their ports on the client host) are reaped by `tcpreap reap` and
// `tcpreap kill`; SOCK_DESTROY shows as ECONNABORTED in the server
// application, an injected RST as ECONNRESET. Live connections in the same
// namespace - a busy one, an idle one, and an idle one from the very same
// peer address as the dead ones - keep their cookies and see no error.

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <set>
#include <thread>

#include "diag/socket_scanner.h"
#include "reap/reaper.h"
#include "reap/rst_injector.h"
#include "reap/socket_destroyer.h"
#include "netlink/netlink_socket.h"
#include "support/command.h"
#include "support/busy_connection.h"
#include "support/netns.h"
#include "support/privileges.h"
#include "support/scan.h"
#include "support/tcp.h"
#include "support/temp_file.h"

#ifndef TCPREAP_BIN
#error "TCPREAP_BIN (the path of the built tcpreap) must be defined"
#endif

namespace tcpreap::test {
namespace {

using namespace std::chrono_literals;

// The errno the next recv() reports, waiting up to 2 s for something to happen.
int recv_errno(int fd) {
  for (int i = 0; i < 200; ++i) {
    char b;
    const ssize_t n = ::recv(fd, &b, 1, MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN) return errno;
    if (n == 0) return -1;  // EOF: not what a reaped socket shows
    std::this_thread::sleep_for(10ms);
  }
  return EAGAIN;
}

// A server namespace with a listener, a client namespace, and connections.
class ReapTest : public ::testing::Test {
 protected:
  struct Conn {
    UniqueFd client;
    UniqueFd server;
    uint16_t client_port = 0;
  };

  void SetUp() override {
    TCPREAP_REQUIRE_ROOT();
    hosts_.emplace();
    {
      ScopedNetns in(hosts_->server());
      listener4_ = tcp_listen("0.0.0.0");
      port_ = local_endpoint(listener4_.get()).port;
      listener6_ = tcp_listen("::", port_);
      scanner_.emplace(open_scanner());
    }
  }

  Conn connect_from_client(bool v6) {
    Conn c;
    {
      ScopedNetns in(hosts_->client());
      c.client = tcp_connect(v6 ? TestHosts::kServer6 : TestHosts::kServer4, port_);
    }
    c.server = tcp_accept(v6 ? listener6_.get() : listener4_.get());
    c.client_port = local_endpoint(c.client.get()).port;
    write_all(c.client.get(), "hello");
    EXPECT_EQ(read_exact(c.server.get(), 5), "hello");
    return c;
  }

  Conn connect_loopback() {
    Conn c;
    {
      ScopedNetns in(hosts_->server());
      c.client = tcp_connect("127.0.0.1", port_);
    }
    c.server = tcp_accept(listener4_.get());
    c.client_port = local_endpoint(c.client.get()).port;
    return c;
  }

  // The client sockets of `dead` vanish: the client host drops everything
  // of their ports, then they close (their RST is dropped too).
  void vanish(std::vector<Conn*> dead) {
    std::vector<uint16_t> ports;
    for (Conn* c : dead) ports.push_back(c->client_port);
    hosts_->drop_client_ports(ports);
    for (Conn* c : dead) c->client.reset();
  }

  std::set<uint64_t> server_cookies() {
    SocketFilter f;
    f.states = StateSet::connected();
    f.all_of = {{Condition::local_port({port_, port_})}};
    std::set<uint64_t> out;
    for (const auto& s : scan_sockets(*scanner_, compile_query(f))) out.insert(s.cookie);
    return out;
  }
  uint64_t cookie_of(const Conn& c) {
    SocketFilter f;
    f.states = StateSet::connected();
    const uint16_t cp = c.client_port;
    f.all_of = {{Condition::local_port({port_, port_})}, {Condition::remote_port({cp, cp})}};
    auto found = scan_sockets(*scanner_, compile_query(f));
    return found.empty() ? 0 : found.front().cookie;
  }

  CommandResult tcpreap(std::vector<std::string> args) {
    std::vector<std::string> argv = {"ip", "netns", "exec", hosts_->server(), TCPREAP_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }

  std::optional<TestHosts> hosts_;
  UniqueFd listener4_, listener6_;
  uint16_t port_ = 0;
  std::optional<SocketScanner> scanner_;
};


class ReapByPolicy : public ReapTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ReapByPolicy, DeadGoLiveStay) {
  const std::string method = GetParam();
  const int expected = method == "destroy" ? ECONNABORTED : ECONNRESET;

  Conn idle4 = connect_from_client(false), idle6 = connect_from_client(true);
  Conn busy4 = connect_from_client(false), busy6 = connect_from_client(true);
  Conn live_same_peer = connect_from_client(false);  // same client address, stays alive
  Conn live_idle = connect_loopback(), live_busy = connect_loopback();
  vanish({&idle4, &idle6, &busy4, &busy6});
  write_all(busy4.server.get(), std::string(1000, 'x'));
  write_all(busy6.server.get(), std::string(1000, 'x'));


  const std::set<uint64_t> live = {cookie_of(live_same_peer), cookie_of(live_idle), cookie_of(live_busy)};
  BusyConnection busy(std::move(live_busy.client), std::move(live_busy.server), 100ms);
  ASSERT_EQ(live.size(), 3u);
  const TempFile config(
      "reap:\n"
      "  method: " + method + "\n"
      "policies:\n"
      "  - name: idle-dead\n"
      "    match:\n"
      "      local_ports: [" + std::to_string(port_) + "]\n"
      "      remote_ports: [" + std::to_string(idle4.client_port) + ", " + std::to_string(idle6.client_port) + "]\n"
      "    dead_when: { silent_for: 1s }\n"
      "  - name: stuck\n"
      "    match: { local_ports: [" + std::to_string(port_) + "] }\n"
      "    dead_when: { unacked_for: 1s }\n");

  // Dry run first: it decides the same and changes nothing.
  std::this_thread::sleep_for(1500ms);
  const std::set<uint64_t> before = server_cookies();
  CommandResult dry = tcpreap({"reap", "--config", config.path(), "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("dry run"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("would reap"), std::string::npos) << dry.out;
  EXPECT_EQ(server_cookies(), before) << "a dry run touched something";

  // The busy dead ones become reapable once their retransmissions prove
  // 1 s without an ACK; reap until all four are gone (bounded).
  std::string outputs;
  for (int round = 0; round < 20; ++round) {
    CommandResult r = tcpreap({"reap", "--config", config.path()});
    outputs += r.out + r.err;
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto now = server_cookies();
    if (now.size() == live.size()) break;
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_EQ(server_cookies(), live) << outputs;
  EXPECT_NE(outputs.find("via " + method), std::string::npos) << outputs;

  // The victims' side.
  for (Conn* c : {&idle4, &idle6, &busy4, &busy6}) EXPECT_EQ(recv_errno(c->server.get()), expected) << outputs;
  // The living: no error, and they still talk.
  EXPECT_EQ(recv_errno(live_idle.server.get()), EAGAIN);
  EXPECT_EQ(recv_errno(live_same_peer.server.get()), EAGAIN);
  write_all(live_same_peer.client.get(), "still here");
  EXPECT_EQ(read_exact(live_same_peer.server.get(), 10), "still here");
  const uint64_t rounds = busy.rounds();
  std::this_thread::sleep_for(300ms);
  EXPECT_GT(busy.rounds(), rounds) << "the busy connection stopped talking";
  busy.stop();
  EXPECT_EQ(busy.error(), "");
}

INSTANTIATE_TEST_SUITE_P(Methods, ReapByPolicy, ::testing::Values(std::string("destroy"), std::string("rst")));

TEST_F(ReapTest, KillOneConnectionByItsEndpoints) {
  Conn dead = connect_from_client(false);
  Conn live = connect_from_client(false);
  Conn loop = connect_loopback();
  vanish({&dead});
  const uint64_t live_cookie = cookie_of(live);

  const std::string local = std::string(TestHosts::kServer4) + ":" + std::to_string(port_);
  const std::string remote = std::string(TestHosts::kClient4) + ":" + std::to_string(dead.client_port);
  CommandResult r = tcpreap({"kill", local, remote});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("reaped"), std::string::npos) << r.out;
  EXPECT_EQ(recv_errno(dead.server.get()), ECONNABORTED);
  EXPECT_EQ(cookie_of(dead), 0u);
  EXPECT_EQ(cookie_of(live), live_cookie);

  // Again: nothing there any more, and it says so.
  CommandResult again = tcpreap({"kill", local, remote});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("no established connection"), std::string::npos) << again.err;

  // A loopback connection: the server end goes, its client sees the RST
  // SOCK_DESTROY sends.
  CommandResult lo = tcpreap({"kill", "127.0.0.1:" + std::to_string(port_),
                              "127.0.0.1:" + std::to_string(loop.client_port)});
  EXPECT_EQ(lo.exit_code, 0) << lo.out << lo.err;
  EXPECT_EQ(recv_errno(loop.server.get()), ECONNABORTED);
  EXPECT_EQ(recv_errno(loop.client.get()), ECONNRESET);
}

TEST_F(ReapTest, KillWithoutCapNetAdminSaysSoAndFails) {
  Conn dead = connect_from_client(false);
  vanish({&dead});
  const std::vector<std::string> argv = {
      "ip", "netns", "exec", hosts_->server(), "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
      "--inh-caps=-all", "--bounding-set=-all", TCPREAP_BIN, "kill", "--method", "destroy",
      std::string(TestHosts::kServer4) + ":" + std::to_string(port_),
      std::string(TestHosts::kClient4) + ":" + std::to_string(dead.client_port)};
  CommandResult r = run_command(argv);
  EXPECT_EQ(r.exit_code, 1) << r.describe(argv);
  EXPECT_NE((r.out + r.err).find("CAP_NET_ADMIN"), std::string::npos) << r.out << r.err;
  EXPECT_NE(cookie_of(dead), 0u) << "nothing was done, and it said so";
}

// A kernel without CONFIG_INET_DIAG_DESTROY, made by wrapping the real
// netlink socket: every SOCK_DESTROY is answered EOPNOTSUPP. `auto` must
// switch to RST injection, say so once, and leave the socket gone.
class NoDestroyKernel final : public NetlinkTransport {
 public:
  explicit NoDestroyKernel(NetlinkSocket real) : real_(std::move(real)) {}
  uint32_t portid() const override { return real_.portid(); }
  Status send(std::span<const uint8_t> m) override {
    for (size_t off = 0; off + NLMSG_HDRLEN <= m.size();) {
      nlmsghdr h;
      std::memcpy(&h, m.data() + off, sizeof h);
      nlmsgerr err{};
      err.error = -EOPNOTSUPP;
      err.msg = h;
      std::vector<uint8_t> msg(NLMSG_HDRLEN + sizeof err);
      nlmsghdr out{static_cast<uint32_t>(msg.size()), NLMSG_ERROR, 0, h.nlmsg_seq, real_.portid()};
      std::memcpy(msg.data(), &out, sizeof out);
      std::memcpy(msg.data() + NLMSG_HDRLEN, &err, sizeof err);
      pending_.insert(pending_.end(), msg.begin(), msg.end());
      off += NLMSG_ALIGN(h.nlmsg_len);
    }
    return Ok{};
  }
  Result<size_t> receive(std::span<uint8_t> buf) override {
    const size_t n = std::min(buf.size(), pending_.size());
    std::memcpy(buf.data(), pending_.data(), n);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(n));
    return n;
  }

 private:
  NetlinkSocket real_;
  std::vector<uint8_t> pending_;
};

TEST_F(ReapTest, AutoFallsBackToRstWhenTheKernelCannotDestroy) {
  Conn dead = connect_from_client(false);
  Conn live = connect_from_client(false);
  vanish({&dead});
  const uint64_t live_cookie = cookie_of(live);
  SocketFilter f;
  f.states = StateSet::connected();
  f.all_of = {{Condition::remote_port({dead.client_port, dead.client_port})}};

  std::optional<Reaper> reaper;
  std::vector<TcpSocket> victims;
  {
    ScopedNetns in(hosts_->server());
    victims = scan_sockets(*scanner_, compile_query(f));
    auto nl = NetlinkSocket::open(NETLINK_SOCK_DIAG);
    ASSERT_TRUE(nl.ok());
    auto destroyer = std::make_shared<SocketDestroyer>(std::make_unique<NoDestroyKernel>(std::move(*nl)));
    auto injector = RstInjector::open();
    ASSERT_TRUE(injector.ok()) << injector.error().message();
    auto rst = std::make_shared<RstInjector>(std::move(*injector));
    reaper.emplace(
        ReapMethod::kAuto, [destroyer](std::span<const TcpSocket> s) { return destroyer->destroy(s); },
        [rst](std::span<const TcpSocket> s) -> Result<std::vector<ReapOutcome>> { return rst->reset(s); });
  }
  ASSERT_EQ(victims.size(), 1u);
  auto outcomes = reaper->reap(victims);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].result, ReapResult::kDone) << outcomes[0].detail;
  EXPECT_EQ(outcomes[0].via, ReapVia::kRst);
  EXPECT_TRUE(reaper->switched_to_rst());
  auto notice = reaper->take_notice();
  ASSERT_TRUE(notice);
  EXPECT_NE(notice->find("EOPNOTSUPP"), std::string::npos);
  EXPECT_FALSE(reaper->take_notice()) << "said once";
  EXPECT_EQ(recv_errno(dead.server.get()), ECONNRESET);
  EXPECT_EQ(cookie_of(dead), 0u);
  EXPECT_EQ(cookie_of(live), live_cookie);
}

}  // namespace
}  // namespace tcpreap::test
