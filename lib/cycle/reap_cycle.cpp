#include "cycle/reap_cycle.h"

#include <algorithm>

#include "wire/raw_sender.h"

namespace tcpreap {

bool any_policy_verifies(const Config& config) {
  return std::any_of(config.policies.begin(), config.policies.end(), [](const Policy& p) { return p.verify.has_value(); });
}

namespace {

Result<LivenessProber> open_prober(const Config& config) {
  auto p = LivenessProber::open();
  if (!p) {
    std::string who;
    for (const Policy& policy : config.policies)
      if (policy.verify) who += (who.empty() ? "" : ", ") + policy.name;
    return p.error().wrap("policy " + who + " verifies peers before reaping, and probing them failed to start");
  }
  return p;
}

// Opens the prober into `prober`. When it cannot open: an Error, or with
// `optional` the reason in `unavailable` and success.
Status open_prober_into(const Config& config, bool optional, std::optional<LivenessProber>& prober,
                        std::string& unavailable) {
  auto p = open_prober(config);
  if (p) {
    prober.emplace(std::move(*p));
  } else if (optional) {
    unavailable = p.error().message();
  } else {
    return p.error();
  }
  return Ok{};
}

}  // namespace

ReapCycle::ReapCycle(CycleOptions options, ScanQuery query, SocketScanner scanner, DecisionEngine engine,
                     std::optional<Reaper> reaper, std::optional<LivenessProber> prober)
    : options_(std::move(options)),
      query_(std::move(query)),
      scanner_(std::move(scanner)),
      engine_(std::move(engine)),
      reaper_(std::move(reaper)),
      prober_(std::move(prober)) {
  reaper_method_ = options_.method.value_or(engine_.config().method);
}

namespace {

Result<Reaper> open_reaper(ReapMethod how) {
  auto r = Reaper::open(how);
  if (!r) return r.error();
  if (how == ReapMethod::kRst && !r->rst_unavailable().empty())
    return Error(0, "RST injection unavailable: " + r->rst_unavailable());
  return r;
}

}  // namespace

Result<ReapCycle> ReapCycle::open(Config config, CycleOptions options) {
  auto query = ScanQuery::compile(config.scan_filter());
  if (!query) return query.error().wrap("compiling the policies' scan filter");
  auto scanner = SocketScanner::open();
  if (!scanner) return scanner.error();
  // Opened before anything is scanned: a missing capability is said once,
  // up front, not once per socket.
  std::optional<Reaper> reaper;
  if (!options.dry_run && !config.dry_run) {
    auto r = open_reaper(options.method.value_or(config.method));
    if (!r) return r.error();
    reaper.emplace(std::move(*r));
  }
  std::optional<LivenessProber> prober;
  std::string prober_unavailable;
  if (any_policy_verifies(config)) {
    if (auto s = open_prober_into(config, options.probes_optional, prober, prober_unavailable); !s) return s.error();
  }
  ReapCycle cycle(std::move(options), std::move(*query), std::move(*scanner), DecisionEngine(std::move(config)),
                  std::move(reaper), std::move(prober));
  cycle.prober_unavailable_ = std::move(prober_unavailable);
  if (cycle.prober_) cycle.prober_note_ = cycle.prober_->open_note();
  return cycle;
}

std::optional<std::string> ReapCycle::take_notice() {
  std::optional<std::string> n = reaper_ ? reaper_->take_notice() : std::nullopt;
  if (!prober_note_.empty()) n = n ? *n + "; " + prober_note_ : prober_note_;
  prober_note_.clear();
  return n;
}

bool ReapCycle::rst_available() const {
  if (reaper_ && reaper_->rst_unavailable().empty()) return true;
  return RawSender::open().ok();
}

Status ReapCycle::reload(Config config) {
  auto query = ScanQuery::compile(config.scan_filter());
  if (!query) return query.error().wrap("compiling the policies' scan filter");
  std::optional<LivenessProber> prober;
  std::string prober_unavailable;
  if (!prober_ && any_policy_verifies(config)) {
    if (auto s = open_prober_into(config, options_.probes_optional, prober, prober_unavailable); !s) return s.error();
  }
  // A new method (or the first real run) needs its reaper; the old one
  // stays when the method is the same, keeping its switch to RST.
  std::optional<Reaper> reaper;
  const ReapMethod how = options_.method.value_or(config.method);
  if (!options_.dry_run && !config.dry_run && (!reaper_ || how != reaper_method_)) {
    auto r = open_reaper(how);
    if (!r) return r.error();
    reaper.emplace(std::move(*r));
  }
  if (prober) {
    prober_ = std::move(prober);
    prober_note_ = prober_->open_note();
  }
  if (!prober_) prober_unavailable_ = std::move(prober_unavailable);
  if (reaper) {
    reaper_ = std::move(reaper);
    reaper_method_ = how;
  }
  query_ = std::move(*query);
  engine_.reload(std::move(config));
  return Ok{};
}

Result<CycleResult> ReapCycle::run(const DecidedScanHooks& hooks) {
  auto scanned = decided_scan(scanner_, query_, engine_, hooks);
  if (!scanned) return scanned.error();
  CycleResult result;
  result.entries = *scanned;
  const auto& entries = **scanned;

  // Probes first: they take a moment, and the dead do not move meanwhile.
  std::vector<TcpSocket> targets;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Decision& d = entries[i].decision;
    if (d.verdict == Verdict::kVerifying && d.probe.due) {
      result.probes.push_back({i, {}});
      targets.push_back(entries[i].socket);
    }
  }
  if (!targets.empty()) {
    std::vector<ProbeOutcome> outcomes;
    if (prober_) {
      outcomes = prober_->probe(targets, options_.probe);
    } else {
      outcomes.assign(targets.size(), ProbeOutcome{ProbeResult::kFailed, 0, "no prober is open"});
    }
    const auto now = DecisionEngine::Clock::now();
    for (size_t k = 0; k < outcomes.size(); ++k) {
      const auto& o = outcomes[k];
      engine_.record_probe(targets[k].cookie, o, probe_was_sent(o.result) ? o.sent_at : now);
      result.probes[k].outcome = std::move(outcomes[k]);
    }
  }

  targets.clear();
  std::vector<size_t> due;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Decision& d = entries[i].decision;
    if (d.verdict != Verdict::kDead) continue;
    if (d.held_back) {
      result.held_back.push_back(i);
    } else if (dry_run() || !reaper_) {
      result.would_reap.push_back(i);
    } else {
      due.push_back(i);
      targets.push_back(entries[i].socket);
    }
  }
  if (!targets.empty()) {
    auto outcomes = reaper_->reap(targets);
    for (size_t k = 0; k < outcomes.size(); ++k) result.reaps.push_back({due[k], std::move(outcomes[k])});
  }
  return result;
}

}  // namespace tcpreap
