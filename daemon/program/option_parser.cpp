#include "program/option_parser.h"

#include <charconv>

namespace tcpreap {

OptionParser::OptionParser(int argc, char** argv, const char* shortopts, const option* longopts)
    : argc_(argc), argv_(argv), shortopts_(shortopts), longopts_(longopts) {
  opterr = 0;  // our own messages
  // 0, not 1: glibc then forgets everything of an earlier parse (where it
  // stopped in a cluster of short options, which operands it moved aside);
  // its first call sets optind to 1.
  optind = 0;
}

std::variant<OptionParser::Opt, OptionParser::End, OptionParser::Bad> OptionParser::next() {
  const int before = optind == 0 ? 1 : optind;
  int index = -1;
  const int c = getopt_long(argc_, argv_, shortopts_, longopts_, &index);
  if (c == -1) return End{};
  // A long option is always one word of argv.
  const std::string token = before < argc_ ? argv_[before] : "";
  const bool is_long = token.rfind("--", 0) == 0;
  const std::string name = is_long ? token.substr(2, token.find('=') - 2) : "";
  if (index >= 0 && is_long && name != longopts_[index].name)
    return Bad{"unknown option '--" + name + "' (did you mean '--" + longopts_[index].name + "'?)"};
  if (c == ':') {
    if (is_long) return Bad{"option '--" + name + "' needs a value"};
    return Bad{std::string("option '-") + static_cast<char>(optopt) + "' needs a value"};
  }
  if (c == '?') {
    if (!is_long) return Bad{std::string("unknown option '-") + static_cast<char>(optopt) + "'"};
    for (const option* o = longopts_; o->name; ++o)
      if (name == o->name && o->has_arg == no_argument) return Bad{"option '--" + name + "' takes no value"};
    return Bad{"unknown option '--" + name + "'"};
  }
  return Opt{c, optarg};
}

std::optional<uint32_t> parse_scan_count(std::string_view text) {
  unsigned n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < 1 || n > 100) return std::nullopt;
  return n;
}

}  // namespace tcpreap
