// tcpreap, the CLI, gives up every capability its command does not need
// before it reads a file or the network: `list` and `check` keep none,
// `reap` and `kill` keep CAP_NET_ADMIN and CAP_NET_RAW; with -A (or
// --netns) CAP_SYS_ADMIN and CAP_SYS_PTRACE too. Seen from outside,
// in /proc, while the command waits on its config - a FIFO nobody has
// written to yet.

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/child_process.h"
#include "support/privileges.h"

#ifndef TCPREAP_BIN
#error "TCPREAP_BIN (the path of the built tcpreap) must be defined"
#endif

namespace tcpreap::test {
namespace {

constexpr uint64_t kNetAdmin = uint64_t{1} << 12, kNetRaw = uint64_t{1} << 13;
constexpr uint64_t kSysPtrace = uint64_t{1} << 19, kSysAdmin = uint64_t{1} << 21;

struct Caps {
  uint64_t eff = 0, prm = 0;
};

Caps caps_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  Caps c;
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string key;
    f >> key;
    if (key == "CapEff:") f >> std::hex >> c.eff;
    else if (key == "CapPrm:") f >> std::hex >> c.prm;
  }
  return c;
}

// What the kernel says the process is blocked in: a FIFO's open waits
// in wait_for_partner() (fs/pipe.c).
std::string wait_channel(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/wchan");
  std::string w;
  std::getline(in, w);
  return w;
}

class CliPrivilegeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TCPREAP_REQUIRE_ROOT();
    fifo_ = "/tmp/tcpreap-cli-privilege-" + std::to_string(::getpid()) + ".yaml";
    std::filesystem::remove(fifo_);
    ASSERT_EQ(::mkfifo(fifo_.c_str(), 0600), 0);
  }
  void TearDown() override { std::filesystem::remove(fifo_); }

  // Runs `tcpreap args... --config FIFO`, waits until it blocks opening the
  // FIFO, and returns its capabilities then; feeds it a config and lets it end.
  Caps caps_while_reading(std::vector<std::string> args) {
    std::vector<std::string> argv = {TCPREAP_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--config");
    argv.push_back(fifo_);
    ChildProcess p(argv);
    // Deadline for a broken run only.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (wait_channel(p.pid()).find("wait_for_partner") == std::string::npos && p.running() &&
           std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_NE(wait_channel(p.pid()).find("wait_for_partner"), std::string::npos) << p.output();
    const Caps c = caps_of(p.pid());
    {
      std::ofstream w(fifo_);
      w << "reap: { dry_run: true }\npolicies:\n  - name: any\n    match: { local_ports: [1] }\n"
           "    dead_when: { unacked_for: 5m }\n";
    }
    EXPECT_TRUE(p.wait_exit(std::chrono::seconds(20)).has_value()) << p.output();
    return c;
  }

  std::string fifo_;
};

TEST_F(CliPrivilegeTest, ListAndCheckKeepNoCapability) {
  for (const char* command : {"list", "check"}) {
    const Caps c = caps_while_reading({command});
    EXPECT_EQ(c.eff, 0u) << command;
    EXPECT_EQ(c.prm, 0u) << command;
  }
}

TEST_F(CliPrivilegeTest, ReapKeepsOnlyTheTwoItUses) {
  const Caps c = caps_while_reading({"reap", "--dry-run"});
  EXPECT_EQ(c.eff, kNetAdmin | kNetRaw);
  EXPECT_EQ(c.prm, kNetAdmin | kNetRaw);
}

// -A and --netns enter other namespaces (CAP_SYS_ADMIN) and find those of
// other users' processes (CAP_SYS_PTRACE): those two more, nothing else.
TEST_F(CliPrivilegeTest, AllNamespacesKeepsTheTwoEnteringNamespacesTakesToo) {
  const Caps list = caps_while_reading({"list", "-A"});
  EXPECT_EQ(list.eff, kSysAdmin | kSysPtrace);
  EXPECT_EQ(list.prm, kSysAdmin | kSysPtrace);
  const Caps reap = caps_while_reading({"reap", "--all-namespaces", "--dry-run"});
  EXPECT_EQ(reap.eff, kNetAdmin | kNetRaw | kSysAdmin | kSysPtrace);
  EXPECT_EQ(reap.prm, kNetAdmin | kNetRaw | kSysAdmin | kSysPtrace);
}

}  // namespace
}  // namespace tcpreap::test
