#pragma once
// A file in /tmp with the given text, named after the PID, removed when the
// object goes: configs for the CLI under test.

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace tcpreap::test {

class TempFile {
 public:
  explicit TempFile(const std::string& text, const std::string& suffix = ".yaml")
      : path_("/tmp/tcpreap-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + suffix) {
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

}  // namespace tcpreap::test
