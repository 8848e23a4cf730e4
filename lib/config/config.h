#pragma once
// The validated configuration: what tcpreap may touch and when a connection
// counts as dead. Built only by config_loader.h, which either returns a whole
// valid Config or errors; a Config in hand is always consistent.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/match.h"
#include "net/ip_address.h"
#include "net/port_range.h"
#include "net/tcp_state.h"
#include "netns/netns_identity.h"

namespace tcpreap {

using Duration = std::chrono::milliseconds;

// Where a value was written: 1-based line and column of its file.
struct SourceMark {
  int line = 0;
  int column = 0;
  bool operator==(const SourceMark&) const = default;
};

// `dead_when.in_state_for`: dead once in `state` for at least `after`.
struct StateTimeout {
  uint8_t state = 0;  // kernel numbering
  Duration after{};
  bool operator==(const StateTimeout&) const = default;
};

// When a matched socket counts as dead. At least one condition is set.
struct DeadWhen {
  // Nothing at all (data or ACK) received for this long.
  std::optional<Duration> silent_for;
  // Data or zero-window probes outstanding with no ACK for this long.
  std::optional<Duration> unacked_for;
  std::vector<StateTimeout> in_state_for;
  bool operator==(const DeadWhen&) const = default;
};

// When one remote address holds more than `max` connections of the policy,
// its longest-silent ones (silent at least `min_silent`) are dead.
struct PerPeerLimit {
  uint32_t max = 0;
  Duration min_silent{};
  bool operator==(const PerPeerLimit&) const = default;
};

// `verify`: silence alone cannot tell an idle live peer from a dead one.
// Before a connection found dead by silence (dead_when.silent_for, or the
// per-peer limit) is reaped, its peer is probed as kernel keepalive would
// (seq = snd_nxt - 1, ack = rcv_nxt, learnt from a challenge ACK), up to
// `probes` times, `interval` apart: a live peer's ACK makes it alive again,
// a peer that lost the connection answers RST (the kernel then closes the
// socket itself), and silence after the last probe's interval makes it dead.
// Unacked data and state timeouts are not verified: the kernel's own
// retransmissions already probe the peer, and a state is not a peer.
//
// A probe costs packets on both ends and a moment of the turn: at most
// `max_per_scan` of the policy's probes go out per turn, the longest-silent
// first; the others stay verifying, due again on the next turn.
struct Verify {
  uint32_t probes = 3;
  Duration interval = std::chrono::seconds(5);  // >= 1 s: a peer answers one probe per 500 ms
  uint32_t max_per_scan = 1000;                 // probes per turn
  bool operator==(const Verify&) const = default;
};

struct Policy {
  std::string name;
  Match match;
  // `match.namespaces`: globs of the names of the network namespaces the
  // policy applies in (netns/netns_name_match.h; a namespace is also named
  // by its identity, "net:[<ino>]"). Empty: every namespace scanned. Kept
  // out of Match, which selects sockets within one namespace and also
  // serves `protect` and the kernel filter.
  std::vector<std::string> namespaces;
  DeadWhen dead_when;
  uint32_t confirm = 1;  // consecutive scans a socket must look dead on
  std::optional<PerPeerLimit> per_peer_limit;
  std::optional<Verify> verify;          // absent: reap on silence alone
  std::optional<uint32_t> max_per_scan;  // this policy's own cap, under reap.max_per_scan
  SourceMark mark;                       // where the policy starts, for messages

  // Whether the policy applies in the namespace named `netns_name`: true
  // when `namespaces` is empty or one of its globs matches the name.
  bool applies_in(std::string_view netns_name) const;
  // The same, a glob matching the namespace's identity ("net:[<ino>]") too:
  // what the daemon asks of each namespace it scans.
  bool applies_in(std::string_view netns_name, const NetnsId& id) const;
};

// `namespaces`: which network namespaces tcpreap scans. Per-peer limits
// count per (namespace, peer); reap.max_per_scan and reap.max_per_minute
// count across every namespace; protect applies in every namespace.
struct NamespaceScope {
  enum class Mode : uint8_t {
    kHost,  // the daemon's own network namespace only
    kAll,   // every network namespace on the host (netns/netns_discovery.h)
  };
  Mode scan = Mode::kHost;
  // Globs of the names of namespaces never scanned (netns_name_match.h).
  // Consulted only with kAll; with kHost the loader refuses a glob that
  // matches "host", which would leave nothing to scan.
  std::vector<std::string> exclude;
  // A namespace that appears is scanned within this long (1 s to 1 h).
  Duration discover_every = std::chrono::seconds(10);

  // Whether the namespace named `name`, of identity `id`, is scanned: with
  // kHost only the one named "host", with kAll every one no glob of
  // `exclude` matches (by name or identity).
  bool scans(std::string_view name, const NetnsId& id) const;
  bool operator==(const NamespaceScope&) const = default;
};
const char* namespace_mode_name(NamespaceScope::Mode m);  // "host", "all"
std::optional<NamespaceScope::Mode> parse_namespace_mode(std::string_view name);

enum class ReapMethod : uint8_t { kAuto, kDestroy, kRst };
const char* reap_method_name(ReapMethod m);  // "auto", "destroy", "rst"
std::optional<ReapMethod> parse_reap_method(std::string_view name);

struct Config {
  std::string source;  // the file it was loaded from

  Duration scan_interval = std::chrono::seconds(10);
  NamespaceScope namespaces;

  bool dry_run = false;
  ReapMethod method = ReapMethod::kAuto;
  uint32_t max_per_scan = 100;
  // Over any 60 s: the dead let through (reaped, or a dry run's would-reap),
  // each connection counted once. Above the default schedule's own ceiling
  // (100 per 10 s scan = 600 a minute): it binds only when a config speeds
  // the scans up, or a mass of connections dies at once.
  uint32_t max_per_minute = 1000;
  std::vector<Match> protect;  // never touched, whatever a policy says

  std::string metrics_listen = "127.0.0.1:10126";

  std::vector<Policy> policies;  // the first whose match fits a socket decides

  // The kernel filter for a scan that needs only what some policy matches:
  // the union of the policies' states and their match blocks as bytecode.
  SocketFilter scan_filter() const;
};

}  // namespace tcpreap
