// tcpreapd: the service. Runs in the foreground, as systemd expects.

#include <cstdio>
#include <exception>
#include <string>

#include "config/config_loader.h"
#include "tcpreap/exit_codes.h"
#include "tcpreap/option_parser.h"
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

int usage_error(const std::string& message) {
  std::fprintf(stderr, "tcpreapd: %s\nTry 'tcpreapd --help'.\n", message.c_str());
  return tcpreap::exit_code::kUsage;
}

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
  DaemonOptions options;
  options.config_path = kDefaultConfigPath;
  bool check_only = false;
  OptionParser parser(argc, argv, ":c:nu:vh", kLong);
  while (true) {
    auto next = parser.next();
    if (std::holds_alternative<OptionParser::End>(next)) break;
    if (auto* bad = std::get_if<OptionParser::Bad>(&next)) return usage_error(bad->message);
    const auto [code, value] = std::get<OptionParser::Opt>(next);
    switch (code) {
      case 'c': options.config_path = value; break;
      case kCheckConfig: check_only = true; break;
      case 'n': options.dry_run = true; break;
      case 'u': options.user = value; break;
      case 'v': options.verbose = true; break;
      case kVersion: std::printf("tcpreapd %s (%s)\n", TCPREAP_VERSION, TCPREAP_REVISION); return exit_code::kOk;
      case 'h': std::fputs(kUsage, stdout); return exit_code::kOk;
    }
  }
  if (parser.operand_index() < argc)
    return usage_error(std::string("unexpected argument '") + argv[parser.operand_index()] + "'");

  if (check_only) {
    // For ExecStartPre= and ExecReload=: the same diagnostics as the daemon's.
    ConfigLoad load = load_config_file(options.config_path);
    for (const auto& e : load.errors) std::fprintf(stderr, "tcpreapd: %s\n", e.to_string().c_str());
    if (!load.config) return exit_code::kConfig;
    std::printf("%s: valid\n", options.config_path.c_str());
    return exit_code::kOk;
  }
  return run_daemon(options);
}

// Nothing escapes main: an exception (std::bad_alloc, most likely) is said,
// and the exit status is 1 - for a service, systemd then restarts it.
int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tcpreapd: internal error: %s; exiting with status %d\n", e.what(), tcpreap::exit_code::kFailure);
  } catch (...) {
    std::fprintf(stderr, "tcpreapd: internal error: an exception that is not a std::exception; exiting with status %d\n",
                 tcpreap::exit_code::kFailure);
  }
  return tcpreap::exit_code::kFailure;
}
