// The configs the project ships must load, and must say what their comments
// promise.

#include <gtest/gtest.h>

#include <fstream>

#include "config/config_loader.h"
#include "filter/bytecode_compiler.h"
#include "net/tcp_state.h"

#ifndef TCPREAP_SOURCE_DIR
#error "TCPREAP_SOURCE_DIR must be defined"
#endif

namespace tcpreap {
namespace {

using namespace std::chrono_literals;

Config load(const std::string& relative) {
  ConfigLoad l = load_config_file(std::string(TCPREAP_SOURCE_DIR) + "/" + relative);
  for (const auto& e : l.errors) ADD_FAILURE() << e.to_string();
  return l.config ? *l.config : Config{};
}

// The ZooKeeper policy, as the default (commented) and the example ship it.
void expect_zookeeper_clients(const Policy& zk) {
  EXPECT_EQ(zk.name, "zookeeper-clients");
  EXPECT_EQ(zk.match.local_ports, (std::vector<PortRange>{{2181, 2181}}));
  EXPECT_EQ(zk.dead_when.silent_for, Duration(2min));
  ASSERT_TRUE(zk.per_peer_limit);
  EXPECT_EQ(zk.per_peer_limit->max, 50u);
  EXPECT_EQ(zk.verify, (std::optional<Verify>(Verify{3, 5s})));
}

TEST(ShippedConfigs, TheDefaultReapsOnlyLongUnacknowledgedData) {
  const Config c = load("config/tcpreap.yaml");
  EXPECT_EQ(c.scan_interval, 10s);
  EXPECT_FALSE(c.dry_run);
  EXPECT_EQ(c.max_per_scan, 100u);
  ASSERT_EQ(c.protect.size(), 2u);
  ASSERT_EQ(c.policies.size(), 1u);
  const Policy& p = c.policies[0];
  EXPECT_EQ(p.name, "unacknowledged");
  EXPECT_FALSE(p.dead_when.silent_for) << "the default never reaps idle connections";
  ASSERT_TRUE(p.dead_when.unacked_for);
  EXPECT_GE(*p.dead_when.unacked_for, 5min);
  EXPECT_TRUE(p.dead_when.in_state_for.empty());
  EXPECT_FALSE(p.per_peer_limit);
  EXPECT_FALSE(p.verify) << "nothing to verify without silence";
  EXPECT_GE(p.confirm, 2u);
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:10126");
}

// The package starts the service on the default: the ZooKeeper policy in it
// is commented out, and must work as soon as an operator removes the "# ".
TEST(ShippedConfigs, TheDefaultsCommentedZooKeeperPolicyLoadsWhenUncommented) {
  std::ifstream in(std::string(TCPREAP_SOURCE_DIR) + "/config/tcpreap.yaml");
  ASSERT_TRUE(in);
  std::string text, line;
  bool in_block = false;
  int uncommented = 0;
  while (std::getline(in, line)) {
    if (line.rfind("  # - name: zookeeper-clients", 0) == 0) in_block = true;
    if (in_block && line.rfind("  # ", 0) == 0) {
      line = "  " + line.substr(4);
      ++uncommented;
    } else if (in_block) {
      in_block = false;
    }
    text += line + "\n";
  }
  ASSERT_GE(uncommented, 10) << "the commented policy was not found:\n" << text;
  ConfigLoad l = load_config_text(text, "tcpreap.yaml (uncommented)");
  for (const auto& e : l.errors) ADD_FAILURE() << e.to_string() << "\n" << text;
  ASSERT_TRUE(l.config);
  ASSERT_EQ(l.config->policies.size(), 2u);
  expect_zookeeper_clients(l.config->policies[0]);
  EXPECT_EQ(l.config->policies[1].name, "unacknowledged");
}

// Only the host's namespace by default; the commented `namespaces:` block
// spells the defaults out, and loads (as host or as all) once uncommented.
TEST(ShippedConfigs, TheDefaultsCommentedNamespacesBlockLoadsWhenUncommented) {
  EXPECT_EQ(load("config/tcpreap.yaml").namespaces, NamespaceScope{});
  std::ifstream in(std::string(TCPREAP_SOURCE_DIR) + "/config/tcpreap.yaml");
  ASSERT_TRUE(in);
  std::string text, line;
  bool in_block = false;
  int uncommented = 0;
  while (std::getline(in, line)) {
    if (line == "# namespaces:") in_block = true;
    if (in_block && line.rfind("# ", 0) == 0) {
      line = line.substr(2);
      ++uncommented;
    } else if (in_block) {
      in_block = false;
    }
    text += line + "\n";
  }
  ASSERT_EQ(uncommented, 4) << "the commented block was not found:\n" << text;
  ConfigLoad as_host = load_config_text(text, "tcpreap.yaml (uncommented)");
  for (const auto& e : as_host.errors) ADD_FAILURE() << e.to_string() << "\n" << text;
  ASSERT_TRUE(as_host.config);
  EXPECT_EQ(as_host.config->namespaces, NamespaceScope{});

  const size_t scan = text.find("  scan: host ");
  ASSERT_NE(scan, std::string::npos);
  text.replace(scan, 13, "  scan: all  ");
  ConfigLoad as_all = load_config_text(text, "tcpreap.yaml (uncommented, all)");
  for (const auto& e : as_all.errors) ADD_FAILURE() << e.to_string() << "\n" << text;
  ASSERT_TRUE(as_all.config);
  EXPECT_EQ(as_all.config->namespaces.scan, NamespaceScope::Mode::kAll);
}

TEST(ShippedConfigs, TheZooKeeperExample) {
  const Config c = load("config/examples/zookeeper.yaml");
  ASSERT_EQ(c.policies.size(), 3u);
  expect_zookeeper_clients(c.policies[0]);
  // Its silence is verified; the other policies have none to verify.
  EXPECT_FALSE(c.policies[1].verify);
  EXPECT_FALSE(c.policies[2].verify);
}

TEST(ShippedConfigs, TheRetransmissionsOnlyExampleNeverReapsIdleConnections) {
  const Config c = load("config/examples/retransmissions-only.yaml");
  EXPECT_TRUE(c.dry_run);
  for (const Policy& p : c.policies) {
    EXPECT_FALSE(p.dead_when.silent_for) << p.name;
    EXPECT_TRUE(p.dead_when.unacked_for) << p.name;
  }
}

// The kernel runs a config's program on every socket of every turn's walk.
// Bounds in bytes (an op is 4, a port test 8): the default asks for states
// only, so no program; the ZooKeeper example's three policies are five port
// tests, 2181 once for two policies (68 bytes before filter_simplifier.h),
// with a 4-byte jump after each of the first four.
TEST(ShippedConfigs, EachCompilesToAKernelProgramNoLongerThanItsBound) {
  struct Shipped {
    const char* file;
    size_t max_bytes;
    uint32_t states;
  };
  const uint32_t established = 1u << 1, close_wait = 1u << 8, fin_wait1 = 1u << 4, last_ack = 1u << 9;
  for (const Shipped& s : {Shipped{"config/tcpreap.yaml", 0, established | close_wait},
                           Shipped{"config/examples/zookeeper.yaml", 5 * 8 + 4 * 4, established | close_wait},
                           Shipped{"config/examples/retransmissions-only.yaml", 0,
                                   established | close_wait | fin_wait1 | last_ack}}) {
    SCOPED_TRACE(s.file);
    const SocketFilter f = load(s.file).scan_filter();
    auto program = compile_bytecode(f);
    ASSERT_TRUE(program.ok()) << program.error().message();
    EXPECT_LE(program->size(), s.max_bytes);
    // Never ~0: that also walks the bind hash (6.8+).
    EXPECT_EQ(f.states.kernel_mask(), s.states);
  }
}

}  // namespace
}  // namespace tcpreap
