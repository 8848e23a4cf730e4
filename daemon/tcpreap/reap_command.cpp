// `tcpreap reap`: one scan, the policies' verdicts, and action on what they
// call dead - or, in a dry run, what would be done. Prints a line per socket
// and a summary; never exits 0 having failed to act.

#include "tcpreap/reap_command.h"

#include <charconv>
#include <cstdio>
#include <string>
#include <thread>

#include "config/config_loader.h"
#include "decide/decided_scan.h"
#include "reap/reaper.h"
#include "report/reap_report.h"
#include "tcpreap/config_loading.h"
#include "tcpreap/exit_codes.h"
#include "tcpreap/option_parser.h"

namespace tcpreap {

namespace {

constexpr const char* kUsage =
    "Usage: tcpreap reap [OPTIONS]\n"
    "\n"
    "Scans once, decides by the policies, and reaps the connections they call\n"
    "dead. A single scan stands for a policy's confirm unless --confirm-scans.\n"
    "\n"
    "  -c, --config FILE       the config (default /etc/tcpreap/tcpreap.yaml)\n"
    "  -n, --dry-run           decide and report, touch nothing\n"
    "  -m, --method M          auto, destroy or rst (default: the config's)\n"
    "      --confirm-scans N   scan N times, scan.interval apart, before acting\n"
    "  -h, --help              this help\n"
    "\n"
    "Exit status: 0 done (or nothing to do), 1 an action or the scan failed,\n"
    "2 bad arguments, 78 invalid config.\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "tcpreap reap: %s\nTry 'tcpreap reap --help'.\n", message.c_str());
  return exit_code::kUsage;
}

int failed(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "tcpreap reap: %s\n", message.c_str());
  return exit_code::kFailure;
}

}  // namespace

int run_reap_command(int argc, char** argv) {
  enum : int { kConfirmScans = 256 };
  static const option kLong[] = {
      {"config", required_argument, nullptr, 'c'}, {"dry-run", no_argument, nullptr, 'n'},
      {"method", required_argument, nullptr, 'm'}, {"confirm-scans", required_argument, nullptr, kConfirmScans},
      {"help", no_argument, nullptr, 'h'},         {nullptr, 0, nullptr, 0},
  };
  std::string path = kDefaultConfigPath;
  bool dry_run = false;
  std::optional<ReapMethod> method;
  uint32_t confirm_scans = 1;
  OptionParser options(argc, argv, ":c:nm:h", kLong);
  while (true) {
    auto next = options.next();
    if (std::holds_alternative<OptionParser::End>(next)) break;
    if (auto* bad = std::get_if<OptionParser::Bad>(&next)) return usage_error(bad->message);
    const auto [code, value] = std::get<OptionParser::Opt>(next);
    switch (code) {
      case 'c': path = value; break;
      case 'n': dry_run = true; break;
      case 'm':
        method = parse_reap_method(value);
        if (!method) return usage_error(std::string("--method: '") + value + "' is not auto, destroy or rst");
        break;
      case kConfirmScans: {
        auto n = parse_scan_count(value);
        if (!n) return usage_error(std::string("--confirm-scans: '") + value + "' is not a number of scans (1-100)");
        confirm_scans = *n;
        break;
      }
      case 'h': std::fputs(kUsage, stdout); return exit_code::kOk;
    }
  }
  if (options.operand_index() < argc)
    return usage_error(std::string("unexpected argument '") + argv[options.operand_index()] + "'");

  auto config = load_config_or_report(path, "reap");
  if (!config) return exit_code::kConfig;
  dry_run = dry_run || config->dry_run;
  const ReapMethod how = method.value_or(config->method);

  auto query = ScanQuery::compile(config->scan_filter());
  if (!query) return failed(query.error().message());
  auto scanner = SocketScanner::open();
  if (!scanner) return failed(scanner.error().message());
  // Opened before scanning: a missing capability is said before anything
  // is decided, and not once per socket.
  std::optional<Reaper> reaper;
  if (!dry_run) {
    auto r = Reaper::open(how);
    if (!r) return failed(r.error().message());
    reaper.emplace(std::move(*r));
    if (how == ReapMethod::kRst && !reaper->rst_unavailable().empty())
      return failed("RST injection unavailable: " + reaper->rst_unavailable());
  }

  DecisionEngine engine(*config);
  engine.override_confirm(confirm_scans == 1 ? std::optional<uint32_t>(1) : std::nullopt);
  for (uint32_t i = 1; i < confirm_scans; ++i) {
    if (auto r = decided_scan(*scanner, *query, engine); !r) return failed(r.error().message());
    std::this_thread::sleep_for(config->scan_interval);
  }
  auto entries = decided_scan(*scanner, *query, engine);
  if (!entries) return failed(entries.error().message());

  std::vector<const DecisionEngine::Entry*> due, held;
  for (const auto& e : **entries) {
    if (e.decision.verdict != Verdict::kDead) continue;
    (e.decision.held_back ? held : due).push_back(&e);
  }
  std::vector<TcpSocket> targets;
  for (const auto* e : due) targets.push_back(e->socket);
  std::vector<ReapOutcome> outcomes;
  if (reaper) outcomes = reaper->reap(targets);

  std::string out;
  size_t reaped = 0, gone = 0, failures = 0, by_destroy = 0, by_rst = 0;
  for (size_t i = 0; i < due.size(); ++i) {
    const ReapOutcome* o = reaper ? &outcomes[i] : nullptr;
    append_reap_line({&due[i]->socket, &due[i]->decision, &engine.config(), o}, out);
    if (!o) continue;
    if (o->result == ReapResult::kDone) {
      ++reaped;
      (o->via == ReapVia::kDestroy ? by_destroy : by_rst)++;
    } else if (o->result == ReapResult::kAlreadyGone) {
      ++gone;
    } else {
      ++failures;
    }
  }
  for (const auto* e : held) append_reap_line({&e->socket, &e->decision, &engine.config(), nullptr}, out);
  std::fputs(out.c_str(), stdout);
  if (reaper)
    if (auto notice = reaper->take_notice()) std::fprintf(stderr, "tcpreap reap: %s\n", notice->c_str());

  if (dry_run) {
    std::printf("dry run: %zu dead, would reap %zu, %zu held back by max_per_scan; nothing was touched\n",
                due.size() + held.size(), due.size(), held.size());
    return exit_code::kOk;
  }
  std::printf("%zu dead: %zu reaped (destroy %zu, rst %zu), %zu already gone, %zu failed, %zu held back by max_per_scan\n",
              due.size() + held.size(), reaped, by_destroy, by_rst, gone, failures, held.size());
  if (std::fflush(stdout) != 0) return failed("writing the output failed");
  return failures > 0 ? exit_code::kFailure : exit_code::kOk;
}

}  // namespace tcpreap
