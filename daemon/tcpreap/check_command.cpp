// `tcpreap check`: validate the config and say in one paragraph what it will
// do. For ExecStartPre= and operators' hands alike.

#include "tcpreap/check_command.h"

#include <cstdio>
#include <string>

#include "config/config_loader.h"
#include "config/config_summary.h"
#include "program/command_config.h"
#include "program/command_line.h"
#include "program/exit_codes.h"
#include "tcpreap/command_capabilities.h"

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
  const ProgramMessages say("tcpreap check");
  std::string path = kDefaultConfigPath;
  CommandLine command_line(say, kUsage, argc, argv, ":c:h", kLong);
  if (auto done = command_line.read_options([&](int, const char* value) -> std::optional<int> {
        path = value;  // 'c'
        return std::nullopt;
      }))
    return *done;
  if (auto failed = keep_only_capabilities(0, say)) return *failed;
  auto config = command_config(path, say);
  if (!config) return exit_code::kConfig;
  std::printf("%s is valid.\n%s\n", path.c_str(), describe(*config).c_str());
  return exit_code::kOk;
}

}  // namespace tcpreap
