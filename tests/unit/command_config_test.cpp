// The config a command runs with: the valid config, or every diagnostic and
// one closing line on stderr.

#include "program/command_config.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config_loader.h"

namespace tcpreap {
namespace {

using ::testing::internal::CaptureStderr;
using ::testing::internal::GetCapturedStderr;

// A file under the test's temporary directory, removed at the end.
class ConfigFileOnDisk {
 public:
  explicit ConfigFileOnDisk(const std::string& text)
      : path_(std::filesystem::temp_directory_path() / ("command_config_test." + std::to_string(::getpid()) + ".yaml")) {
    std::ofstream(path_) << text;
  }
  ~ConfigFileOnDisk() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(CommandConfig, AValidConfigIsReturnedSilently) {
  ConfigFileOnDisk file(
      "policies:\n  - name: zk\n    match:\n      local_ports: [2181]\n    dead_when:\n      silent_for: 5m\n");
  CaptureStderr();
  const auto config = command_config(file.path(), ProgramMessages("tcpreap check"));
  EXPECT_EQ(GetCapturedStderr(), "");
  ASSERT_TRUE(config);
  ASSERT_EQ(config->policies.size(), 1u);
  EXPECT_EQ(config->policies[0].name, "zk");
}

TEST(CommandConfig, AnInvalidOneIsEveryDiagnosticThenWhatWasNotDone) {
  ConfigFileOnDisk file("scan: [\n");
  const ConfigLoad load = load_config_file(file.path());
  ASSERT_FALSE(load.config);
  std::string expected;
  for (const auto& d : load.errors) expected += d.to_string() + "\n";
  const size_t n = load.errors.size();
  expected += "tcpreap reap: " + file.path() + " is not valid (" + std::to_string(n) + " error" + (n == 1 ? "" : "s") +
              "); nothing was done\n";
  CaptureStderr();
  EXPECT_FALSE(command_config(file.path(), ProgramMessages("tcpreap reap")));
  EXPECT_EQ(GetCapturedStderr(), expected);
}

TEST(CommandConfig, CountsTheErrorsInWords) {
  CaptureStderr();
  EXPECT_FALSE(command_config("/nonexistent/tcpreap.yaml", ProgramMessages("tcpreap list")));
  const std::string err = GetCapturedStderr();
  EXPECT_NE(err.find("tcpreap list: /nonexistent/tcpreap.yaml is not valid (1 error); nothing was done\n"),
            std::string::npos)
      << err;
}

}  // namespace
}  // namespace tcpreap
