#pragma once
// What a program says to the operator on stderr: each line begins with the
// program's name as the operator typed it ("tcpreapd", "tcpreap kill"), so
// that a script's log shows who said it. Operators' scripts match these
// lines and test the exit codes the helpers return.

#include <string>
#include <string_view>
#include <utility>

namespace tcpreap {

class ProgramMessages {
 public:
  explicit ProgramMessages(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }

  // "NAME: message" and "Try 'NAME --help'."; returns exit_code::kUsage.
  int usage_error(std::string_view message) const;

  // "NAME: message"; returns exit_code::kFailure. What the program printed
  // on stdout is flushed first, so that it comes before the error.
  int failed(std::string_view message) const;

  // "NAME: message": a warning or a notice; the program goes on.
  void note(std::string_view message) const;

 private:
  std::string name_;
};

}  // namespace tcpreap
