#pragma once
// Verdicts for the sockets of a scan: which policy decides for each, whether
// it looks dead and since how many scans, and which of the dead a scan may
// act on. A function of the sockets, the config, and what earlier scans saw,
// and of nothing else: no clock of its own, no I/O.
//
// History is kept per socket cookie, so a recycled 4-tuple is a new socket,
// and only for sockets in scope that the last scan saw: memory is bounded by
// the sockets policies match. Not thread-safe.

#include <chrono>
#include <optional>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "decide/verdict.h"

namespace tcpreap {

class DecisionEngine {
 public:
  using Clock = std::chrono::steady_clock;

  explicit DecisionEngine(Config config);

  // A new config (SIGHUP). History survives for sockets whose policy keeps
  // its name; a socket now decided by another policy starts over.
  void reload(Config config);
  const Config& config() const { return config_; }

  // Treats every policy's confirm as this many scans (the one-shot CLI
  // passes 1: a single scan stands for confirm). nullopt: the policies'.
  void override_confirm(std::optional<uint32_t> scans) { confirm_override_ = scans; }

  // One scan: begin, observe every socket, finish.
  void begin_scan(Clock::time_point now);
  // Out of scope and protected sockets are decided at once and not kept:
  // their decision is returned. A socket in scope is kept until
  // finish_scan() (per-peer limits need the whole scan): nullopt.
  std::optional<Decision> observe(const TcpSocket& s);

  struct Entry {
    TcpSocket socket;
    Decision decision;
  };
  // Applies per-peer limits, confirm and the max_per_scan caps, forgets the
  // sockets this scan did not see, and returns the in-scope sockets of the
  // scan with their decisions, in the order observed. Valid until the next
  // begin_scan().
  const std::vector<Entry>& finish_scan();

  size_t remembered() const { return history_.size(); }

 private:
  struct History {
    uint32_t dead_scans = 0;
    uint8_t state = 0;
    Clock::time_point state_since;
    bool outstanding = false;  // data or probes outstanding at the last scan
    Clock::time_point outstanding_since;
    uint64_t last_scan = 0;
    std::string policy;  // the name of the policy that decided last time
  };

  int policy_for(const TcpSocket& s) const;
  bool is_protected(const TcpSocket& s) const;
  void apply_per_peer_limits();
  void apply_caps();

  Config config_;
  std::optional<uint32_t> confirm_override_;
  std::unordered_map<uint64_t, History> history_;
  std::vector<Entry> entries_;
  Clock::time_point now_;
  uint64_t scan_ = 0;
};

}  // namespace tcpreap
