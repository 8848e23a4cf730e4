#include "program/program_messages.h"

#include <cstdio>

#include "program/exit_codes.h"

namespace tcpreap {

int ProgramMessages::usage_error(std::string_view message) const {
  std::fprintf(stderr, "%s: %.*s\nTry '%s --help'.\n", name_.c_str(), static_cast<int>(message.size()), message.data(),
               name_.c_str());
  return exit_code::kUsage;
}

int ProgramMessages::failed(std::string_view message) const {
  std::fflush(stdout);
  note(message);
  return exit_code::kFailure;
}

void ProgramMessages::note(std::string_view message) const {
  std::fprintf(stderr, "%s: %.*s\n", name_.c_str(), static_cast<int>(message.size()), message.data());
}

}  // namespace tcpreap
