#pragma once
// The option loop every program runs: tcpreapd's, and each tcpreap
// command's. Options are read in order by OptionParser's rules (no
// abbreviations, messages that name the offending word); -h/--help prints
// the program's usage; a bad option or an operand where none is taken is a
// usage error. What an option means stays with the program.

#include <getopt.h>

#include <functional>
#include <optional>
#include <span>

#include "program/option_parser.h"
#include "program/program_messages.h"

namespace tcpreap {

class CommandLine {
 public:
  // `messages` (borrowed, must outlive this) says the usage errors;
  // `usage` is the --help text. `shortopts` and `longopts` as OptionParser
  // takes them; -h/--help among them, with the code 'h'.
  CommandLine(const ProgramMessages& messages, const char* usage, int argc, char** argv, const char* shortopts,
              const option* longopts);

  // What to do with one option, `code` as getopt_long gives it and `value`
  // its argument (or nullptr): nullopt to go on, or the exit code to end
  // the program with (having said why).
  using OnOption = std::function<std::optional<int>(int code, const char* value)>;
  enum class Operands { kNone, kTaken };

  // Reads every option, each but -h/--help to `on_option`. Returns the exit
  // code to end with - exit_code::kOk after printing the usage on stdout,
  // exit_code::kUsage after saying what was wrong, or what `on_option`
  // returned - or nullopt when every option was read (and, with
  // Operands::kNone, no operand follows them).
  std::optional<int> read_options(const OnOption& on_option, Operands operands = Operands::kNone);

  // The operands after the options, once they are read.
  std::span<char* const> operands() const;

 private:
  const ProgramMessages& messages_;
  const char* usage_;
  int argc_;
  char** argv_;
  OptionParser parser_;
};

}  // namespace tcpreap
