#pragma once
// A directory of a unit test's own under /tmp, removed with everything in it
// when the test ends: a fake /proc or /run tree, a file to load.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace tcpreap::testing {

class ScratchDir {
 public:
  ScratchDir() {
    char tmpl[] = "/tmp/tcpreap-unit.XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    EXPECT_NE(made, nullptr) << "mkdtemp";
    path_ = made ? made : "/nonexistent";
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  const std::string& root() const { return path_; }

  // Writes `content` to `rel` (its directories made first); its full path.
  std::string file(const std::string& rel, const std::string& content) const {
    std::filesystem::create_directories(std::filesystem::path(path_ + "/" + rel).parent_path());
    std::ofstream(path_ + "/" + rel) << content;
    return path_ + "/" + rel;
  }
  void link(const std::string& rel, const std::string& target) const {
    std::filesystem::create_directories(std::filesystem::path(path_ + "/" + rel).parent_path());
    std::filesystem::create_symlink(target, path_ + "/" + rel);
  }
  void dir(const std::string& rel) const { std::filesystem::create_directories(path_ + "/" + rel); }
  void remove(const std::string& rel) const { std::filesystem::remove(path_ + "/" + rel); }

 private:
  std::string path_;
};

}  // namespace tcpreap::testing
