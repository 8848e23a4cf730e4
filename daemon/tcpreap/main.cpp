// tcpreap: the operator's one-shot CLI. Commands live in their own files.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "privilege/capabilities.h"
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
    // What the command may need: list and check read sockets and files,
    // which takes no capability; reap and kill destroy sockets
    // (CAP_NET_ADMIN) and probe or inject RSTs (CAP_NET_RAW).
    uint64_t capabilities;
  };
  static const Command kCommands[] = {
      {"list", run_list_command, 0},
      {"check", run_check_command, 0},
      {"reap", run_reap_command, network_capabilities()},
      {"kill", run_kill_command, network_capabilities()},
  };
  for (const Command& c : kCommands) {
    if (std::strcmp(command, c.name) != 0) continue;
    // Every other capability goes before a file or the network is read.
    if (auto dropped = drop_capabilities(c.capabilities); !dropped)
      return ProgramMessages(std::string("tcpreap ") + c.name).failed(dropped.error().message());
    return c.run(argc - 1, argv + 1);
  }
  return ProgramMessages("tcpreap").usage_error(std::string("unknown command '") + command + "'");
}

int main(int argc, char** argv) { return tcpreap::guarded_main("tcpreap", run_main, argc, argv); }
