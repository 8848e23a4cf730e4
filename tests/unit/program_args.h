#pragma once
// A mutable argv for the programs' option loops, as main() receives it.

#include <string>
#include <utility>
#include <vector>

namespace tcpreap {

class ProgramArgs {
 public:
  explicit ProgramArgs(std::vector<std::string> words) : words_(std::move(words)) {
    for (auto& w : words_) argv_.push_back(w.data());
    argv_.push_back(nullptr);
  }
  ProgramArgs(const ProgramArgs&) = delete;
  ProgramArgs& operator=(const ProgramArgs&) = delete;
  int argc() const { return static_cast<int>(words_.size()); }
  char** argv() { return argv_.data(); }

 private:
  std::vector<std::string> words_;
  std::vector<char*> argv_;
};

}  // namespace tcpreap
