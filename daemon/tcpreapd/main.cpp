// tcpreapd: the service. Runs in the foreground, as systemd expects.

#include <malloc.h>

#include <cstdio>
#include <optional>

#include "config/config_loader.h"
#include "program/command_line.h"
#include "program/exit_codes.h"
#include "program/guarded_main.h"
#include "program/program_messages.h"
#include "tcpreapd/daemon.h"
#include "version.h"

namespace {

constexpr const char* kUsage =
    "Usage: tcpreapd [OPTIONS]\n"
    "\n"
    "Scans TCP sockets every scan.interval, decides by the config's policies,\n"
    "verifies silent peers with probes where a policy says so, and reaps the\n"
    "dead. Runs in the foreground; SIGHUP reloads the config, SIGTERM stops.\n"
    "\n"
    "  -c, --config FILE   the config (default /etc/tcpreap/tcpreap.yaml)\n"
    "      --check-config  validate the config and exit: 0 valid, 78 invalid\n"
    "  -n, --dry-run       decide, probe and count, reap nothing (overrides the config)\n"
    "  -u, --user NAME     started as root, run as this user (default nobody),\n"
    "                      keeping only CAP_NET_ADMIN and CAP_NET_RAW\n"
    "  -v, --verbose       also print debug lines on stderr\n"
    "      --version       print the version and exit\n"
    "  -h, --help          this help\n"
    "\n"
    "Exit status: 0 stopped by SIGTERM/SIGINT (or a valid --check-config),\n"
    "1 a failure to start, 2 bad arguments, 78 invalid config.\n";

}  // namespace

static int run_main(int argc, char** argv) {
  using namespace tcpreap;
  enum : int { kCheckConfig = 256, kVersion };
  static const option kLong[] = {
      {"config", required_argument, nullptr, 'c'},      {"check-config", no_argument, nullptr, kCheckConfig},
      {"dry-run", no_argument, nullptr, 'n'},           {"verbose", no_argument, nullptr, 'v'},
      {"user", required_argument, nullptr, 'u'},
      {"version", no_argument, nullptr, kVersion},      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  const ProgramMessages say("tcpreapd");
  DaemonOptions options;
  options.config_path = kDefaultConfigPath;
  bool check_only = false;
  CommandLine command_line(say, kUsage, argc, argv, ":c:nu:vh", kLong);
  auto on_option = [&](int code, const char* value) -> std::optional<int> {
    switch (code) {
      case 'c': options.config_path = value; break;
      case kCheckConfig: check_only = true; break;
      case 'n': options.dry_run = true; break;
      case 'u': options.user = value; break;
      case 'v': options.verbose = true; break;
      case kVersion: std::printf("tcpreapd %s (%s)\n", TCPREAP_VERSION, TCPREAP_REVISION); return exit_code::kOk;
    }
    return std::nullopt;
  };
  if (auto done = command_line.read_options(on_option)) return *done;

  if (check_only) {
    // For ExecStartPre= and ExecReload=: the same diagnostics as the daemon's.
    ConfigLoad load = load_config_file(options.config_path);
    for (const auto& e : load.errors) say.note(e.to_string());
    if (!load.config) return exit_code::kConfig;
    std::printf("%s: valid\n", options.config_path.c_str());
    return exit_code::kOk;
  }
  return run_daemon(options);
}

int main(int argc, char** argv) {
  // One malloc arena for all threads. The metrics endpoint's 65 threads
  // would each get one of their own (up to 8 per core), ~30 KiB resident
  // apiece: ~0.45 MiB of a 13.5 MiB daemon (daemon_bench.sh, smaps). They
  // allocate only while serving a scrape, so sharing one costs nothing.
  ::mallopt(M_ARENA_MAX, 1);
  return tcpreap::guarded_main("tcpreapd", run_main, argc, argv);
}
