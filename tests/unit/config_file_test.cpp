// load_config_file: a config read from disk - the example from a file, and
// the one diagnostic for a file that is missing, a directory, or too large
// (read no further than just past the limit).

#include "config/config_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "unit/config_loader_fixture.h"

#ifndef TCPREAP_CONFIG_FIXTURES
#error "TCPREAP_CONFIG_FIXTURES must be defined"
#endif

namespace tcpreap {
namespace {

using testing::expect_example;
using testing::kPolicy;

TEST(ConfigFile, LoadsTheExampleFromAFile) {
  const std::string path = std::string(TCPREAP_CONFIG_FIXTURES) + "/example.yaml";
  ConfigLoad l = load_config_file(path);
  for (const ConfigDiagnostic& d : l.errors) ADD_FAILURE() << d.to_string();
  ASSERT_TRUE(l.config.has_value());
  expect_example(*l.config, path, 2);  // after a comment line
}

TEST(ConfigFile, RefusesAFileOverOneMebibyte) {
  std::string big = kPolicy;
  big += "# " + std::string(kMaxConfigBytes, 'x') + "\n";
  const std::string path = ::testing::TempDir() + "config_file_test_big.yaml";
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fwrite(big.data(), 1, big.size(), f);
  std::fclose(f);
  ConfigLoad l = load_config_file(path);
  std::remove(path.c_str());
  EXPECT_FALSE(l.config.has_value());
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0].to_string(),
            path + ": the file is larger than 1 MiB; a config is a page of YAML (is it the right file?)");
}

// The loader reads no further than just past the limit: a file that never
// ends is refused the same (reading it whole would never return).
TEST(ConfigFile, ReadsNoFurtherThanTheLimit) {
  ConfigLoad l = load_config_file("/dev/zero");
  EXPECT_FALSE(l.config.has_value());
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0].to_string(),
            "/dev/zero: the file is larger than 1 MiB; a config is a page of YAML (is it the right file?)");
}

TEST(ConfigFile, AMissingFileIsOneDiagnosticWithThePathAndErrno) {
  const std::string path = std::string(TCPREAP_CONFIG_FIXTURES) + "/no-such-file.yaml";
  ConfigLoad l = load_config_file(path);
  EXPECT_FALSE(l.config.has_value());
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0].to_string(), path + ": cannot read the config: No such file or directory");
}

TEST(ConfigFile, ADirectoryIsNotAConfig) {
  ConfigLoad l = load_config_file(TCPREAP_CONFIG_FIXTURES);
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0].to_string(), std::string(TCPREAP_CONFIG_FIXTURES) + ": cannot read the config: Is a directory");
}

}  // namespace
}  // namespace tcpreap
