#include "program/command_line.h"

#include <cstdio>
#include <string>
#include <variant>

#include "program/exit_codes.h"

namespace tcpreap {

CommandLine::CommandLine(const ProgramMessages& messages, const char* usage, int argc, char** argv,
                         const char* shortopts, const option* longopts)
    : messages_(messages), usage_(usage), argc_(argc), argv_(argv), parser_(argc, argv, shortopts, longopts) {}

std::optional<int> CommandLine::read_options(const OnOption& on_option, Operands operands) {
  while (true) {
    auto next = parser_.next();
    if (std::holds_alternative<OptionParser::End>(next)) break;
    if (auto* bad = std::get_if<OptionParser::Bad>(&next)) return messages_.usage_error(bad->message);
    const auto [code, value] = std::get<OptionParser::Opt>(next);
    if (code == 'h') {
      std::fputs(usage_, stdout);
      return exit_code::kOk;
    }
    if (auto done = on_option(code, value)) return done;
  }
  if (operands == Operands::kNone && parser_.operand_index() < argc_)
    return messages_.usage_error(std::string("unexpected argument '") + argv_[parser_.operand_index()] + "'");
  return std::nullopt;
}

std::span<char* const> CommandLine::operands() const {
  const int first = parser_.operand_index();
  return {argv_ + first, static_cast<size_t>(argc_ - first)};
}

}  // namespace tcpreap
