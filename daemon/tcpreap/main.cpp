// tcpreap: the operator's one-shot CLI. Commands live in their own files.

#include <cstdio>
#include <cstring>

#include "tcpreap/check_command.h"
#include "tcpreap/exit_codes.h"
#include "tcpreap/kill_command.h"
#include "tcpreap/list_command.h"
#include "tcpreap/reap_command.h"
#include "version.h"

namespace {

constexpr const char* kUsage =
    "Usage: tcpreap COMMAND [OPTIONS]\n"
    "\n"
    "Finds and reaps dead (half-open) TCP connections.\n"
    "\n"
    "Commands:\n"
    "  list       list TCP sockets with the figures tcpreap decides on,\n"
    "             and with --config what the policies say of each\n"
    "  check      validate the config and say what it will do\n"
    "  reap       scan once and reap what the policies call dead\n"
    "  kill       make one connection go away: tcpreap kill LOCAL REMOTE\n"
    "\n"
    "Options:\n"
    "  -h, --help     this help; 'tcpreap COMMAND --help' for a command's\n"
    "  --version      print the version\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace tcpreap;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return exit_code::kUsage;
  }
  const char* command = argv[1];
  if (!std::strcmp(command, "-h") || !std::strcmp(command, "--help") || !std::strcmp(command, "help")) {
    std::fputs(kUsage, stdout);
    return exit_code::kOk;
  }
  if (!std::strcmp(command, "--version")) {
    std::printf("tcpreap %s\n", TCPREAP_VERSION);
    return exit_code::kOk;
  }
  if (!std::strcmp(command, "list")) return run_list_command(argc - 1, argv + 1);
  if (!std::strcmp(command, "check")) return run_check_command(argc - 1, argv + 1);
  if (!std::strcmp(command, "reap")) return run_reap_command(argc - 1, argv + 1);
  if (!std::strcmp(command, "kill")) return run_kill_command(argc - 1, argv + 1);
  std::fprintf(stderr, "tcpreap: unknown command '%s'\nTry 'tcpreap --help'.\n", command);
  return exit_code::kUsage;
}
