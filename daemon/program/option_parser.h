#pragma once
// getopt_long with the checks operators' scripts deserve: no abbreviated
// long options (an option added later must not change what a script means),
// and messages that name the offending word.

#include <getopt.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace tcpreap {

class OptionParser {
 public:
  // `longopts` ends with a zero entry; `shortopts` starts with ':'. getopt's
  // state is global: one parser at a time; a new one starts afresh.
  OptionParser(int argc, char** argv, const char* shortopts, const option* longopts);

  struct End {};
  struct Bad {
    std::string message;  // "unknown option '--bogus'", ...
  };
  struct Opt {
    int code;
    const char* value;  // optarg, or nullptr
  };
  // The next option, the end of the options, or what was wrong.
  std::variant<Opt, End, Bad> next();

  // The first operand after the options (optind), once next() gave End.
  int operand_index() const { return optind == 0 ? 1 : optind; }

 private:
  int argc_;
  char** argv_;
  const char* shortopts_;
  const option* longopts_;
};

// `--confirm-scans N`: 1 to 100 scans, or nullopt.
std::optional<uint32_t> parse_scan_count(std::string_view text);

}  // namespace tcpreap
