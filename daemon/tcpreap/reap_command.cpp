// `tcpreap reap`: one scan, the policies' verdicts, and action on what they
// call dead - or, in a dry run, what would be done. Prints a line per socket
// and a summary; never exits 0 having failed to act.

#include "tcpreap/reap_command.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_set>

#include "config/config_loader.h"
#include "cycle/namespace_roster.h"
#include "cycle/reap_cycle.h"
#include "cycle/turn_schedule.h"
#include "program/command_config.h"
#include "program/command_line.h"
#include "program/exit_codes.h"
#include "program/program_messages.h"
#include "report/probe_report.h"
#include "report/reap_report.h"
#include "privilege/capabilities.h"
#include "tcpreap/command_capabilities.h"
#include "tcpreap/namespace_options.h"

namespace tcpreap {

namespace {

constexpr const char* kUsage =
    "Usage: tcpreap reap [OPTIONS]\n"
    "\n"
    "Scans once, decides by the policies, and reaps the connections they call\n"
    "dead. A single scan stands for a policy's confirm unless --confirm-scans.\n"
    "Under a policy with `verify`, a silent connection's peer is probed first\n"
    "(up to verify.probes times, verify.interval apart, also in a dry run):\n"
    "the run lasts until every such peer answered or ran out of probes, and\n"
    "only the ones that never answered are reaped.\n"
    "\n"
    "  -c, --config FILE       the config (default /etc/tcpreap/tcpreap.yaml)\n"
    "  -A, --all-namespaces    in every network namespace on the host, but those\n"
    "                          the config's namespaces.exclude names\n"
    "      --netns NAME        in that network namespace only (see tcpreap list\n"
    "                          --help for the forms of NAME)\n"
    "  -n, --dry-run           decide and report, touch nothing\n"
    "  -m, --method M          auto, destroy or rst (default: the config's)\n"
    "      --confirm-scans N   scan N times, scan.interval apart, before acting\n"
    "  -h, --help              this help\n"
    "\n"
    "Exit status: 0 done (or nothing to do), 1 an action or the scan failed,\n"
    "2 bad arguments, 3 done, but some namespaces of -A could not be entered\n"
    "or scanned (said on stderr), 78 invalid config.\n";

// The cycle over the namespaces `choice` names: the own (ReapCycle::open),
// the one of --netns, or every one -A finds but those the config excludes.
// Under -A a namespace whose tools cannot be opened (setns refused, no
// CAP_NET_RAW for its probes) is said on stderr and skipped, `partial` set;
// an error when none could be.
Result<ReapCycle> open_cycle(Config config, CycleOptions options, const NamespaceChoice& choice,
                             const ProgramMessages& say, bool& partial) {
  switch (choice.mode) {
    case NamespaceChoice::Mode::kOwn:
      return ReapCycle::open(std::move(config), std::move(options));
    case NamespaceChoice::Mode::kOne: {
      auto one = named_namespace(choice.name);
      if (!one) return one.error();
      ReapCycle cycle = ReapCycle::open_empty(std::move(config), std::move(options));
      if (auto added = cycle.add_namespace(one->info, std::move(one->maker)); !added) return added.error();
      return cycle;
    }
    case NamespaceChoice::Mode::kAll:
      break;
  }
  auto found = discover_all(say);
  if (!found) return found.error();
  NamespaceScope scope;  // every one, but what the config excludes
  scope.scan = NamespaceScope::Mode::kAll;
  scope.exclude = config.namespaces.exclude;
  ReapCycle cycle = ReapCycle::open_empty(std::move(config), std::move(options));
  NamespaceRoster roster;
  RosterChange change = roster.sync(cycle, std::move(*found), scope);
  for (const RosterFailure& f : change.failed) say_skipped(f.info, f.error, say);
  if (cycle.namespace_count() == 0 && !change.failed.empty())
    return Error(0, "no network namespace could be entered (" + std::to_string(change.failed.size()) + " tried)");
  partial = !change.failed.empty();
  return cycle;
}

}  // namespace

int run_reap_command(int argc, char** argv) {
  enum : int { kConfirmScans = 256, kNetns };
  static const option kLong[] = {
      {"config", required_argument, nullptr, 'c'},
      {"dry-run", no_argument, nullptr, 'n'},
      {"method", required_argument, nullptr, 'm'},
      {"confirm-scans", required_argument, nullptr, kConfirmScans},
      {"all-namespaces", no_argument, nullptr, 'A'},
      {"netns", required_argument, nullptr, kNetns},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  const ProgramMessages say("tcpreap reap");
  std::string path = kDefaultConfigPath;
  bool dry_run = false;
  std::optional<ReapMethod> method;
  uint32_t confirm_scans = 1;
  NamespaceChoice namespaces;
  CommandLine command_line(say, kUsage, argc, argv, ":c:nm:Ah", kLong);
  auto on_option = [&](int code, const char* value) -> std::optional<int> {
    switch (code) {
      case 'c': path = value; break;
      case 'n': dry_run = true; break;
      case 'm':
        method = parse_reap_method(value);
        if (!method) return say.usage_error(std::string("--method: '") + value + "' is not auto, destroy or rst");
        break;
      case kConfirmScans: {
        auto n = parse_scan_count(value);
        if (!n) return say.usage_error(std::string("--confirm-scans: '") + value + "' is not a number of scans (1-100)");
        confirm_scans = *n;
        break;
      }
      case 'A': return choose_all_namespaces(namespaces, say);
      case kNetns: return choose_namespace(namespaces, value, say);
    }
    return std::nullopt;
  };
  if (auto done = command_line.read_options(on_option)) return *done;
  if (auto failed = keep_only_capabilities(network_capabilities() | namespaces.capabilities(), say)) return *failed;

  auto config = command_config(path, say);
  if (!config) return exit_code::kConfig;
  const Duration scan_interval = config->scan_interval;
  bool partial = false;  // -A: a namespace was skipped
  auto opened = open_cycle(std::move(*config), CycleOptions{dry_run, method, {}}, namespaces, say, partial);
  if (!opened) return say.failed(opened.error().message());
  ReapCycle& cycle = *opened;
  dry_run = cycle.dry_run();
  DecisionEngine& engine = cycle.engine();
  engine.override_confirm(confirm_scans == 1 ? std::optional<uint32_t>(1) : std::nullopt);

  // Scan until confirm is reached, then for as long as some silent peer is
  // being verified: each probe is due `verify.interval` after the last, and
  // the verdict one interval after the last probe. Every turn acts on what
  // it finds dead.
  size_t dead = 0, reaped = 0, gone = 0, failures = 0, by_destroy = 0, by_rst = 0, held = 0, would = 0;
  size_t alive_after_probe = 0, probe_failures = 0;
  // A peer that answered is alive for this run, even if a short silent_for
  // finds it silent again before the others are settled; and the run ends
  // when the slowest verification that was due could have ended.
  std::unordered_set<uint64_t> answered;
  Duration longest = Duration(0);
  for (const Policy& p : engine.config().policies)
    if (p.verify) longest = std::max(longest, p.verify->interval * (p.verify->probes + 1));
  std::optional<DecisionEngine::Clock::time_point> verify_until;
  std::unordered_set<std::string> failed_turns;  // the identities of namespaces said to have failed
  for (uint32_t scan = 1;; ++scan) {
    const auto started = DecisionEngine::Clock::now();
    auto result = cycle.run();
    if (!result) return say.failed(result.error().message());
    for (const NamespaceTurn& turn : result->namespaces) {
      if (turn.state != NamespaceTurn::State::kFailed) continue;
      // Only under -A: when the one namespace fails, that is run()'s error.
      if (failed_turns.insert(turn.info.id.to_string()).second) say_skipped(turn.info, *turn.error, say);
      partial = true;
    }
    const auto& entries = *result->entries;
    const auto netns = [&](const DecisionEngine::Entry& e) { return &result->namespaces.at(e.netns).info; };
    std::string out;
    for (const auto& p : result->probes) {
      const auto& e = entries[p.entry];
      append_probe_line({&e.socket, &e.decision, &engine.config(), &p.outcome, netns(e)}, out);
      if (p.outcome.result == ProbeResult::kAnswered && answered.insert(e.socket.cookie).second) ++alive_after_probe;
      if (!probe_was_sent(p.outcome.result) && p.outcome.result != ProbeResult::kGone) ++probe_failures;
    }
    for (const auto& r : result->reaps) {
      const auto& e = entries[r.entry];
      append_reap_line({&e.socket, &e.decision, &engine.config(), &r.outcome, netns(e)}, out);
      ++dead;
      if (r.outcome.result == ReapResult::kDone) {
        ++reaped;
        (r.outcome.via == ReapVia::kDestroy ? by_destroy : by_rst)++;
      } else if (r.outcome.result == ReapResult::kAlreadyGone) {
        ++gone;
      } else {
        ++failures;
      }
    }
    for (size_t i : result->would_reap) {
      append_reap_line({&entries[i].socket, &entries[i].decision, &engine.config(), nullptr, netns(entries[i])}, out);
      ++dead;
      ++would;
    }
    std::fputs(out.c_str(), stdout);
    if (auto notice = cycle.take_notice()) say.note(*notice);

    const bool last_confirm_scan = scan >= confirm_scans;
    auto next_verify = engine.next_verify_due();
    if (last_confirm_scan) {
      if (!verify_until) verify_until = engine.scan_time() + longest + std::chrono::seconds(2);
      const bool unsettled = std::any_of(entries.begin(), entries.end(), [&](const DecisionEngine::Entry& e) {
        return e.decision.verdict == Verdict::kVerifying && !answered.contains(e.socket.cookie);
      });
      if (!unsettled || engine.scan_time() >= *verify_until) next_verify.reset();
    }
    if (last_confirm_scan && !next_verify) {
      // The caps held these back for a later scan; a one-shot run reports them.
      out.clear();
      for (size_t i : result->held_back) {
        append_reap_line({&entries[i].socket, &entries[i].decision, &engine.config(), nullptr, netns(entries[i])},
                         out);
        ++dead;
        ++held;
      }
      std::fputs(out.c_str(), stdout);
      break;
    }
    std::fflush(stdout);
    auto wake = DecisionEngine::Clock::now() + scan_interval;
    if (last_confirm_scan || (next_verify && *next_verify < wake)) wake = next_verify.value_or(wake);
    // A probe can be due again at once (deferred by verify.max_per_scan):
    // the daemon's floor between turns holds here too.
    wake = std::max(wake, started + min_turn_gap(engine.config()));
    std::this_thread::sleep_until(wake);
  }

  const std::string verified =
      alive_after_probe == 0 && probe_failures == 0
          ? ""
          : "; " + std::to_string(alive_after_probe) + " answered a probe (alive)" +
                (probe_failures ? ", " + std::to_string(probe_failures) + " probe attempt(s) failed" : "");
  if (dry_run) {
    std::printf("dry run: %zu dead, would reap %zu, %zu held back by max_per_scan%s; nothing was reaped\n", dead,
                would, held, verified.c_str());
    return partial ? exit_code::kPartial : exit_code::kOk;
  }
  std::printf("%zu dead: %zu reaped (destroy %zu, rst %zu), %zu already gone, %zu failed, %zu held back by max_per_scan%s\n",
              dead, reaped, by_destroy, by_rst, gone, failures, held, verified.c_str());
  if (std::fflush(stdout) != 0) return say.failed("writing the output failed");
  return failures > 0 ? exit_code::kFailure : partial ? exit_code::kPartial : exit_code::kOk;
}

}  // namespace tcpreap
