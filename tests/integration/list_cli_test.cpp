// `tcpreap list`, the built binary, run inside a namespace whose sockets the
// test knows: a half-open IPv4 and IPv6 connection (their client host has
// vanished), a loopback connection, three listeners.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "diag/socket_scanner.h"
#include "support/command.h"
#include "support/netns.h"
#include "support/privileges.h"
#include "support/suite_fixture.h"
#include "support/scan.h"
#include "support/support_error.h"
#include "support/tcp.h"

#ifndef TCPREAP_BIN
#error "TCPREAP_BIN (the path of the built tcpreap) must be defined"
#endif

namespace tcpreap::test {
namespace {

// ---- a flat JSON object, just enough for one line of `list --json` -------

struct JsonValue {
  enum class Kind { kString, kNumber, kNull, kBool } kind = Kind::kNull;
  std::string text;  // the string, or the number's digits
  uint64_t number() const { return std::stoull(text); }
};
using JsonObject = std::map<std::string, JsonValue>;

// Parses {"k":"v","n":12,"z":null}; nullopt (and a failure) if it is not one.
std::optional<JsonObject> parse_flat_json(const std::string& line) {
  size_t i = 0;
  auto fail = [&](const std::string& why) -> std::optional<JsonObject> {
    ADD_FAILURE() << "bad JSON at column " << i << " (" << why << "): " << line;
    return std::nullopt;
  };
  auto string_at = [&](std::string& out) {
    if (i >= line.size() || line[i] != '"') return false;
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' || static_cast<unsigned char>(line[i]) < 0x20) return false;  // none expected
      out += line[i];
    }
    if (i >= line.size()) return false;
    ++i;
    return true;
  };
  JsonObject obj;
  if (line.empty() || line[0] != '{') return fail("no '{'");
  i = 1;
  while (true) {
    std::string key;
    if (!string_at(key)) return fail("key");
    if (i >= line.size() || line[i++] != ':') return fail("':'");
    JsonValue v;
    if (i < line.size() && line[i] == '"') {
      v.kind = JsonValue::Kind::kString;
      if (!string_at(v.text)) return fail("string value");
    } else if (line.compare(i, 4, "null") == 0) {
      i += 4;
    } else if (line.compare(i, 4, "true") == 0 || line.compare(i, 5, "false") == 0) {
      v.kind = JsonValue::Kind::kBool;
      v.text = line[i] == 't' ? "true" : "false";
      i += v.text.size();
    } else {
      v.kind = JsonValue::Kind::kNumber;
      while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) v.text += line[i++];
      if (v.text.empty() || (v.text.size() > 1 && v.text[0] == '0')) return fail("number");
    }
    if (!obj.emplace(key, v).second) return fail("duplicate key " + key);
    if (i < line.size() && line[i] == ',') {
      ++i;
      continue;
    }
    if (i < line.size() && line[i] == '}' && i + 1 == line.size()) return obj;
    return fail("',' or final '}'");
  }
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      ADD_FAILURE() << "output does not end with a newline: " << text;
      nl = text.size();
    }
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// ---- the fixture ------------------------------------------------------------

constexpr uint16_t kPort4 = 7001, kPort6 = 7002, kPortLo = 7003, kLoClientPort = 41000;

struct Fixture {
  TestHosts hosts;
  UniqueFd listen4, listen6, listen_lo, client4, client6, server4, server6, lo_client, lo_server;
  std::optional<SocketScanner> scanner;
  uint16_t client4_port = 0, client6_port = 0;
  // "local_port/remote_port" -> a name, for every socket of the server namespace.
  std::map<std::string, std::string> names;

  Fixture() {
    {
      ScopedNetns in(hosts.server());
      listen4 = tcp_listen(TestHosts::kServer4, kPort4);
      listen6 = tcp_listen(TestHosts::kServer6, kPort6);
      listen_lo = tcp_listen("127.0.0.1", kPortLo);
      lo_client = tcp_connect("127.0.0.1", kPortLo, {"127.0.0.1", kLoClientPort});
      scanner.emplace(open_scanner());
    }
    lo_server = tcp_accept(listen_lo.get());
    {
      ScopedNetns in(hosts.client());
      client4 = tcp_connect(TestHosts::kServer4, kPort4);
      client6 = tcp_connect(TestHosts::kServer6, kPort6);
    }
    server4 = tcp_accept(listen4.get());
    server6 = tcp_accept(listen6.get());
    for (auto* p : {&client4, &client6}) write_all(p->get(), "ping");
    for (auto* p : {&server4, &server6})
      if (read_exact(p->get(), 4) != "ping") throw SupportError("the conversation went wrong");
    client4_port = local_endpoint(client4.get()).port;
    client6_port = local_endpoint(client6.get()).port;
    // The client host vanishes: the server ends stay ESTABLISHED, half-open.
    hosts.make_client_vanish();
    client4.reset();
    client6.reset();

    auto key = [](uint16_t l, uint16_t r) { return std::to_string(l) + "/" + std::to_string(r); };
    names = {{key(kPort4, client4_port), "S4"},       {key(kPort6, client6_port), "S6"},
             {key(kPortLo, kLoClientPort), "LoSrv"}, {key(kLoClientPort, kPortLo), "LoCli"},
             {key(kPort4, 0), "Listen4"},            {key(kPort6, 0), "Listen6"},
             {key(kPortLo, 0), "ListenLo"}};
  }

  CommandResult list(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"ip", "netns", "exec", hosts.server(), TCPREAP_BIN, "list"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }
};

class ListCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fixture_.build(); }
  static void TearDownTestSuite() { fixture_.reset(); }
  void SetUp() override { TCPREAP_REQUIRE_SUITE_FIXTURE(fixture_); }

  // Runs `list --json ARGS`, checks it, returns the objects.
  std::vector<JsonObject> list_json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    CommandResult r = fixture_->list(args);
    EXPECT_EQ(r.exit_code, 0) << r.describe(args);
    EXPECT_EQ(r.err, "");
    std::vector<JsonObject> out;
    for (const auto& line : lines_of(r.out))
      if (auto o = parse_flat_json(line)) out.push_back(*o);
    return out;
  }

  // The names of the sockets `list --json ARGS` prints.
  std::set<std::string> listed(const std::vector<std::string>& args) {
    std::set<std::string> out;
    for (const auto& o : list_json(args)) {
      std::string key = o.at("local_port").text + "/" + o.at("remote_port").text;
      auto it = fixture_->names.find(key);
      EXPECT_NE(it, fixture_->names.end()) << "an unknown socket: " << key;
      if (it != fixture_->names.end()) {
        EXPECT_TRUE(out.insert(it->second).second) << "listed twice: " << key;
      }
    }
    return out;
  }

  uint64_t count(std::vector<std::string> args) {
    args.insert(args.begin(), "--count");
    CommandResult r = fixture_->list(args);
    EXPECT_EQ(r.exit_code, 0) << r.describe(args);
    EXPECT_EQ(r.err, "");
    EXPECT_FALSE(r.out.empty());
    EXPECT_EQ(r.out.back(), '\n');
    EXPECT_EQ(r.out.find_first_not_of("0123456789\n"), std::string::npos) << r.out;
    return r.out.empty() ? ~0ull : std::stoull(r.out);
  }

  static inline SuiteFixture<Fixture> fixture_;
};


const char* const kFields[] = {"family",       "state",          "local_address",    "local_port",
                               "remote_address", "remote_port",  "interface",        "uid",
                               "inode",        "cookie",         "recv_q",           "send_q",
                               "timer",        "timer_expires_ms", "last_recv_ms",   "last_data_recv_ms",
                               "last_ack_recv_ms", "last_data_sent_ms", "unacked",   "retransmits",
                               "backoff",      "probes",         "total_retrans",    "rto_us",
                               "rtt_us"};

TEST_F(ListCliTest, JsonLinesCarryEveryFieldWithTheRightValues) {
  // What the library sees, to compare cookies with.
  SocketFilter est;
  est.states = StateSet::of(TcpState::kEstablished);
  std::map<uint16_t, TcpSocket> seen;
  for (const auto& s : scan_sockets(*fixture_->scanner, compile_query(est))) seen[s.local_port] = s;

  auto objects = list_json({});
  ASSERT_EQ(objects.size(), 4u);
  for (const auto& o : objects) {
    for (const char* f : kFields) EXPECT_TRUE(o.count(f)) << "no field " << f;
    EXPECT_EQ(o.size(), std::size(kFields)) << "unexpected fields";
    for (const char* f : {"family", "state", "local_address", "remote_address"})
      EXPECT_EQ(o.at(f).kind, JsonValue::Kind::kString) << f;
    for (const char* f : {"local_port", "remote_port", "uid", "inode", "cookie", "last_recv_ms", "last_data_recv_ms",
                          "last_ack_recv_ms", "unacked", "retransmits", "backoff", "rto_us", "rtt_us"})
      ASSERT_EQ(o.at(f).kind, JsonValue::Kind::kNumber) << f;
    EXPECT_EQ(o.at("state").text, "ESTAB");
    EXPECT_EQ(o.at("uid").number(), ::geteuid());
    EXPECT_GT(o.at("rto_us").number(), 0u);
    EXPECT_EQ(o.at("unacked").number(), 0u);
    EXPECT_EQ(o.at("retransmits").number(), 0u);
    const auto lport = static_cast<uint16_t>(o.at("local_port").number());
    ASSERT_TRUE(seen.count(lport)) << lport;
    EXPECT_EQ(o.at("cookie").number(), seen[lport].cookie);
    EXPECT_EQ(o.at("inode").number(), seen[lport].inode);
  }

  auto find = [&](uint16_t lport) -> const JsonObject& {
    for (const auto& o : objects)
      if (o.at("local_port").number() == lport) return o;
    ADD_FAILURE() << "no line for local port " << lport;
    return objects.front();
  };
  const JsonObject& s4 = find(kPort4);
  EXPECT_EQ(s4.at("family").text, "ipv4");
  EXPECT_EQ(s4.at("local_address").text, TestHosts::kServer4);
  EXPECT_EQ(s4.at("remote_address").text, TestHosts::kClient4);
  EXPECT_EQ(s4.at("remote_port").number(), fixture_->client4_port);
  EXPECT_EQ(s4.at("inode").number(), socket_inode(fixture_->server4.get()));
  ASSERT_TRUE(seen[kPort4].info && seen[kPort4].info->last_data_recv_ms);
  EXPECT_GE(s4.at("last_data_recv_ms").number(), *seen[kPort4].info->last_data_recv_ms)
      << "the binary scanned after the library did";
  const JsonObject& s6 = find(kPort6);
  EXPECT_EQ(s6.at("family").text, "ipv6");
  EXPECT_EQ(s6.at("local_address").text, TestHosts::kServer6);
  EXPECT_EQ(s6.at("remote_address").text, TestHosts::kClient6);
  EXPECT_EQ(s6.at("remote_port").number(), fixture_->client6_port);
  EXPECT_EQ(s6.at("inode").number(), socket_inode(fixture_->server6.get()));
  const JsonObject& lo = find(kPortLo);
  EXPECT_EQ(lo.at("local_address").text, "127.0.0.1");
  EXPECT_EQ(lo.at("remote_port").number(), kLoClientPort);
}

TEST_F(ListCliTest, CountIsTheNumberOfSockets) {
  EXPECT_EQ(count({}), 4u);
  EXPECT_EQ(count({"--state", "all"}), 7u);
  EXPECT_EQ(count({"--state", "listening"}), 3u);
  EXPECT_EQ(count({"--sport", "7001", "--dst", "127.0.0.1"}), 0u);
  EXPECT_EQ(count({}), list_json({}).size());
}

TEST_F(ListCliTest, TableListsEverySocket) {
  CommandResult r = fixture_->list({});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;  // a header and four sockets
  for (const char* text : {"10.231.0.1", "fd00:231::1", "127.0.0.1", "ESTAB"})
    EXPECT_NE(r.out.find(text), std::string::npos) << text << " in\n" << r.out;
}

struct FilterCase {
  std::vector<std::string> args;
  std::set<std::string> expected;
};

TEST_F(ListCliTest, FiltersSelectWhatTheyShould) {
  const std::set<std::string> connected{"S4", "S6", "LoSrv", "LoCli"};
  const std::set<std::string> listeners{"Listen4", "Listen6", "ListenLo"};
  std::set<std::string> everything = connected;
  everything.insert(listeners.begin(), listeners.end());
  const std::vector<FilterCase> cases = {
      {{}, connected},
      {{"--sport", "7001"}, {"S4"}},
      {{"--sport=7001"}, {"S4"}},
      {{"--dport", "7003"}, {"LoCli"}},
      {{"--dport", "41000"}, {"LoSrv"}},
      {{"--port", "7003"}, {"LoSrv", "LoCli"}},
      {{"--port", "41000", "--src", "127.0.0.1"}, {"LoSrv", "LoCli"}},
      {{"--sport", "7001-7002"}, {"S4", "S6"}},
      {{"--sport", "7001,7003"}, {"S4", "LoSrv"}},
      {{"--sport", "7001", "--sport", "7003"}, {"S4", "LoSrv"}},
      {{"--sport", "7001", "--dport", "7003"}, {}},
      {{"--src", "10.231.0.0/24"}, {"S4"}},
      {{"--src", "fd00:231::/64"}, {"S6"}},
      {{"--src", "10.231.0.0/24,fd00::/8"}, {"S4", "S6"}},
      {{"--src", "[fd00:231::1]"}, {"S6"}},
      {{"--dst", "127.0.0.0/8"}, {"LoSrv", "LoCli"}},
      {{"--dst", "10.231.0.2"}, {"S4"}},
      {{"--dst", "fd00:231::2/128"}, {"S6"}},
      {{"--dst", "0.0.0.0/0"}, {"S4", "LoSrv", "LoCli"}},
      {{"--dst", "::/0"}, {"S6"}},
      {{"-4"}, {"S4", "LoSrv", "LoCli"}},
      {{"--ipv4"}, {"S4", "LoSrv", "LoCli"}},
      {{"-6"}, {"S6"}},
      {{"--ipv6"}, {"S6"}},
      {{"-4", "-6"}, connected},
      {{"-46"}, connected},
      {{"--state", "listening"}, listeners},
      {{"--state", "listen", "-6"}, {"Listen6"}},
      {{"-s", "listening", "--sport", "7003"}, {"ListenLo"}},
      {{"--state", "established,listening"}, everything},
      {{"--state", "established", "--state", "listening"}, everything},
      {{"--state", "all"}, everything},
      {{"--state", "synchronized"}, connected},
      {{"--state", "time-wait"}, {}},
      {{"--state", "established", "--sport", "7001", "--dst", "10.231.0.2"}, {"S4"}},
      {{"--state", "all", "--dst", "10.231.0.0/24"}, {"S4"}},
      {{"--state", "all", "--dport", "0"}, listeners},
      {{"--sport", "7001", "--dst", "127.0.0.1"}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("tcpreap list " + join_argv(c.args));
    EXPECT_EQ(listed(c.args), c.expected);
    EXPECT_EQ(count(c.args), c.expected.size());
  }
}

// Bad arguments need no namespace and no root: parsing fails before any scan.
TEST(ListCliArguments, BadArgumentsExitTwoNamingTheCulprit) {
  struct Bad {
    std::vector<std::string> args;
    std::vector<std::string> mentions;
  };
  const std::vector<Bad> cases = {
      {{"--sport", "70000"}, {"--sport", "70000"}},
      {{"--dport", "7-3"}, {"--dport", "7-3"}},
      {{"--port", "http"}, {"--port", "http"}},
      {{"--src", "10.0.0.1/8"}, {"--src", "10.0.0.1/8"}},
      {{"--dst", "10.0.0.0/33"}, {"--dst", "10.0.0.0/33"}},
      {{"--dst", "nowhere"}, {"--dst", "nowhere"}},
      {{"--bogus"}, {"--bogus"}},
      {{"-x"}, {"-x"}},
      {{"--state", "nosuch"}, {"--state", "nosuch"}},
      {{"--state", "established,nosuch"}, {"--state", "nosuch"}},
      {{"--json", "--count"}, {"--json", "--count"}},
      {{"--sport"}, {"--sport"}},
      {{"stray"}, {"stray"}},
      {{"-s"}, {"-s", "needs a value"}},
      {{"--json=1"}, {"--json", "takes no value"}},
      {{"--spo", "80"}, {"--spo", "did you mean '--sport'"}},
      {{"--s", "80"}, {"--s'"}},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv{TCPREAP_BIN, "list"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    SCOPED_TRACE(join_argv(argv));
    CommandResult r = run_command(argv);
    EXPECT_EQ(r.exit_code, 2) << r.describe(argv);
    EXPECT_EQ(r.out, "") << "nothing on stdout";
    for (const auto& m : c.mentions) EXPECT_NE(r.err.find(m), std::string::npos) << "stderr should name " << m << ": " << r.err;
  }
}

}  // namespace
}  // namespace tcpreap::test
