#include "decide/decision_engine.h"

#include <algorithm>
#include <map>

#include "decide/dead_rules.h"

namespace tcpreap {

namespace {

uint32_t ms_between(DecisionEngine::Clock::time_point from, DecisionEngine::Clock::time_point to) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
  return static_cast<uint32_t>(std::clamp<int64_t>(ms, 0, UINT32_MAX));
}

void bump(uint8_t& n) {
  if (n < UINT8_MAX) ++n;
}

bool longest_silent_first(const DecisionEngine::Entry* a, const DecisionEngine::Entry* b) {
  return a->decision.figures.last_recv_ms > b->decision.figures.last_recv_ms;
}

// reap.max_per_minute counts over this much scan time.
constexpr auto kRateWindow = std::chrono::minutes(1);

// Failed attempts in a row double the wait up to this many intervals: a
// socket that cannot be probed is asked again every few intervals, not
// every turn, and still within minutes at the longest interval's worst.
constexpr uint32_t kMaxBackoffFactor = 8;

}  // namespace

Duration DecisionEngine::retry_delay(Duration interval, uint8_t failures) {
  uint32_t factor = 1;
  for (uint8_t i = 1; i < failures && factor < kMaxBackoffFactor; ++i) factor *= 2;
  return interval * factor;
}

DecisionEngine::DecisionEngine(Config config) : config_(std::move(config)) {}

void DecisionEngine::reload(Config config) {
  // History follows its policy by name to its index in the new config.
  std::vector<uint32_t> moved(config_.policies.size(), History::kNoPolicy);
  for (size_t i = 0; i < config_.policies.size(); ++i)
    for (size_t j = 0; j < config.policies.size(); ++j)
      if (config.policies[j].name == config_.policies[i].name) moved[i] = static_cast<uint32_t>(j);
  config_ = std::move(config);
  // Probe counts survive; the policy's new verify (or its absence) applies
  // from the next scan on, and to next_verify_due() at once.
  for (auto& entry : history_) {
    History& h = entry.second;  // (clang 14 cannot capture a structured binding)
    h.policy = h.policy < moved.size() ? moved[h.policy] : History::kNoPolicy;
    if (!h.verifying) continue;
    const Policy* p = h.policy != History::kNoPolicy ? &config_.policies[h.policy] : nullptr;
    if (p && p->verify)
      h.verify_interval = p->verify->interval;
    else
      h.verifying = false;  // the next scan decides it afresh
  }
}

void DecisionEngine::begin_scan(Clock::time_point now) {
  now_ = now;
  ++scan_;
  entries_.clear();
  seen_.clear();
  slot_ = 0;
  slot_start_ = 0;
  slot_policies_ = {};
}

void DecisionEngine::begin_namespace(uint32_t slot, std::span<const uint8_t> policies) {
  slot_ = slot;
  slot_start_ = entries_.size();
  slot_policies_ = policies;
}

void DecisionEngine::abandon_namespace() {
  // Its sockets kept for finish_scan() are forgotten for this scan: listed
  // again (a restarted dump) they count afresh; if not, finish_scan() drops
  // their history, which then starts over. Those settled as alive already
  // stay settled.
  for (size_t i = slot_start_; i < entries_.size(); ++i)
    if (auto it = history_.find(entries_[i].socket.cookie); it != history_.end()) it->second.last_scan = 0;
  entries_.resize(slot_start_);
  // The set (sockets decided at once) cannot forget single cookies. Those of
  // earlier namespaces go too, which only matters for a cookie listed in two
  // namespaces - never.
  seen_.clear();
}

int DecisionEngine::policy_for(const TcpSocket& s) const {
  const bool narrowed = !slot_policies_.empty();
  for (size_t i = 0; i < config_.policies.size(); ++i) {
    if (narrowed && (i >= slot_policies_.size() || !slot_policies_[i])) continue;
    if (config_.policies[i].match.matches(s)) return static_cast<int>(i);
  }
  return -1;
}

bool DecisionEngine::is_protected(const TcpSocket& s) const {
  return std::any_of(config_.protect.begin(), config_.protect.end(), [&](const Match& m) { return m.matches(s); });
}

std::optional<Decision> DecisionEngine::observe(const TcpSocket& s) {
  Decision d;
  d.policy = policy_for(s);
  if (d.policy < 0 || is_protected(s)) {
    // Decided at once, nothing kept: the set tells a second listing.
    if (!seen_.insert(s.cookie)) return std::nullopt;
    if (d.policy >= 0) {
      d.confirm = confirm_override_.value_or(config_.policies[static_cast<size_t>(d.policy)].confirm);
      d.verdict = Verdict::kProtected;
    }
    return d;  // out of scope, or protected
  }
  const Policy& policy = config_.policies[static_cast<size_t>(d.policy)];
  d.confirm = confirm_override_.value_or(policy.confirm);

  // In scope: its history tells a second listing (last_scan is this scan
  // once observed), which saves a set of every cookie - the one random
  // access per socket that cost most at 200 000 sockets in scope.
  auto [it, fresh] = history_.try_emplace(s.cookie);
  History& h = it->second;
  if (!fresh && h.last_scan == scan_) return std::nullopt;  // listed again: the first listing counts
  h.last_scan = scan_;

  // What earlier scans saw: how long in this state, how long outstanding.
  Observed observed;
  if (h.policy == static_cast<uint32_t>(d.policy)) {
    if (h.state == s.state) observed.in_state_ms = ms_between(h.state_since, now_);
    if (h.outstanding) observed.outstanding_ms = ms_between(h.outstanding_since, now_);
  }
  d.figures = figures_of(s, observed);
  if (auto dead = find_dead(d.figures, s.state, policy.dead_when)) {
    d.reason = dead->reason;
    d.threshold = dead->threshold;
  }
  d.verdict = Verdict::kAlive;  // until finish_scan() weighs confirm
  if (retain_ == Retain::kActionable && d.reason == DeadReason::kNone && !policy.per_peer_limit) {
    // Nothing can make it anything but alive this scan: settled now. A
    // dump that restarts lists it again: a second listing, ignored.
    settle(s, d, &h);
    return std::nullopt;
  }
  entries_.push_back({s, d, slot_});
  return std::nullopt;
}

// Groups each limited policy's connections by namespace and peer address (a
// v4-mapped peer counts as its IPv4 address): the same address in two
// namespaces is two peers. Past `max`, the longest-silent ones that are
// silent at least `min_silent` look dead.
void DecisionEngine::apply_per_peer_limits() {
  for (size_t p = 0; p < config_.policies.size(); ++p) {
    const auto& limit = config_.policies[p].per_peer_limit;
    if (!limit) continue;
    using Peer = std::pair<uint32_t, IpAddress>;  // namespace slot, address
    std::map<Peer, std::vector<Entry*>, bool (*)(const Peer&, const Peer&)> by_peer(
        [](const Peer& a, const Peer& b) {
          return std::tie(a.first, a.second.family, a.second.bytes) < std::tie(b.first, b.second.family, b.second.bytes);
        });
    for (Entry& e : entries_) {
      if (e.decision.policy != static_cast<int>(p)) continue;
      const IpAddress& r = e.socket.remote;
      by_peer[{e.netns, r.is_v4_mapped() ? r.unmapped() : r}].push_back(&e);
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

uint64_t DecisionEngine::released_last_minute() {
  while (!released_.empty() && now_ - released_.front().first >= kRateWindow) released_.pop_front();
  uint64_t n = 0;
  for (const auto& scan : released_) n += scan.second;
  return n;
}

// The longest-silent dead go first; past reap.max_per_scan, a policy's own
// max_per_scan, or what reap.max_per_minute leaves of the last minute, the
// rest are held back for a later scan.
void DecisionEngine::apply_caps() {
  ranked_.clear();
  for (Entry& e : entries_)
    if (e.decision.verdict == Verdict::kDead) ranked_.push_back(&e);
  if (ranked_.empty()) return;
  std::stable_sort(ranked_.begin(), ranked_.end(), longest_silent_first);
  per_policy_.assign(config_.policies.size(), 0);
  const uint64_t minute_used = released_last_minute();
  uint32_t released = 0;  // newly, this scan
  uint32_t total = 0;
  for (Entry* e : ranked_) {
    const size_t p = static_cast<size_t>(e->decision.policy);
    const auto& cap = config_.policies[p].max_per_scan;
    if (total >= config_.max_per_scan || (cap && per_policy_[p] >= *cap)) {
      e->decision.held_back = true;
      continue;
    }
    History& h = history_.at(e->socket.cookie);
    if (!h.released) {
      if (minute_used + released >= config_.max_per_minute) {
        e->decision.held_back = true;
        continue;
      }
      h.released = true;
      ++released;
    }
    ++total;
    ++per_policy_[p];
  }
  if (released > 0) released_.emplace_back(now_, released);
}

// The longest-silent due probes go first; past a policy's
// verify.max_per_scan the rest wait: still verifying, and due again on the
// next scan (their last probe is unchanged, so next_verify_due() says so).
void DecisionEngine::apply_probe_caps() {
  ranked_.clear();
  per_policy_.assign(config_.policies.size(), 0);
  bool over = false;
  for (Entry& e : entries_) {
    if (!e.decision.probe.due) continue;
    ranked_.push_back(&e);
    const size_t p = static_cast<size_t>(e.decision.policy);
    const auto& v = config_.policies[p].verify;
    over = over || (v && ++per_policy_[p] > v->max_per_scan);
  }
  if (!over) return;
  std::stable_sort(ranked_.begin(), ranked_.end(), longest_silent_first);
  per_policy_.assign(config_.policies.size(), 0);
  for (Entry* e : ranked_) {
    const size_t p = static_cast<size_t>(e->decision.policy);
    const auto& v = config_.policies[p].verify;
    if (!v || per_policy_[p]++ < v->max_per_scan) continue;
    e->decision.probe.due = false;
    e->decision.probe.deferred = true;
  }
}

void DecisionEngine::verify(const Verify& v, History& h, Decision& d) {
  // A scan timed for the due moment may run a hair early (timer slack,
  // scans stamped before the probe was): counting it as on time keeps the
  // schedule, and a probe 50 ms early is still far beyond the peer's
  // 500 ms rate limit (interval >= 1 s).
  constexpr auto kSlack = std::chrono::milliseconds(50);
  const auto waited = h.last_probe ? now_ + kSlack - *h.last_probe : Clock::duration::max();
  const bool interval_passed = waited >= v.interval;
  // After failed attempts, the next waits longer (retry_delay()).
  const bool retry_passed = waited >= retry_delay(v.interval, h.probe_failures);
  if (h.probes_sent > h.probes_resolved && interval_passed) {
    // A whole interval and nothing received: the outstanding probe went unanswered.
    probe_counters_.unanswered += h.probes_sent - h.probes_resolved;
    h.probes_resolved = h.probes_sent;
  }
  ProbeState& p = d.probe;
  p.wanted = static_cast<uint8_t>(std::clamp<uint32_t>(v.probes, 1, UINT8_MAX));
  p.sent = h.probes_sent;
  p.failures = h.probe_failures;
  p.since_last_ms = h.last_probe ? ms_between(*h.last_probe, now_) : 0;
  if (h.probes_sent < p.wanted) {
    // Failed attempts land here too, whatever their number: only probes
    // that went unanswered make a socket dead.
    d.verdict = Verdict::kVerifying;
    p.due = retry_passed;
  } else {
    d.verdict = interval_passed ? Verdict::kDead : Verdict::kVerifying;
  }
  h.verifying = d.verdict == Verdict::kVerifying;
  h.verify_interval = v.interval;
}

void DecisionEngine::stop_verifying(History& h, bool alive) {
  // The scan saw something received since the probe: it was answered.
  if (alive && h.probes_sent > h.probes_resolved) ++probe_counters_.answered;
  h.probes_sent = 0;
  h.probes_resolved = 0;
  h.probe_failures = 0;
  h.verifying = false;
  h.last_probe.reset();
}

void DecisionEngine::record_probe(uint64_t cookie, const ProbeOutcome& outcome, Clock::time_point at) {
  auto it = history_.find(cookie);
  if (it == history_.end() || !it->second.verifying) return;
  History& h = it->second;
  switch (outcome.result) {
    case ProbeResult::kSent:
    case ProbeResult::kAnswered:
    case ProbeResult::kPeerReset:
      ++probe_counters_.sent;
      bump(h.probes_sent);
      h.probe_failures = 0;
      h.last_probe = at;
      if (outcome.result == ProbeResult::kAnswered) {
        // Alive: counted here, not again by a scan; should a scan still
        // find it silent, probing starts over one interval from now.
        ++probe_counters_.answered;
        h.probes_sent = 0;
        h.probes_resolved = 0;
      } else if (outcome.result == ProbeResult::kPeerReset) {
        ++probe_counters_.peer_reset;
        h.probes_resolved = h.probes_sent;
      }
      break;
    case ProbeResult::kNoAnswer:
    case ProbeResult::kNotEstablished:
    case ProbeResult::kFailed:
      // Nothing reached the peer: retry one interval later, and never
      // count it towards the probes that make a socket dead.
      ++probe_counters_.failed;
      bump(h.probe_failures);
      h.last_probe = at;
      break;
    case ProbeResult::kGone:
      // Usually the socket closed between the scan and the probe, and the
      // next scan drops it. Should that scan still see it (the RST came
      // from elsewhere: the socket is bound to another device, a middlebox
      // answered), no probe could be sent: a failed attempt, backed off
      // like the others, and counted once a scan confirms it.
      bump(h.probe_failures);
      h.last_probe = at;
      h.gone_unconfirmed = true;
      break;
  }
}

std::optional<DecisionEngine::Clock::time_point> DecisionEngine::next_verify_due() const {
  std::optional<Clock::time_point> next;
  for (const auto& [cookie, h] : history_) {
    if (!h.verifying) continue;
    const Clock::time_point due =
        h.last_probe ? *h.last_probe + retry_delay(h.verify_interval, h.probe_failures) : now_;
    if (!next || due < *next) next = due;
  }
  return next;
}

void DecisionEngine::settle(const TcpSocket& s, Decision& d, History* known) {
  const auto policy = static_cast<uint32_t>(d.policy);
  if (!known) known = &history_[s.cookie];  // observe() made it
  History& h = *known;
  // A history observe() just made has no policy yet: it starts here.
  if (h.gone_unconfirmed) {
    ++probe_counters_.failed;  // a probe found it gone, and here it is
    h.gone_unconfirmed = false;
  }
  if (h.policy != policy) {
    h = History{};
    h.state = s.state;
    h.state_since = now_;
    h.policy = policy;
  } else if (h.state != s.state) {
    h.state = s.state;
    h.state_since = now_;
  }
  const bool outstanding = has_outstanding(d.figures);
  if (outstanding && !h.outstanding) h.outstanding_since = now_;
  h.outstanding = outstanding;
  h.last_scan = scan_;
  h.dead_scans = d.reason == DeadReason::kNone ? 0 : h.dead_scans + 1;
  d.dead_scans = h.dead_scans;
  const auto& verify_policy = config_.policies[static_cast<size_t>(d.policy)].verify;
  bool verified = false;
  if (d.reason == DeadReason::kNone) {
    d.verdict = Verdict::kAlive;
  } else if (d.dead_scans < d.confirm) {
    d.verdict = Verdict::kSuspect;
  } else if (verify_policy && verifiable(d.reason)) {
    verify(*verify_policy, h, d);
    verified = true;
  } else {
    d.verdict = Verdict::kDead;
  }
  if (!verified) stop_verifying(h, d.reason == DeadReason::kNone);
  if (d.verdict != Verdict::kDead) h.released = false;  // dead again later: counted anew
}

const std::vector<DecisionEngine::Entry>& DecisionEngine::finish_scan() {
  apply_per_peer_limits();
  for (Entry& e : entries_) settle(e.socket, e.decision);
  apply_caps();
  apply_probe_caps();
  // Forget the sockets this scan did not see in scope: gone, or no longer matched.
  std::erase_if(history_, [&](const auto& kv) { return kv.second.last_scan != scan_; });
  return entries_;
}

}  // namespace tcpreap
