// `tcpreap check`: validate the config and say in one paragraph what it will
// do. For ExecStartPre= and operators' hands alike.

#include "tcpreap/check_command.h"

#include <cstdio>
#include <string>

#include "config/config_loader.h"
#include "config/config_summary.h"
#include "tcpreap/config_loading.h"
#include "tcpreap/exit_codes.h"
#include "tcpreap/option_parser.h"

namespace tcpreap {

namespace {

constexpr const char* kUsage =
    "Usage: tcpreap check [--config FILE]\n"
    "\n"
    "Validates the config (default /etc/tcpreap/tcpreap.yaml) and prints what it\n"
    "will do. Errors name file:line:column. Exit status: 0 valid, 78 invalid,\n"
    "2 bad arguments.\n";

}  // namespace

int run_check_command(int argc, char** argv) {
  static const option kLong[] = {
      {"config", required_argument, nullptr, 'c'}, {"help", no_argument, nullptr, 'h'}, {nullptr, 0, nullptr, 0}};
  std::string path = kDefaultConfigPath;
  auto usage_error = [](const std::string& message) {
    std::fprintf(stderr, "tcpreap check: %s\nTry 'tcpreap check --help'.\n", message.c_str());
    return exit_code::kUsage;
  };
  OptionParser options(argc, argv, ":c:h", kLong);
  while (true) {
    auto next = options.next();
    if (std::holds_alternative<OptionParser::End>(next)) break;
    if (auto* bad = std::get_if<OptionParser::Bad>(&next)) return usage_error(bad->message);
    const auto opt = std::get<OptionParser::Opt>(next);
    if (opt.code == 'h') {
      std::fputs(kUsage, stdout);
      return exit_code::kOk;
    }
    path = opt.value;  // 'c'
  }
  if (options.operand_index() < argc)
    return usage_error(std::string("unexpected argument '") + argv[options.operand_index()] + "'");
  auto config = load_config_or_report(path, "check");
  if (!config) return exit_code::kConfig;
  std::printf("%s is valid.\n%s\n", path.c_str(), describe(*config).c_str());
  return exit_code::kOk;
}

}  // namespace tcpreap
