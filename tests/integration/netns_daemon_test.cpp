// tcpreapd with namespaces.scan: all, on the real kernel (issue 15). The
// daemon runs in a network namespace of its own, apart from the server and
// client hosts whose connections it judges:
//  - in a namespace whose /run/netns name was removed, held only by a
//    process (discovery names it pid:<pid>), dead connections, IPv4 and
//    IPv6, are verified by a probe and reaped, while a live idle one (its
//    probe answered: made in that namespace) and a busy one are untouched;
//    the reap lines name the namespace and its identity;
//  - twins: two namespaces holding the very same 4-tuple, dead in A and
//    alive in B: A's is reaped, B's is neither reset nor destroyed, scan
//    after scan;
//  - a namespace that appears after the start is scanned (one bound
//    nowhere: the /proc walk every discover_every; one in /run/netns:
//    inotify too); one that goes is dropped and really freed: the peer of
//    its veth, in another namespace, disappears;
//  - without CAP_SYS_ADMIN the daemon says what is missing, scans its own
//    namespace only (the metrics say so) and still reaps there;
//  - as tcpreapd.service with the all-namespaces drop-in runs it (root with
//    exactly four capabilities, capset refused by a seccomp filter), it
//    starts with scan: host - holding CAP_SYS_ADMIN and CAP_SYS_PTRACE,
//    which it cannot drop, unused and saying so - and with scan: all.
//
// scan: all sees every namespace of the machine, other tests' included
// (they run in parallel): every policy is narrowed to identities of this
// test's namespaces and to its ports, and the other tests' namespaces
// (trp<another pid>...) and the machine's own are excluded, so that the
// daemon opens nothing in them - neither holds them nor sweeps their
// neighbour pins. Deadlines only stop a broken run.

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/busy_connection.h"
#include "support/command.h"
#include "support/netns.h"
#include "support/netns_daemon.h"
#include "support/netns_holder.h"
#include "support/peer_hosts.h"
#include "support/scan.h"
#include "support/tcp.h"
#include "support/temp_file.h"

#ifndef TCPREAPD_BIN
#error "TCPREAPD_BIN (the path of the built tcpreapd) must be defined"
#endif
#ifndef REFUSE_CAPSET_BIN
#error "REFUSE_CAPSET_BIN (the path of tests/support/refuse_capset) must be defined"
#endif

namespace tcpreap::test {
namespace {

using namespace std::chrono_literals;
using Conn = PeerConn;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string identity_of(uint64_t inode) { return "net:[" + std::to_string(inode) + "]"; }

// A "reaped" line of the daemon's log ("... reaped   10.231.0.1:P <- 10.231.0.2:C   stale: ... in netns X"):
// the remote port, and the line.
struct ReapedLine {
  uint16_t remote_port = 0;
  std::string text;
};

std::vector<ReapedLine> reaped_lines(const std::string& output) {
  std::vector<ReapedLine> out;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string t; words >> t;) w.push_back(t);
    for (size_t j = 2; j + 1 < w.size(); ++j) {
      if (w[j] != "<-" || w[j - 2] != "reaped") continue;
      const size_t colon = w[j + 1].rfind(':');
      if (colon != std::string::npos)
        out.push_back({static_cast<uint16_t>(std::stoul(w[j + 1].substr(colon + 1))), line});
      break;
    }
  }
  return out;
}

std::multiset<uint16_t> ports_of(const std::vector<ReapedLine>& lines) {
  std::multiset<uint16_t> out;
  for (const auto& l : lines) out.insert(l.remote_port);
  return out;
}

void print_lines(const char* what, const std::vector<ReapedLine>& lines) {
  std::printf("%s:\n", what);
  for (const auto& l : lines) std::printf("  %s\n", l.text.c_str());
}

// `namespaces:` scanning all, but nothing of other tests nor the machine's
// own namespace: names trp<pid>... of any other PID differ from ours at
// some digit, or go on with digits where ours has a tag letter.
std::string namespaces_all(const std::string& discover_every) {
  const std::string pid = std::to_string(::getpid());
  std::vector<std::string> globs;
  for (size_t i = 0; i < pid.size(); ++i) globs.push_back("trp" + pid.substr(0, i) + "[!" + pid[i] + "]*");
  globs.push_back("trp" + pid + "[0-9]*");
  globs.push_back(identity_of(namespace_inode("/proc/self/ns/net")));
  std::string list;
  for (const auto& g : globs) list += (list.empty() ? "\"" : ", \"") + g + "\"";
  return "namespaces: { scan: all, discover_every: " + discover_every + ", exclude: [" + list + "] }\n";
}

// One policy in the namespaces `identities`, on `port`.
std::string policy(const std::vector<std::string>& identities, uint16_t port, const std::string& rest) {
  std::string list;
  for (const auto& id : identities) list += (list.empty() ? "\"" : ", \"") + id + "\"";
  return "policies:\n"
         "  - name: stale\n"
         "    match: { namespaces: [" + list + "], local_ports: [" + std::to_string(port) + "] }\n" + rest;
}

const std::string kVerified = "    dead_when: { silent_for: 2s }\n"
                              "    verify: { probes: 1, interval: 1s }\n";

const MetricLabels kReaped{{"policy", "stale"}, {"method", "destroy"}, {"reason", "silent"}};

bool link_exists(const std::string& netns, const std::string& name) {
  return run_command({"ip", "-n", netns, "link", "show", name}).exit_code == 0;
}

// tcpreapd.service with the all-namespaces drop-in, as far as capabilities
// go: root holding exactly four (setpriv shrinks the bounding set with
// prctl, not capset, and an exec as root is then granted just those), and
// capset(2) refused with EPERM, as the unit's SystemCallFilter= does.
std::vector<std::string> as_the_unit_with_the_drop_in() {
  return {"setpriv", "--bounding-set=-all,+net_admin,+net_raw,+sys_admin,+sys_ptrace", REFUSE_CAPSET_BIN};
}

constexpr uint64_t cap_bit(int cap) { return uint64_t{1} << cap; }
constexpr uint64_t kFourCapabilities =
    cap_bit(CAP_NET_ADMIN) | cap_bit(CAP_NET_RAW) | cap_bit(CAP_SYS_ADMIN) | cap_bit(CAP_SYS_PTRACE);

// The effective capabilities of `pid` (CapEff in /proc/PID/status).
uint64_t effective_capabilities(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  ADD_FAILURE() << "no CapEff in /proc/" << pid << "/status";
  return 0;
}

const std::string kHostWarning =
    "namespaces.scan is host, but CAP_SYS_ADMIN and CAP_SYS_PTRACE were granted and cannot be dropped (";

class NetnsDaemonTest : public PeerHostsTest {
 protected:
  void SetUp() override {
    PeerHostsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    server_id_ = identity_of(namespace_inode("/run/netns/" + hosts_->server()));
    daemon_ns_.emplace(unique_netns_name('d'));
  }

  // Whether the server end is still there; needs no name for its namespace.
  bool alive(const Conn& c) { return cookie_present(*scanner_, c.cookie); }

  std::string server_id_;
  std::optional<NamedNetns> daemon_ns_;
};

TEST_F(NetnsDaemonTest, ReapsTheDeadInANamespaceOnlyAProcessHolds) {
  Conn live4 = connect(false), live6 = connect(true), dead4 = connect(false), dead6 = connect(true);
  // A busy connection on the policy's port, both ends in the server's namespace.
  UniqueFd busy_client;
  {
    ScopedNetns in(hosts_->server());
    busy_client = tcp_connect("127.0.0.1", port_[0]);
  }
  UniqueFd busy_server = tcp_accept(listener4_[0].get());
  const uint64_t busy_cookie = socket_of(*scanner_, busy_server.get()).cookie;
  BusyConnection busy(std::move(busy_client), std::move(busy_server), 10ms);
  kill_peers({&dead4, &dead6});

  // From here on nothing enters the server's namespace by name: it has none.
  NetnsHolder holder(hosts_->server());
  holder.remove_name();
  ASSERT_NE(::access(("/run/netns/" + hosts_->server()).c_str(), F_OK), 0);
  ASSERT_EQ(holder.identity(), server_id_);

  NetnsDaemon d(TCPREAPD_BIN, daemon_ns_->name());
  const TempFile cfg(d.config_head() + namespaces_all("10s") + policy({server_id_}, port_[0], kVerified));
  d.start(cfg.path(), {"--user", "root"});
  d.wait_up();
  const std::string label = "pid:" + std::to_string(holder.pid()) + " " + server_id_;
  ASSERT_TRUE(d.eventually([&] { return contains(d.output(), "scanning network namespace " + label); }))
      << "not scanned as " << label << ":\n" << d.output();

  ASSERT_TRUE(d.eventually([&] { return !alive(dead4) && !alive(dead6); }))
      << "the dead connections are still there:\n" << d.output();
  EXPECT_EQ(next_recv(dead4.server.get()), ECONNABORTED);
  EXPECT_EQ(next_recv(dead6.server.get()), ECONNABORTED);
  ASSERT_TRUE(d.eventually([&] { return d.counter("tcpreap_reaped_connections_total", kReaped) >= 2; }))
      << d.scrape() << d.output();
  ASSERT_TRUE(d.more_scans(2)) << d.output();  // nothing more is reaped meanwhile

  for (Conn* live : {&live4, &live6}) {
    EXPECT_TRUE(alive(*live)) << "a live idle connection was reaped:\n" << d.output();
    expect_untouched(*live);
  }
  EXPECT_TRUE(cookie_present(*scanner_, busy_cookie)) << "the busy connection was reaped";
  busy.stop();
  EXPECT_EQ(busy.error(), "");
  EXPECT_GT(busy.rounds(), 0u);

  const std::string text = d.scrape();
  EXPECT_EQ(metric_value(text, "tcpreap_reaped_connections_total", kReaped), 2) << text;
  // The live ones' probes were answered: they went out in their namespace.
  EXPECT_GE(metric_value(text, "tcpreap_probes_sent_total"), 4) << text;
  EXPECT_GE(metric_value(text, "tcpreap_probes_answered_total"), 2) << text;

  const auto reaped = reaped_lines(d.output());
  print_lines("reap lines", reaped);
  EXPECT_EQ(ports_of(reaped), (std::multiset<uint16_t>{dead4.client_port, dead6.client_port})) << d.output();
  for (const auto& l : reaped) EXPECT_TRUE(contains(l.text, " in netns " + label)) << l.text;
  d.expect_clean_stop();
}

// The twin of a connection: the same 4-tuple in another namespace.
Conn twin_of(const Conn& original, TestHosts& hosts, int listener, SocketScanner& scanner, uint16_t port) {
  Conn c;
  c.v6 = original.v6;
  {
    ScopedNetns in(hosts.client());
    c.client = tcp_connect(c.v6 ? TestHosts::kServer6 : TestHosts::kServer4, port, {"", original.client_port});
  }
  c.server = tcp_accept(listener);
  c.client_port = local_endpoint(c.client.get()).port;
  write_all(c.client.get(), "hello");
  EXPECT_EQ(read_exact(c.server.get(), 5), "hello");
  write_all(c.server.get(), "hi");
  EXPECT_EQ(read_exact(c.client.get(), 2), "hi");
  c.cookie = socket_of(scanner, c.server.get()).cookie;
  return c;
}

TEST_F(NetnsDaemonTest, OfTwoConnectionsWithOneFourTupleReapsOnlyTheDeadOne) {
  // A: the fixture's hosts. B: two more with the very same addresses, and
  // listeners on A's port.
  TestHosts b;
  const std::string b_id = identity_of(namespace_inode("/run/netns/" + b.server()));
  UniqueFd b_listener4, b_listener6;
  std::optional<SocketScanner> b_scanner;
  {
    ScopedNetns in(b.server());
    b_listener4 = tcp_listen("0.0.0.0", port_[0]);
    b_listener6 = tcp_listen("::", port_[0]);
    b_scanner.emplace(open_scanner());
  }
  Conn a4 = connect(false), a6 = connect(true);
  Conn b4 = twin_of(a4, b, b_listener4.get(), *b_scanner, port_[0]);
  Conn b6 = twin_of(a6, b, b_listener6.get(), *b_scanner, port_[0]);
  for (const Conn* c : {&b4, &b6}) {
    const Conn& a = c == &b4 ? a4 : a6;
    ASSERT_EQ(c->client_port, a.client_port);
    ASSERT_EQ(local_endpoint(c->server.get()).address, local_endpoint(a.server.get()).address);
    ASSERT_EQ(remote_endpoint(c->server.get()).address, remote_endpoint(a.server.get()).address);
  }
  kill_peers({&a4, &a6});  // in A only

  NetnsDaemon d(TCPREAPD_BIN, daemon_ns_->name());
  const TempFile cfg(d.config_head() + namespaces_all("10s") + policy({server_id_, b_id}, port_[0], kVerified));
  d.start(cfg.path(), {"--user", "root"});
  d.wait_up();
  ASSERT_TRUE(d.eventually([&] { return !alive(a4) && !alive(a6); }))
      << "A's dead connections are still there:\n" << d.output();
  EXPECT_EQ(next_recv(a4.server.get()), ECONNABORTED);
  EXPECT_EQ(next_recv(a6.server.get()), ECONNABORTED);
  // Several scans after, each probing B's silent twins again.
  ASSERT_TRUE(d.more_scans(4)) << d.output();

  for (Conn* c : {&b4, &b6}) {
    SCOPED_TRACE(c->v6 ? "B's IPv6 twin" : "B's IPv4 twin");
    EXPECT_TRUE(cookie_present(*b_scanner, c->cookie)) << "destroyed:\n" << d.output();
    expect_untouched(*c);  // no RST, no EOF, no error on either end: it still carries data
  }
  const std::string text = d.scrape();
  EXPECT_EQ(metric_value(text, "tcpreap_reaped_connections_total", kReaped), 2) << text;
  EXPECT_GE(metric_value(text, "tcpreap_probes_answered_total"), 2) << "B's twins answer their probes:\n" << text;

  const auto reaped = reaped_lines(d.output());
  print_lines("reap lines", reaped);
  EXPECT_EQ(ports_of(reaped), (std::multiset<uint16_t>{a4.client_port, a6.client_port})) << d.output();
  for (const auto& l : reaped) {
    EXPECT_TRUE(contains(l.text, " in netns " + hosts_->server() + " " + server_id_)) << l.text;
    EXPECT_FALSE(contains(l.text, b_id)) << l.text;
  }
  d.expect_clean_stop();
}

TEST_F(NetnsDaemonTest, ScansANamespaceThatAppearsAndFreesOneThatGoes) {
  NamedNetns peer(unique_netns_name('p'));
  NetnsDaemon d(TCPREAPD_BIN, daemon_ns_->name());
  // A verifying policy: every namespace gets a prober too (AF_PACKET and
  // raw sockets, route netlink), all of which must go with it.
  // Only namespaces some policy applies in are entered: the policy names
  // the two to come by their names' forms - this test's bound ones
  // (trp<pid>n...) and any held by a process alone (pid:...; another test's
  // are entered too, harmlessly: its port is ours).
  const std::string bound_glob = "trp" + std::to_string(::getpid()) + "n*";
  const TempFile cfg(d.config_head() + namespaces_all("2s") +
                     policy({server_id_, bound_glob, "pid:*"}, port_[0], kVerified));
  d.start(cfg.path(), {"--user", "root"});
  d.wait_up();
  ASSERT_TRUE(d.more_scans(1)) << d.output();

  // Each new namespace gets a veth whose other end is in `peer`: that end
  // goes only when the new namespace is freed.
  auto veth_to_peer = [&](const std::string& netns) {
    const std::string here = unique_netns_name('v'), there = unique_netns_name('w');
    run_checked({"ip", "link", "add", here, "netns", netns, "type", "veth", "peer", "name", there, "netns", peer.name()});
    EXPECT_TRUE(link_exists(peer.name(), there));
    return there;
  };
  auto scanned = [&](const std::string& label) {
    return d.eventually([&] { return contains(d.output(), "scanning network namespace " + label); });
  };
  auto dropped = [&](const std::string& label) {
    return d.eventually([&] { return contains(d.output(), "network namespace " + label + " dropped"); });
  };
  // Bound nowhere: only the /proc walk every discover_every finds it (the
  // other one comes after, so that its inotify event does not).
  auto unbound = std::make_unique<NetnsHolder>();
  const std::string unbound_peer = veth_to_peer(std::to_string(unbound->pid()));
  const std::string unbound_label = "pid:" + std::to_string(unbound->pid()) + " " + unbound->identity();
  ASSERT_TRUE(scanned(unbound_label)) << unbound_label << " not scanned:\n" << d.output();
  // In /run/netns: inotify asks for a discovery.
  auto bound = std::make_unique<NamedNetns>(unique_netns_name('n'));
  const std::string bound_peer = veth_to_peer(bound->name());
  const std::string bound_label = bound->name() + " " + identity_of(namespace_inode("/run/netns/" + bound->name()));
  ASSERT_TRUE(scanned(bound_label)) << bound_label << " not scanned:\n" << d.output();

  // Gone: the holder killed, the name deleted. Only the daemon could hold them now.
  unbound->kill();
  ASSERT_TRUE(dropped(unbound_label)) << unbound_label << " not dropped:\n" << d.output();
  bound.reset();
  ASSERT_TRUE(dropped(bound_label)) << bound_label << " not dropped:\n" << d.output();
  for (const std::string& name : {unbound_peer, bound_peer})
    EXPECT_TRUE(d.eventually([&] { return !link_exists(peer.name(), name); }))
        << "the veth peer " << name << " stays: its namespace was never freed:\n" << d.output();
  d.expect_clean_stop();
}

TEST_F(NetnsDaemonTest, WithoutCapSysAdminScansItsOwnNamespaceOnlyAndStillReaps) {
  Conn live = connect(false), dead = connect(false);
  kill_peers({&dead});
  // This time in the server's namespace: its own is all it can scan.
  NetnsDaemon d(TCPREAPD_BIN, hosts_->server());
  const TempFile cfg(d.config_head() + namespaces_all("2s") + policy({server_id_}, port_[0], kVerified));
  const std::string caps = "-all,+net_admin,+net_raw";
  d.start(cfg.path(), {"--user", "root"}, {"setpriv", "--inh-caps=" + caps, "--bounding-set=" + caps});
  d.wait_up();

  ASSERT_TRUE(d.eventually([&] { return !alive(dead); })) << "the dead connection is still there:\n" << d.output();
  EXPECT_EQ(next_recv(dead.server.get()), ECONNABORTED);
  ASSERT_TRUE(d.more_scans(2)) << d.output();
  EXPECT_TRUE(alive(live));
  expect_untouched(live);

  const std::string text = d.scrape();
  EXPECT_EQ(metric_value(text, "tcpreap_network_namespaces", {{"state", "scanned"}}), 1) << text;
  EXPECT_EQ(metric_value(text, "tcpreap_network_namespaces", {{"state", "failed"}}), 0) << text;
  EXPECT_EQ(metric_value(text, "tcpreap_network_namespaces_restricted"), 1) << text;
  EXPECT_EQ(metric_value(text, "tcpreap_reaped_connections_total", kReaped), 1) << text;

  const std::string out = d.output();
  EXPECT_TRUE(contains(out, "namespaces.scan is all, but CAP_SYS_ADMIN and CAP_SYS_PTRACE are missing")) << out;
  EXPECT_TRUE(contains(out, "scanning this process's own network namespace only")) << out;
  EXPECT_FALSE(contains(out, "scanning network namespace ")) << out;
  const auto reaped = reaped_lines(out);
  print_lines("reap lines", reaped);
  EXPECT_EQ(ports_of(reaped), (std::multiset<uint16_t>{dead.client_port})) << out;
  for (const auto& l : reaped) EXPECT_FALSE(contains(l.text, " in netns ")) << "its own namespace: " << l.text;
  d.expect_clean_stop();
}

// The operator installed the all-namespaces drop-in but left scan: host.
// Dropping the two namespace capabilities takes a capset the unit refuses:
// rather than "cannot start" and a restart loop, the daemon keeps all four
// (then nothing needs a capset), says why, and scans its own namespace.
TEST_F(NetnsDaemonTest, ScanHostWhereCapsetIsRefusedStartsHoldingTheNamespaceCapabilitiesUnused) {
  NetnsDaemon d(TCPREAPD_BIN, daemon_ns_->name());
  const TempFile cfg(d.config_head() +  // no namespaces key: scan: host
                     "policies:\n"
                     "  - name: stale\n"
                     "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                     "    dead_when: { silent_for: 1h }\n");
  d.start(cfg.path(), {"--user", "root"}, as_the_unit_with_the_drop_in());
  d.wait_up();
  ASSERT_TRUE(d.more_scans(1)) << d.output();
  EXPECT_EQ(effective_capabilities(d.process().pid()), kFourCapabilities);

  const std::string text = d.scrape();
  EXPECT_EQ(metric_value(text, "tcpreap_network_namespaces", {{"state", "scanned"}}), 1) << text;
  EXPECT_EQ(metric_value(text, "tcpreap_network_namespaces", {{"state", "failed"}}), 0) << text;
  EXPECT_EQ(metric_value(text, "tcpreap_network_namespaces_restricted"), 0) << text;

  const std::string out = d.output();
  EXPECT_TRUE(contains(out, kHostWarning)) << out;
  EXPECT_TRUE(contains(out, "): held unused; remove the all-namespaces drop-in, or set namespaces.scan: all")) << out;
  EXPECT_FALSE(contains(out, "scanning network namespace ")) << out;
  d.expect_clean_stop();
}

// The control: with scan: all the same four are exactly what it keeps, so
// it starts without a capset, silently, and enters other namespaces.
TEST_F(NetnsDaemonTest, ScanAllWhereCapsetIsRefusedStartsWithTheFourItWasGranted) {
  NetnsDaemon d(TCPREAPD_BIN, daemon_ns_->name());
  const TempFile cfg(d.config_head() + namespaces_all("10s") +
                     policy({server_id_}, port_[0], "    dead_when: { silent_for: 1h }\n"));
  d.start(cfg.path(), {"--user", "root"}, as_the_unit_with_the_drop_in());
  d.wait_up();
  const std::string label = hosts_->server() + " " + server_id_;
  ASSERT_TRUE(d.eventually([&] { return contains(d.output(), "scanning network namespace " + label); }))
      << "not scanned as " << label << ":\n" << d.output();
  ASSERT_TRUE(d.more_scans(1)) << d.output();
  EXPECT_EQ(effective_capabilities(d.process().pid()), kFourCapabilities);

  const std::string text = d.scrape();
  EXPECT_GE(metric_value(text, "tcpreap_network_namespaces", {{"state", "scanned"}}), 1) << text;
  EXPECT_EQ(metric_value(text, "tcpreap_network_namespaces", {{"state", "failed"}}), 0) << text;
  EXPECT_EQ(metric_value(text, "tcpreap_network_namespaces_restricted"), 0) << text;

  const std::string out = d.output();
  EXPECT_FALSE(contains(out, kHostWarning)) << out;
  EXPECT_FALSE(contains(out, "but CAP_SYS_ADMIN and CAP_SYS_PTRACE are missing")) << out;
  d.expect_clean_stop();
}

}  // namespace
}  // namespace tcpreap::test
