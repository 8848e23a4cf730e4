#include "cycle/namespace_tools.h"

#include <algorithm>

#include "wire/raw_sender.h"

namespace tcpreap {

bool any_policy_verifies(const Config& config) {
  return std::any_of(config.policies.begin(), config.policies.end(), [](const Policy& p) { return p.verify.has_value(); });
}

namespace {

// The prober, or with `optional` the reason it cannot open.
Status open_prober_into(const Config& config, const SocketMaker& maker, bool optional,
                        std::optional<LivenessProber>& prober, std::string& unavailable) {
  auto p = LivenessProber::open(maker);
  if (p) {
    prober.emplace(std::move(*p));
    return Ok{};
  }
  std::string who;
  for (const Policy& policy : config.policies)
    if (policy.verify) who += (who.empty() ? "" : ", ") + policy.name;
  Error e = p.error().wrap("policy " + who + " verifies peers before reaping, and probing them failed to start");
  if (!optional) return e;
  unavailable = e.message();
  return Ok{};
}

Result<Reaper> open_reaper(ReapMethod how, const SocketMaker& maker) {
  auto r = Reaper::open(how, maker);
  if (!r) return r.error();
  if (how == ReapMethod::kRst && !r->rst_unavailable().empty())
    return Error(0, "RST injection unavailable: " + r->rst_unavailable());
  return r;
}

}  // namespace

Result<NamespaceTools> NamespaceTools::open(const Config& config, const CycleOptions& options, SocketMaker maker) {
  auto scanner = SocketScanner::open(maker);
  if (!scanner) return scanner.error();
  FamilyDumpGate gate = FamilyDumpGate::open(maker);
  NamespaceTools tools(options, std::move(maker), std::move(*scanner), std::move(gate));
  // Opened before anything is scanned: a missing capability is said once,
  // up front, not once per socket.
  if (!options.dry_run && !config.dry_run) {
    tools.reaper_method_ = options.method.value_or(config.method);
    auto r = open_reaper(tools.reaper_method_, tools.maker_);
    if (!r) return r.error();
    tools.reaper_.emplace(std::move(*r));
  }
  if (any_policy_verifies(config)) {
    if (auto s = open_prober_into(config, tools.maker_, options.probes_optional, tools.prober_,
                                  tools.prober_unavailable_);
        !s)
      return s.error();
    if (tools.prober_) tools.prober_note_ = tools.prober_->open_note();
  }
  return tools;
}

Result<NamespaceTools::Reload> NamespaceTools::prepare_reload(const Config& config) const {
  Reload r;
  if (!prober_ && any_policy_verifies(config)) {
    if (auto s = open_prober_into(config, maker_, options_.probes_optional, r.prober, r.prober_unavailable); !s)
      return s.error();
  }
  // A new method (or the first real run) needs its reaper; the old one
  // stays when the method is the same, keeping its switch to RST.
  r.reaper_method = options_.method.value_or(config.method);
  if (!options_.dry_run && !config.dry_run && (!reaper_ || r.reaper_method != reaper_method_)) {
    auto reaper = open_reaper(r.reaper_method, maker_);
    if (!reaper) return reaper.error();
    r.reaper.emplace(std::move(*reaper));
  }
  return r;
}

void NamespaceTools::commit_reload(Reload r) {
  if (r.prober) {
    prober_ = std::move(r.prober);
    prober_note_ = prober_->open_note();
  }
  if (!prober_) prober_unavailable_ = std::move(r.prober_unavailable);
  if (r.reaper) {
    reaper_ = std::move(r.reaper);
    reaper_method_ = r.reaper_method;
  }
}

bool NamespaceTools::rst_available() const {
  if (reaper_ && reaper_->rst_unavailable().empty()) return true;
  return RawSender::open(maker_).ok();
}

std::optional<std::string> NamespaceTools::take_notice() {
  std::optional<std::string> n = reaper_ ? reaper_->take_notice() : std::nullopt;
  if (!prober_note_.empty()) n = n ? *n + "; " + prober_note_ : prober_note_;
  prober_note_.clear();
  return n;
}

}  // namespace tcpreap
