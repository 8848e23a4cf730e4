#include "cycle/reap_cycle.h"

#include <algorithm>

namespace tcpreap {

namespace {

// Which policies apply in `info` (match.namespaces).
std::vector<uint8_t> policy_flags(const Config& config, const NamespaceInfo& info) {
  std::vector<uint8_t> flags;
  flags.reserve(config.policies.size());
  for (const Policy& p : config.policies) flags.push_back(p.applies_in(info.name, info.id) ? 1 : 0);
  return flags;
}

// The kernel filter of the policies flagged in `flags`.
Result<ScanQuery> compile_query(const Config& config, const std::vector<uint8_t>& flags) {
  if (std::all_of(flags.begin(), flags.end(), [](uint8_t f) { return f != 0; })) {
    auto q = ScanQuery::compile(config.scan_filter());
    if (!q) return q.error().wrap("compiling the policies' scan filter");
    return q;
  }
  Config narrowed;
  for (size_t i = 0; i < config.policies.size(); ++i)
    if (flags[i]) narrowed.policies.push_back(config.policies[i]);
  auto q = ScanQuery::compile(narrowed.scan_filter());
  if (!q) return q.error().wrap("compiling the scan filter of the policies matching this namespace");
  return q;
}

}  // namespace

Result<ReapCycle::Filter> ReapCycle::filter_for(const NamespaceInfo& info, const Config& config,
                                                 std::vector<Filter>& known) {
  Filter f;
  f.policies = policy_flags(config, info);
  if (std::none_of(f.policies.begin(), f.policies.end(), [](uint8_t x) { return x != 0; })) return f;
  for (const Filter& k : known) {
    if (k.policies == f.policies) {
      f.query = k.query;
      return f;
    }
  }
  auto q = compile_query(config, f.policies);
  if (!q) return q.error();
  f.query = std::make_shared<const ScanQuery>(std::move(*q));
  known.push_back(f);
  return f;
}

std::vector<ReapCycle::Filter> ReapCycle::filters() const {
  std::vector<Filter> known;
  for (const auto& s : slots_)
    if (s->filter.query) known.push_back(s->filter);
  return known;
}

Result<ReapCycle> ReapCycle::open(Config config, CycleOptions options) {
  auto own = open_own_netns();
  if (!own) return own.error().wrap("finding this process's network namespace");
  ReapCycle cycle = open_empty(std::move(config), std::move(options));
  NamespaceInfo info{own->id, "host", {}, true};
  if (auto s = cycle.add_namespace(std::move(info), SocketMaker::here()); !s) return s.error();
  return cycle;
}

ReapCycle ReapCycle::open_empty(Config config, CycleOptions options) {
  DecisionEngine engine(std::move(config));
  engine.set_retain(options.retain);
  return ReapCycle(std::move(options), std::move(engine));
}

std::optional<uint32_t> ReapCycle::find_namespace(const NetnsId& id) const {
  for (size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i]->info.id == id) return static_cast<uint32_t>(i);
  return std::nullopt;
}

Status ReapCycle::add_namespace(NamespaceInfo info, SocketMaker maker) {
  if (find_namespace(info.id)) return Error(EEXIST, "namespace " + info.label() + " is scanned already");
  auto tools = NamespaceTools::open(config(), options_, std::move(maker));
  if (!tools) return tools.error();
  std::vector<Filter> known = filters();
  auto filter = filter_for(info, config(), known);
  if (!filter) return filter.error();
  slots_.push_back(std::make_unique<Slot>(Slot{std::move(info), std::move(*tools), std::move(*filter)}));
  return Ok{};
}

bool ReapCycle::remove_namespace(const NetnsId& id) {
  auto slot = find_namespace(id);
  if (!slot) return false;
  slots_.erase(slots_.begin() + *slot);  // the tools close here
  return true;
}

const std::string& ReapCycle::prober_unavailable() const {
  static const std::string none;
  for (const auto& s : slots_)
    if (!s->tools.prober_unavailable().empty()) return s->tools.prober_unavailable();
  return none;
}

bool ReapCycle::rst_available() const { return !slots_.empty() && slots_.front()->tools.rst_available(); }

std::optional<std::string> ReapCycle::take_notice() {
  std::optional<std::string> all;
  for (auto& s : slots_) {
    auto n = s->tools.take_notice();
    if (!n) continue;
    std::string said = s->info.own ? *n : "in namespace " + s->info.label() + ": " + *n;
    all = all ? *all + "; " + said : said;
  }
  return all;
}

Status ReapCycle::reload(Config config) {
  // Everything that can fail first, for every namespace; then commit.
  std::vector<NamespaceTools::Reload> pending;
  pending.reserve(slots_.size());
  for (const auto& s : slots_) {
    auto r = s->tools.prepare_reload(config);
    if (!r) return s->info.own ? r.error() : r.error().wrap("in namespace " + s->info.label());
    pending.push_back(std::move(*r));
  }
  std::vector<Filter> known, next;
  next.reserve(slots_.size());
  for (const auto& s : slots_) {
    auto f = filter_for(s->info, config, known);
    if (!f) return f.error();
    next.push_back(std::move(*f));
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i]->tools.commit_reload(std::move(pending[i]));
    slots_[i]->filter = std::move(next[i]);
  }
  engine_.reload(std::move(config));
  return Ok{};
}

Result<CycleResult> ReapCycle::run(const DecidedScanHooks& hooks) {
  CycleResult result;
  engine_.begin_scan(DecisionEngine::Clock::now());
  size_t failed = 0;
  std::optional<Error> first_error;
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = *slots_[i];
    NamespaceTurn turn;
    turn.slot = static_cast<uint32_t>(i);
    turn.info = slot.info;
    if (!slot.filter.query) {
      turn.state = NamespaceTurn::State::kNoPolicy;
      result.namespaces.push_back(std::move(turn));
      continue;
    }
    const ScanQuery& query = *slot.filter.query;
    // A dump walks the whole hash the namespaces share (~15 ms with
    // 20 000 sockets on the host), one walk per family; the counters cost
    // ~3 us.
    const DumpFamilies families = slot.tools.families_to_dump(query.filter().states);
    if (!query.dumps().empty() && !(query.families() & families).any()) {
      turn.state = NamespaceTurn::State::kEmpty;
      turn.stats.skipped = query.families();
    } else {
      engine_.begin_namespace(turn.slot, slot.filter.policies);
      auto stats = observe_dump(slot.tools.scanner(), query, engine_, hooks, families);
      if (stats) {
        turn.stats = *stats;
      } else {
        turn.state = NamespaceTurn::State::kFailed;
        turn.error = slot.info.own ? stats.error() : stats.error().wrap("namespace " + slot.info.label());
        if (!first_error) first_error = *turn.error;
        ++failed;
      }
    }
    result.namespaces.push_back(std::move(turn));
  }
  if (!slots_.empty() && failed == slots_.size()) return *first_error;
  const auto& entries = engine_.finish_scan();
  result.entries = &entries;

  // One pass over the entries sorts what is due by namespace: probes (which
  // take a moment: first, the dead do not move meanwhile) and reaps, each
  // made with the tools of the namespace its dump came from.
  std::vector<std::vector<size_t>> probe_due(slots_.size()), reap_due(slots_.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const Decision& d = entries[i].decision;
    if (d.verdict == Verdict::kVerifying && d.probe.due) {
      probe_due[entries[i].netns].push_back(i);
    } else if (d.verdict == Verdict::kDead) {
      if (d.held_back)
        result.held_back.push_back(i);
      else if (dry_run() || !slots_[entries[i].netns]->tools.reaper())
        result.would_reap.push_back(i);
      else
        reap_due[entries[i].netns].push_back(i);
    }
  }

  std::vector<TcpSocket> targets;
  auto targets_of = [&](const std::vector<size_t>& which) {
    targets.clear();
    for (size_t i : which) targets.push_back(entries[i].socket);
  };
  for (size_t n = 0; n < slots_.size(); ++n) {
    if (probe_due[n].empty()) continue;
    targets_of(probe_due[n]);
    std::vector<ProbeOutcome> outcomes;
    if (LivenessProber* prober = slots_[n]->tools.prober()) {
      outcomes = prober->probe(targets, options_.probe);
    } else {
      outcomes.assign(targets.size(), ProbeOutcome{ProbeResult::kFailed, 0, "no prober is open"});
    }
    const auto now = DecisionEngine::Clock::now();
    for (size_t k = 0; k < outcomes.size(); ++k) {
      const auto& o = outcomes[k];
      engine_.record_probe(targets[k].cookie, o, probe_was_sent(o.result) ? o.sent_at : now);
      result.probes.push_back({probe_due[n][k], std::move(outcomes[k])});
    }
  }
  for (size_t n = 0; n < slots_.size(); ++n) {
    if (reap_due[n].empty()) continue;
    targets_of(reap_due[n]);
    auto outcomes = slots_[n]->tools.reaper()->reap(targets);
    for (size_t k = 0; k < outcomes.size(); ++k) result.reaps.push_back({reap_due[n][k], std::move(outcomes[k])});
  }
  return result;
}

}  // namespace tcpreap
