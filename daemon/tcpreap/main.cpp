// tcpreap: the operator's one-shot CLI. Commands live in their own files.

#include <cstdio>
#include <cstring>
#include <string>

#include "program/exit_codes.h"
#include "program/guarded_main.h"
#include "program/program_messages.h"
#include "tcpreap/check_command.h"
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
    "list and reap work in every network namespace with -A, in one with\n"
    "--netns NAME; kill with --netns NAME.\n"
    "\n"
    "Options:\n"
    "  -h, --help     this help; 'tcpreap COMMAND --help' for a command's\n"
    "  --version      print the version\n";

}  // namespace

static int run_main(int argc, char** argv) {
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
  struct Command {
    const char* name;
    int (*run)(int, char**);
  };
  // Each command gives up the capabilities it does not need once its
  // options are read (tcpreap/command_capabilities.h): before it reads a
  // file or the network.
  static const Command kCommands[] = {
      {"list", run_list_command},
      {"check", run_check_command},
      {"reap", run_reap_command},
      {"kill", run_kill_command},
  };
  for (const Command& c : kCommands)
    if (std::strcmp(command, c.name) == 0) return c.run(argc - 1, argv + 1);
  return ProgramMessages("tcpreap").usage_error(std::string("unknown command '") + command + "'");
}

int main(int argc, char** argv) { return tcpreap::guarded_main("tcpreap", run_main, argc, argv); }
