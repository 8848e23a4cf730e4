#include "log/turn_reporter.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include "decide/verdict.h"
#include "reap/reap_outcome.h"

namespace tcpreap {

namespace {

constexpr auto kOwnerLookupBudget = std::chrono::milliseconds(50);

std::unordered_map<uint64_t, SocketOwner> owners_from_proc(std::span<const uint64_t> inodes) {
  return find_socket_owners(inodes, std::chrono::steady_clock::now() + kOwnerLookupBudget);
}

}  // namespace

TurnReporter::TurnReporter(EventLog& log, DaemonMetrics& metrics, OwnerLookup owners)
    : log_(log), metrics_(metrics), owners_(owners ? std::move(owners) : OwnerLookup(owners_from_proc)) {}

void TurnReporter::declare_policies(const Config& config) {
  for (const Policy& p : config.policies) {
    std::vector<std::string> reasons;
    if (p.dead_when.silent_for) reasons.push_back(reason_name(DeadReason::kSilent));
    if (p.dead_when.unacked_for) reasons.push_back(reason_name(DeadReason::kUnacked));
    if (!p.dead_when.in_state_for.empty()) reasons.push_back(reason_name(DeadReason::kStateTimeout));
    if (p.per_peer_limit) reasons.push_back(reason_name(DeadReason::kPerPeerLimit));
    metrics_.declare_policy(p.name, reasons);
    if (p.verify) metrics_.declare_probes(p.name);
  }
}

void TurnReporter::turn_succeeded(const CycleResult& result, const Config& config, const ProbeCounters& probes,
                                  uint64_t sockets, double seconds, const std::optional<std::string>& notice) {
  ++turns_;
  last_error_.clear();
  const auto& entries = *result.entries;
  auto policy_of = [&](const Decision& d) { return config.policies[static_cast<size_t>(d.policy)].name; };

  std::vector<size_t> newly_dead;
  std::unordered_set<uint64_t> still_dead;
  for (size_t i : result.would_reap) {
    still_dead.insert(entries[i].socket.cookie);
    if (!said_dead_.contains(entries[i].socket.cookie)) newly_dead.push_back(i);
  }
  said_dead_ = std::move(still_dead);

  std::vector<uint64_t> inodes;
  for (const auto& r : result.reaps) inodes.push_back(entries[r.entry].socket.inode);
  for (size_t i : newly_dead) inodes.push_back(entries[i].socket.inode);
  std::unordered_map<uint64_t, SocketOwner> owners;
  if (!inodes.empty()) owners = owners_(inodes);
  auto owner = [&](const TcpSocket& s) -> std::optional<SocketOwner> {
    if (auto it = owners.find(s.inode); it != owners.end()) return it->second;
    return std::nullopt;
  };

  auto netns = [&](const DecisionEngine::Entry& e) -> const NamespaceInfo* {
    return e.netns < result.namespaces.size() ? &result.namespaces[e.netns].info : nullptr;
  };
  std::map<ProbeResult, uint64_t> probed;
  for (const auto& p : result.probes) {
    const auto& e = entries[p.entry];
    log_.probe(e.socket, e.decision, config, p.outcome, netns(e));
    ++probed[p.outcome.result];
  }
  if (!result.probes.empty()) {
    // One line a turn, the answered (logged at debug) included.
    std::string line = "probed " + std::to_string(result.probes.size()) + " peer" +
                       (result.probes.size() == 1 ? "" : "s") + ":";
    const char* sep = " ";
    for (const auto& [outcome, n] : probed) {
      line += sep + std::to_string(n) + " " + probe_result_name(outcome);
      sep = ", ";
    }
    log_.log(EventLog::Priority::kInfo, line);
  }
  for (const auto& r : result.reaps) {
    const auto& e = entries[r.entry];
    log_.reap(e.socket, e.decision, config, &r.outcome, owner(e.socket), netns(e));
    if (r.outcome.result == ReapResult::kDone) {
      metrics_.reaped(policy_of(e.decision), reap_via_name(r.outcome.via), reason_name(e.decision.reason));
      ++reaped_total_;
    } else if (r.outcome.result != ReapResult::kAlreadyGone) {
      metrics_.reap_failed(reap_via_name(r.outcome.via), reap_result_name(r.outcome.result));
    }
  }
  for (size_t i : newly_dead) {
    const auto& e = entries[i];
    log_.reap(e.socket, e.decision, config, nullptr, owner(e.socket), netns(e));
    metrics_.would_reap(policy_of(e.decision), reason_name(e.decision.reason));
  }

  std::map<std::string, uint64_t> held, suspect, verifying, deferred;
  for (const Policy& p : config.policies) suspect[p.name] = verifying[p.name] = 0;
  for (size_t i : result.held_back) ++held[policy_of(entries[i].decision)];
  for (const auto& [policy, n] : held) metrics_.held_back(policy, n);
  last_suspect_ = last_verifying_ = 0;
  for (const auto& e : entries) {
    if (e.decision.verdict == Verdict::kSuspect) ++suspect[policy_of(e.decision)], ++last_suspect_;
    if (e.decision.verdict == Verdict::kVerifying) ++verifying[policy_of(e.decision)], ++last_verifying_;
    if (e.decision.probe.deferred) ++deferred[policy_of(e.decision)];
  }
  for (const auto& [policy, n] : deferred) metrics_.probes_deferred(policy, n);
  metrics_.set_connections(suspect, verifying);
  metrics_.set_probe_totals(probes);
  uint64_t scanned = 0, failed = unopened_namespaces_, skipped_ipv4 = 0, skipped_ipv6 = 0;
  for (const NamespaceTurn& n : result.namespaces) {
    skipped_ipv4 += n.stats.skipped.ipv4;
    skipped_ipv6 += n.stats.skipped.ipv6;
    if (n.state != NamespaceTurn::State::kFailed) {
      ++scanned;
      continue;
    }
    ++failed;
    metrics_.namespace_scan_failed(*n.error);
    // Rate-limited per namespace: one that keeps failing is said now and then.
    log_.failure("scan:" + n.info.id.to_string(), "scan failed: " + n.error->message(),
                 {"TCPREAP_NETNS=" + n.info.name, "TCPREAP_NETNS_ID=" + n.info.id.to_string()});
  }
  metrics_.set_namespaces(scanned, failed);
  metrics_.dumps_skipped(skipped_ipv4, skipped_ipv6);
  metrics_.scan_succeeded(seconds, sockets);
  last_sockets_ = sockets;
  last_namespaces_ = result.namespaces.size();
  last_seconds_ = seconds;
  if (notice) log_.log(EventLog::Priority::kWarning, *notice);
  log_.log(EventLog::Priority::kDebug, "turn " + std::to_string(turns_) + ": " + std::to_string(sockets) +
                                           " sockets in scope, " + std::to_string(result.probes.size()) +
                                           " probed, " + std::to_string(result.reaps.size()) + " acted on, " +
                                           std::to_string(result.held_back.size()) + " held back");
}

void TurnReporter::turn_failed(const Error& why, double seconds, uint64_t namespaces) {
  ++turns_;
  metrics_.set_namespaces(0, namespaces + unopened_namespaces_);
  metrics_.scan_failed(seconds, why);
  last_error_ = why.message();
  log_.failure("scan", "scan failed: " + last_error_);
}

std::string TurnReporter::status_line(bool dry_run) const {
  if (turns_ == 0) return "started; first scan now";
  if (!last_error_.empty()) return "last scan failed: " + last_error_;
  char buf[256];
  char where[48] = "";
  if (last_namespaces_ > 1)
    std::snprintf(where, sizeof where, " in %llu namespaces", static_cast<unsigned long long>(last_namespaces_));
  std::snprintf(buf, sizeof buf, "last scan: %llu sockets%s in %.0f ms, %llu suspect, %llu verifying; %llu reaped%s",
                static_cast<unsigned long long>(last_sockets_), where, last_seconds_ * 1000,
                static_cast<unsigned long long>(last_suspect_), static_cast<unsigned long long>(last_verifying_),
                static_cast<unsigned long long>(reaped_total_), dry_run ? " (dry run: none)" : "");
  return buf;
}

}  // namespace tcpreap
