#include "decide/decision_engine.h"

#include <algorithm>
#include <map>

#include "decide/dead_rules.h"

namespace tcpreap {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kOutOfScope: return "out-of-scope";
    case Verdict::kProtected: return "protected";
    case Verdict::kAlive: return "alive";
    case Verdict::kSuspect: return "suspect";
    case Verdict::kDead: return "dead";
  }
  return "?";
}

const char* reason_name(DeadReason r) {
  switch (r) {
    case DeadReason::kNone: return "";
    case DeadReason::kSilent: return "silent";
    case DeadReason::kUnacked: return "unacked";
    case DeadReason::kStateTimeout: return "state-timeout";
    case DeadReason::kPerPeerLimit: return "per-peer-limit";
  }
  return "?";
}

namespace {

uint32_t ms_between(DecisionEngine::Clock::time_point from, DecisionEngine::Clock::time_point to) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
  return static_cast<uint32_t>(std::clamp<int64_t>(ms, 0, UINT32_MAX));
}

}  // namespace

DecisionEngine::DecisionEngine(Config config) : config_(std::move(config)) {}

void DecisionEngine::reload(Config config) { config_ = std::move(config); }

void DecisionEngine::begin_scan(Clock::time_point now) {
  now_ = now;
  ++scan_;
  entries_.clear();
}

int DecisionEngine::policy_for(const TcpSocket& s) const {
  for (size_t i = 0; i < config_.policies.size(); ++i)
    if (config_.policies[i].match.matches(s)) return static_cast<int>(i);
  return -1;
}

bool DecisionEngine::is_protected(const TcpSocket& s) const {
  return std::any_of(config_.protect.begin(), config_.protect.end(), [&](const Match& m) { return m.matches(s); });
}

std::optional<Decision> DecisionEngine::observe(const TcpSocket& s) {
  Decision d;
  d.policy = policy_for(s);
  if (d.policy < 0) return d;  // out of scope
  const Policy& policy = config_.policies[static_cast<size_t>(d.policy)];
  d.confirm = confirm_override_.value_or(policy.confirm);
  if (is_protected(s)) {
    d.verdict = Verdict::kProtected;
    return d;
  }

  // What earlier scans saw: how long in this state, how long outstanding.
  Observed observed;
  if (auto it = history_.find(s.cookie); it != history_.end() && it->second.policy == policy.name) {
    const History& h = it->second;
    if (h.state == s.state) observed.in_state_ms = ms_between(h.state_since, now_);
    if (h.outstanding) observed.outstanding_ms = ms_between(h.outstanding_since, now_);
  }
  d.figures = figures_of(s, observed);
  if (auto dead = find_dead(d.figures, s.state, policy.dead_when)) {
    d.reason = dead->reason;
    d.threshold = dead->threshold;
  }
  d.verdict = Verdict::kAlive;  // until finish_scan() weighs confirm
  entries_.push_back({s, d});
  return std::nullopt;
}

// Groups each limited policy's connections by peer address (a v4-mapped
// peer counts as its IPv4 address); past `max`, the longest-silent ones that
// are silent at least `min_silent` look dead.
void DecisionEngine::apply_per_peer_limits() {
  for (size_t p = 0; p < config_.policies.size(); ++p) {
    const auto& limit = config_.policies[p].per_peer_limit;
    if (!limit) continue;
    std::map<IpAddress, std::vector<Entry*>, bool (*)(const IpAddress&, const IpAddress&)> by_peer(
        [](const IpAddress& a, const IpAddress& b) {
          return std::tie(a.family, a.bytes) < std::tie(b.family, b.bytes);
        });
    for (Entry& e : entries_) {
      if (e.decision.policy != static_cast<int>(p)) continue;
      const IpAddress& r = e.socket.remote;
      by_peer[r.is_v4_mapped() ? r.unmapped() : r].push_back(&e);
    }
    for (auto& [peer, conns] : by_peer) {
      const uint32_t count = static_cast<uint32_t>(conns.size());
      for (Entry* e : conns) e->decision.figures.peer_connections = count;
      if (count <= limit->max) continue;
      std::stable_sort(conns.begin(), conns.end(), [](const Entry* a, const Entry* b) {
        return a->decision.figures.last_recv_ms > b->decision.figures.last_recv_ms;
      });
      uint32_t excess = count - limit->max;
      for (Entry* e : conns) {
        if (excess == 0) break;
        if (e->decision.figures.last_recv_ms < static_cast<uint64_t>(limit->min_silent.count())) break;
        --excess;  // one of the peer's excess, whether or not another rule already found it dead
        if (e->decision.reason == DeadReason::kNone) {
          e->decision.reason = DeadReason::kPerPeerLimit;
          e->decision.threshold = limit->min_silent;
        }
      }
    }
  }
}

// The longest-silent dead go first; past reap.max_per_scan, or a policy's
// own max_per_scan, the rest are held back for a later scan.
void DecisionEngine::apply_caps() {
  std::vector<Entry*> dead;
  for (Entry& e : entries_)
    if (e.decision.verdict == Verdict::kDead) dead.push_back(&e);
  std::stable_sort(dead.begin(), dead.end(), [](const Entry* a, const Entry* b) {
    return a->decision.figures.last_recv_ms > b->decision.figures.last_recv_ms;
  });
  std::vector<uint32_t> per_policy(config_.policies.size(), 0);
  uint32_t total = 0;
  for (Entry* e : dead) {
    const size_t p = static_cast<size_t>(e->decision.policy);
    const auto& cap = config_.policies[p].max_per_scan;
    if (total >= config_.max_per_scan || (cap && per_policy[p] >= *cap)) {
      e->decision.held_back = true;
      continue;
    }
    ++total;
    ++per_policy[p];
  }
}

const std::vector<DecisionEngine::Entry>& DecisionEngine::finish_scan() {
  apply_per_peer_limits();
  for (Entry& e : entries_) {
    const std::string& name = config_.policies[static_cast<size_t>(e.decision.policy)].name;
    auto [it, fresh] = history_.try_emplace(e.socket.cookie);
    History& h = it->second;
    if (fresh || h.policy != name) {
      h = History{};
      h.state = e.socket.state;
      h.state_since = now_;
      h.policy = name;
    } else if (h.state != e.socket.state) {
      h.state = e.socket.state;
      h.state_since = now_;
    }
    const bool outstanding = has_outstanding(e.decision.figures);
    if (outstanding && !h.outstanding) h.outstanding_since = now_;
    h.outstanding = outstanding;
    h.last_scan = scan_;
    Decision& d = e.decision;
    h.dead_scans = d.reason == DeadReason::kNone ? 0 : h.dead_scans + 1;
    d.dead_scans = h.dead_scans;
    if (d.reason == DeadReason::kNone)
      d.verdict = Verdict::kAlive;
    else
      d.verdict = d.dead_scans >= d.confirm ? Verdict::kDead : Verdict::kSuspect;
  }
  apply_caps();
  // Forget the sockets this scan did not see in scope: gone, or no longer matched.
  std::erase_if(history_, [&](const auto& kv) { return kv.second.last_scan != scan_; });
  return entries_;
}

}  // namespace tcpreap
