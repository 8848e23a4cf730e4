#pragma once
// What netns_scan_bench times, each over every namespace of a phase, one
// namespace after another: a ReapCycle turn, the same dumps alone or
// observed into an engine, and a command spawned inside each namespace (the
// reference dump, /bin/true). Each returns wall milliseconds.

#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/unique_fd.h"
#include "cycle/reap_cycle.h"
#include "decide/decision_engine.h"
#include "diag/scan_query.h"
#include "diag/socket_scanner.h"
#include "netns/dump_families.h"
#include "netns/netns_identity.h"
#include "support/netns.h"

namespace tcpreap::test {

// One namespace of ours: named, held open, and a scanner and the counters
// made inside it for the dumps-alone and engine figures.
struct BenchNs {
  NamedNetns named;
  std::shared_ptr<const UniqueFd> fd;
  NetnsId id;
  std::optional<SocketScanner> scanner;
  // Its counters, so that the dumps alone and into an engine leave out the
  // families the turn leaves out.
  std::optional<FamilyDumpGate> gate;

  explicit BenchNs(char tag);  // `ip netns add trp<pid><tag><n>`, lo up
  std::string path() const { return "/run/netns/" + named.name(); }
};
using Namespaces = std::vector<std::unique_ptr<BenchNs>>;

// `n` namespaces (fewer when `stop` is set meanwhile).
Namespaces make_namespaces(int n, char tag, const volatile std::sig_atomic_t& stop);
std::vector<std::string> names_of(const Namespaces& nss);

// The kernel query of `config`'s policies, as the cycle compiles it when
// every policy applies.
ScanQuery query_of(const Config& config);

// A dry-run cycle over `nss`, each added with SocketMaker::in; `open_ms`:
// the add_namespace() calls.
ReapCycle open_cycle(const Config& config, const Namespaces& nss, double& open_ms);

// What one timed item saw in its last round.
struct Seen {
  uint64_t sockets = 0;           // dumped (a turn: ScanStats::sockets summed)
  size_t entries = 0;             // a turn's in-scope sockets decided (remembered)
  size_t scanned = 0, empty = 0;  // a turn's namespaces dumped, skipped (kEmpty)
  std::string problem;
};

double ms_since(std::chrono::steady_clock::time_point t0);
// CPU time of the calling thread, user + kernel: unlike wall time, not
// inflated by other processes taking the CPU (the machine is shared).
double thread_cpu_ms();

double time_turn(ReapCycle& cycle, Seen& seen);
// Each namespace's dump of `query` with its BenchNs scanner, into a sink that counts.
double time_dumps(const Namespaces& nss, const ScanQuery& query, Seen& seen);
// run() up to its decisions, without the cycle: each namespace's dump
// observed into `engine` (observe_dump), the scan finished.
double time_engine(DecisionEngine& engine, const Namespaces& nss, const ScanQuery& query, Seen& seen);
// `command` in every namespace through nsenter --net: the summed wall time
// from spawn to reap; with `in_process`, the summed dump_ms the reference
// reports (spawn, socket open and exit left out), and its records.
double time_spawns(const Namespaces& nss, const std::vector<std::string>& command, double* in_process, Seen& seen);

}  // namespace tcpreap::test
