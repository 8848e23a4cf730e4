// `tcpreap list`, `reap` and `kill` across network namespaces (-A, --netns),
// the built binary run from the test's own namespace. Two namespaces of the
// test's own, twins: each has lo up and the very same loopback connection,
// 127.0.0.1:P <- 127.0.0.1:C, so only the namespace tells the two apart.
//
// -A sees every namespace of the machine, other tests' included (they run
// in parallel): the configs given to the CLI restrict each policy to the
// twins' identities (match.namespaces: ["net:[<ino>]"]) and to port P, and
// only -A with --only-matched or a dry run is used, which enter no namespace
// a policy does not apply in, or only to dump it.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "diag/socket_scanner.h"
#include "support/command.h"
#include "support/netns.h"
#include "support/privileges.h"
#include "support/scan.h"
#include "support/support_error.h"
#include "support/tcp.h"
#include "support/temp_file.h"

#ifndef TCPREAP_BIN
#error "TCPREAP_BIN (the path of the built tcpreap) must be defined"
#endif

namespace tcpreap::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The lines of `text` that hold `part`.
std::vector<std::string> lines_with(const std::string& text, const std::string& part) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(text))
    if (contains(line, part)) out.push_back(line);
  return out;
}

// The lines of `text` that start with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(text))
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  return out;
}

// One twin: a namespace, and in it a listener on 127.0.0.1:P and the
// connection C -> P, both ends held here.
struct Twin {
  NamedNetns ns;
  uint64_t ino = 0;
  UniqueFd listener, client, server;
  std::optional<SocketScanner> scanner;

  explicit Twin(char tag) : ns(unique_netns_name(tag)) {
    struct stat st {};
    if (::stat(("/run/netns/" + ns.name()).c_str(), &st) != 0) throw SupportError("stat /run/netns/" + ns.name());
    ino = st.st_ino;
  }
  std::string identity() const { return "net:[" + std::to_string(ino) + "]"; }

  // `port` 0: the kernel picks (the first twin); else that one.
  void connect(uint16_t& port, uint16_t& client_port) {
    {
      ScopedNetns in(ns.name());
      listener = tcp_listen("127.0.0.1", port);
      port = local_endpoint(listener.get()).port;
      client = tcp_connect("127.0.0.1", port, {"127.0.0.1", client_port});
      client_port = local_endpoint(client.get()).port;
      scanner.emplace(open_scanner());
    }
    server = tcp_accept(listener.get());
  }

  // The cookie of the server end (local P, remote C), or 0 when it is gone.
  uint64_t server_cookie(uint16_t port, uint16_t client_port) {
    SocketFilter f;
    f.states = StateSet::connected();
    f.all_of = {{Condition::local_port({port, port})}, {Condition::remote_port({client_port, client_port})}};
    auto found = scan_sockets(*scanner, compile_query(f));
    return found.empty() ? 0 : found.front().cookie;
  }

  // The connection still carries data, both ways.
  void expect_usable() const {
    write_all(client.get(), "ping");
    EXPECT_EQ(read_exact(server.get(), 4), "ping");
    write_all(server.get(), "pong");
    EXPECT_EQ(read_exact(client.get(), 4), "pong");
  }
};

class NetnsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TCPREAP_REQUIRE_ROOT();
    a_.emplace('a');
    b_.emplace('b');
    a_->connect(port_, client_port_);
    b_->connect(port_, client_port_);  // the same ports: free in a namespace of its own
  }

  // A config of one policy on port P in the namespaces `identities`.
  std::string config(const std::vector<std::string>& identities, const std::string& dead_when) const {
    std::string list;
    for (const auto& id : identities) list += (list.empty() ? "\"" : ", \"") + id + "\"";
    return "policies:\n"
           "  - name: twins\n"
           "    match: { namespaces: [" + list + "], local_ports: [" + std::to_string(port_) + "] }\n"
           "    dead_when: " + dead_when + "\n";
  }

  static CommandResult tcpreap(std::vector<std::string> args) {
    args.insert(args.begin(), TCPREAP_BIN);
    return run_command(args);
  }

  // The server end's JSON "netns" object as list prints it.
  std::string netns_json(const Twin& t) const {
    return "\"netns\":{\"name\":\"" + t.ns.name() + "\",\"id\":\"" + t.identity() + "\",\"container\":null}";
  }

  // Whatever stderr says, it says nothing of the twins.
  void expect_twins_not_skipped(const std::string& err) const {
    EXPECT_FALSE(contains(err, a_->identity()) || contains(err, b_->identity())) << err;
  }

  std::string tuple() const {
    return "127.0.0.1:" + std::to_string(port_) + " <- 127.0.0.1:" + std::to_string(client_port_);
  }

  std::optional<Twin> a_, b_;
  uint16_t port_ = 0, client_port_ = 0;
};

TEST_F(NetnsCliTest, ListAllShowsBothTwinsWithTheirNamesAndIdentities) {
  const TempFile cfg(config({a_->identity(), b_->identity()}, "{ silent_for: 1h }"));
  CommandResult r = tcpreap({"list", "-A", "--config", cfg.path(), "--only-matched", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Notes of what discovery could not read (a /proc/PID/ns/net even root
  // may not) may come; no namespace is skipped.
  EXPECT_TRUE(lines_with(r.err, "skipping").empty()) << r.err;
  expect_twins_not_skipped(r.err);
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;  // the two server ends, and nothing of any other namespace
  for (Twin* t : {&*a_, &*b_}) {
    const auto mine = lines_with(r.out, netns_json(*t));
    ASSERT_EQ(mine.size(), 1u) << t->ns.name() << " in\n" << r.out;
    EXPECT_TRUE(contains(mine[0], "\"local_port\":" + std::to_string(port_))) << mine[0];
    EXPECT_TRUE(contains(mine[0], "\"remote_port\":" + std::to_string(client_port_))) << mine[0];
    EXPECT_TRUE(contains(mine[0], "\"cookie\":" + std::to_string(t->server_cookie(port_, client_port_)))) << mine[0];
    EXPECT_TRUE(contains(mine[0], "\"policy\":\"twins\"")) << mine[0];
  }

  // The table: a Netns column first, each twin's row under its name.
  CommandResult table = tcpreap({"list", "-A", "--config", cfg.path(), "--only-matched"});
  ASSERT_EQ(table.exit_code, 0) << table.out << table.err;
  const auto rows = lines_of(table.out);
  ASSERT_EQ(rows.size(), 3u) << table.out;
  EXPECT_EQ(rows[0].rfind("Netns ", 0), 0u) << rows[0];
  for (const Twin* t : {&*a_, &*b_})
    EXPECT_EQ(lines_with(table.out, t->ns.name() + " ").size(), 1u) << table.out;
}

TEST_F(NetnsCliTest, ListOneNamespaceByNameIdentityOrPath) {
  const std::string sport = std::to_string(port_);
  for (const std::string& name : {a_->ns.name(), a_->identity(), "/run/netns/" + a_->ns.name()}) {
    SCOPED_TRACE("--netns " + name);
    CommandResult r = tcpreap({"list", "--netns", name, "--sport", sport, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.err, "");
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 1u) << r.out;  // A's server end only: not B's twin
    EXPECT_TRUE(contains(lines[0], netns_json(*a_))) << lines[0];
    EXPECT_TRUE(contains(lines[0], "\"cookie\":" + std::to_string(a_->server_cookie(port_, client_port_)))) << lines[0];
  }
  CommandResult b = tcpreap({"list", "--netns", b_->ns.name(), "--sport", sport});
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  const auto rows = lines_of(b.out);
  ASSERT_EQ(rows.size(), 2u) << b.out;
  EXPECT_EQ(rows[1].rfind(b_->ns.name() + " ", 0), 0u) << rows[1];
  CommandResult count = tcpreap({"list", "--netns", b_->ns.name(), "--port", sport, "--count"});
  EXPECT_EQ(count.out, "2\n") << count.err;  // both ends of B's connection
}

TEST_F(NetnsCliTest, AnUnknownNameIsAnErrorPointingAtListAll) {
  const std::string name = a_->ns.name() + "-nosuch";
  const TempFile cfg(config({a_->identity()}, "{ silent_for: 1h }"));
  for (const char* command : {"list", "reap", "kill"}) {
    SCOPED_TRACE(command);
    std::vector<std::string> args{command, "--netns", name};
    if (std::string(command) == "reap") args.insert(args.end(), {"--dry-run", "--config", cfg.path()});
    if (std::string(command) == "kill") args.insert(args.end(), {"127.0.0.1:1", "127.0.0.1:2"});
    CommandResult r = tcpreap(args);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(contains(r.err, "no network namespace is named '" + name + "'")) << r.err;
    EXPECT_TRUE(contains(r.err, "tcpreap list -A")) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(NetnsCliTest, AllAndNetnsTogetherIsAUsageError) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"list", "-A", "--netns", a_->ns.name()},
        std::vector<std::string>{"reap", "--netns", a_->ns.name(), "--all-namespaces", "--dry-run"},
        std::vector<std::string>{"list", "--netns", a_->ns.name(), "--netns", b_->ns.name()}}) {
    CommandResult r = tcpreap(args);
    EXPECT_EQ(r.exit_code, 2) << join_argv(args) << ": " << r.err;
    EXPECT_EQ(r.out, "");
  }
  CommandResult kill_all = tcpreap({"kill", "-A", "127.0.0.1:1", "127.0.0.1:2"});
  EXPECT_EQ(kill_all.exit_code, 2) << kill_all.err;  // kill takes one namespace only
}

TEST_F(NetnsCliTest, ReapAllDryRunWouldReapOnlyWhereThePolicyAppliesAndTouchesNothing) {
  // Dead in A only: the policy applies in A's namespace, not in B's.
  const TempFile cfg(config({a_->identity()}, "{ silent_for: 1s }"));
  std::this_thread::sleep_for(1500ms);  // both twins silent longer than silent_for
  const uint64_t cookie_a = a_->server_cookie(port_, client_port_), cookie_b = b_->server_cookie(port_, client_port_);
  ASSERT_NE(cookie_a, 0u);
  ASSERT_NE(cookie_b, 0u);

  CommandResult r = tcpreap({"reap", "-A", "--dry-run", "--config", cfg.path()});
  // 3: some namespace of the machine (another test's) could not be entered;
  // each is said on stderr, and neither twin may be among them.
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 3) << r.out << r.err;
  EXPECT_EQ(r.exit_code == 3, !lines_starting(r.err, "tcpreap reap: skipping network namespace ").empty()) << r.err;
  expect_twins_not_skipped(r.err);
  const auto would = lines_starting(r.out, "would reap ");
  ASSERT_EQ(would.size(), 1u) << r.out;
  EXPECT_TRUE(contains(would[0], tuple())) << would[0];
  EXPECT_TRUE(contains(would[0], "in netns " + a_->ns.name() + " " + a_->identity())) << would[0];
  EXPECT_FALSE(contains(r.out, b_->ns.name())) << r.out;
  EXPECT_TRUE(contains(r.out, "dry run: 1 dead, would reap 1")) << r.out;

  EXPECT_EQ(a_->server_cookie(port_, client_port_), cookie_a) << "a dry run touched A";
  EXPECT_EQ(b_->server_cookie(port_, client_port_), cookie_b) << "a dry run touched B";
  a_->expect_usable();
  b_->expect_usable();
}

TEST_F(NetnsCliTest, ReapInOneNamespaceReapsThereAndLeavesTheTwin) {
  // The policy would find both dead; --netns A reaps in A only.
  const TempFile cfg(config({a_->identity(), b_->identity()}, "{ silent_for: 1s }"));
  std::this_thread::sleep_for(1500ms);
  const uint64_t cookie_b = b_->server_cookie(port_, client_port_);

  CommandResult r = tcpreap({"reap", "--netns", a_->ns.name(), "--config", cfg.path(), "--method", "destroy"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto reaped = lines_starting(r.out, "reaped ");
  ASSERT_EQ(reaped.size(), 1u) << r.out;
  EXPECT_TRUE(contains(reaped[0], tuple())) << reaped[0];
  EXPECT_TRUE(contains(reaped[0], "via destroy in netns " + a_->ns.name() + " " + a_->identity())) << reaped[0];
  EXPECT_TRUE(contains(r.out, "1 dead: 1 reaped")) << r.out;

  // From the victims' side: A's server end was destroyed, its client reset.
  EXPECT_EQ(next_recv(a_->server.get()), ECONNABORTED);
  EXPECT_EQ(next_recv(a_->client.get()), ECONNRESET);
  EXPECT_EQ(a_->server_cookie(port_, client_port_), 0u);
  // B's twin: the same socket, established and talking.
  EXPECT_EQ(b_->server_cookie(port_, client_port_), cookie_b);
  b_->expect_usable();
}

TEST_F(NetnsCliTest, KillInOneNamespaceKillsThatOneOnly) {
  const uint64_t cookie_b = b_->server_cookie(port_, client_port_);
  const std::string local = "127.0.0.1:" + std::to_string(port_), remote = "127.0.0.1:" + std::to_string(client_port_);

  // Without --netns: the test's own namespace has no such connection.
  CommandResult here = tcpreap({"kill", local, remote});
  EXPECT_EQ(here.exit_code, 1) << here.out << here.err;
  EXPECT_TRUE(contains(here.err, "in this network namespace; nothing was done")) << here.err;

  CommandResult r = tcpreap({"kill", "--netns", a_->ns.name(), local, remote});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(lines_starting(r.out, "reaped ").size(), 1u) << r.out;
  EXPECT_TRUE(contains(r.out, "in netns " + a_->ns.name() + " " + a_->identity())) << r.out;
  EXPECT_EQ(next_recv(a_->server.get()), ECONNABORTED);
  EXPECT_EQ(a_->server_cookie(port_, client_port_), 0u);
  EXPECT_EQ(b_->server_cookie(port_, client_port_), cookie_b);
  b_->expect_usable();

  // Again in A: gone, and it names where it looked.
  CommandResult again = tcpreap({"kill", "--netns", a_->identity(), local, remote});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(contains(again.err, "in network namespace " + a_->ns.name() + " " + a_->identity())) << again.err;
}

// Without CAP_SYS_ADMIN no other namespace can be entered: --netns is an
// error that names it, -A skips each such namespace and ends with status 3.
TEST_F(NetnsCliTest, WithoutCapSysAdminNetnsFailsNamingItAndAllSkips) {
  const std::vector<std::string> no_sys_admin = {"setpriv", "--inh-caps=-all", "--bounding-set=-sys_admin",
                                                 TCPREAP_BIN};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), no_sys_admin.begin(), no_sys_admin.end());
    return run_command(args);
  };
  const TempFile cfg(config({a_->identity(), b_->identity()}, "{ silent_for: 1h }"));
  for (const char* command : {"list", "reap"}) {
    SCOPED_TRACE(command);
    std::vector<std::string> args{command, "--netns", a_->ns.name()};
    if (std::string(command) == "reap") args.insert(args.end(), {"--dry-run", "--config", cfg.path()});
    CommandResult r = run(args);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(contains(r.err, "CAP_SYS_ADMIN")) << r.err;
    EXPECT_TRUE(contains(r.err, a_->ns.name())) << r.err;
  }
  CommandResult k = run({"kill", "--netns", a_->ns.name(), "127.0.0.1:" + std::to_string(port_),
                         "127.0.0.1:" + std::to_string(client_port_)});
  EXPECT_EQ(k.exit_code, 1) << k.out << k.err;
  EXPECT_TRUE(contains(k.err, "CAP_SYS_ADMIN")) << k.err;
  EXPECT_NE(a_->server_cookie(port_, client_port_), 0u) << "nothing was done";

  CommandResult all = run({"list", "-A", "--config", cfg.path(), "--only-matched"});
  EXPECT_EQ(all.exit_code, 3) << all.out << all.err;
  for (const Twin* t : {&*a_, &*b_}) {
    const auto said = lines_with(all.err, "skipping network namespace " + t->ns.name() + " " + t->identity() + ": ");
    ASSERT_EQ(said.size(), 1u) << all.err;
    EXPECT_TRUE(contains(said[0], "CAP_SYS_ADMIN")) << said[0];
  }
  EXPECT_EQ(lines_of(all.out).size(), 1u) << "only the header: " << all.out;
}

}  // namespace
}  // namespace tcpreap::test
