// netns_scan_bench: one `namespaces: scan: all` turn (ReapCycle::run over K
// network namespaces, lib/cycle/reap_cycle.h) next to the reference dump run
// once per namespace, and what empty namespaces cost a turn.
//
//   netns_scan_bench [--connections N] [--spreads K,K,...] [--empty E]
//                    [--rounds R] [--reference DIAGDUMP]
//                    (root; N = 100000, K = 1,10,100, E = 100, R = 7)
//
// Spread phases, one per K: K namespaces of its own (trp<pid>l<n>), N
// established loopback connections (2N sockets, both ends in one namespace)
// spread over them by one conn_mass per namespace. One cycle, opened once:
// one policy matching state established, dry run, every namespace added
// with SocketMaker::in. Then one warm-up and R timed rounds of, in an order
// that alternates between rounds:
//   turn       cycle.run(): every namespace's dump, the engine's decisions
//   dumps      the same query's dumps alone: a SocketScanner per namespace
//              (opened once, inside it) and a sink that only counts
//   reference  DIAGDUMP -e in each namespace (nsenter --net=...): its own
//              dump_ms (socket open, spawn and exit left out), summed; and
//              its wall time from spawn to reap
//   spawn      nsenter --net=... /bin/true in each namespace, timed alike:
//              the spawn cost taken off the reference's wall time
// Empty phase: one namespace with N connections loads the host (every dump
// walks the shared established hash), and E empty namespaces (trp<pid>e<n>)
// are measured: a cycle over them whose filter the counters can answer
// (established: every namespace skipped, kEmpty), a cycle whose filter they
// cannot (established + time-wait: every namespace dumped), the dumps alone,
// the reference and the spawn.
// Peak RSS: VmHWM of this process, reset (clear_refs 5) just before the
// cycle is opened, after the dump-only scanners were warmed up; the growth
// is what the cycle and its turns added. Asserts nothing: exit 0 unless
// setup failed (1); a bad command line prints usage, exit 2. Counts that
// differ from what the setup holds are listed between !!! lines. On every
// way out but SIGKILL (then conn_mass dies too and netns_scan_bench.sh
// deletes the namespaces) conn_mass is stopped and reaped and every
// namespace deleted; SIGINT/SIGTERM/SIGHUP stop the run early.

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config_loader.h"
#include "cycle/reap_cycle.h"
#include "diag/socket_scanner.h"
#include "netns/netns_identity.h"
#include "netns/socket_maker.h"
#include "support/child_process.h"
#include "support/netns.h"
#include "support/support_error.h"

#ifndef CONN_MASS_BIN
#error "CONN_MASS_BIN: the conn_mass program (tests/bench/CMakeLists.txt)"
#endif

namespace tcpreap::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Options {
  long connections = 100000;
  std::vector<int> spreads{1, 10, 100};
  int empty = 100;
  int rounds = 7;
  std::string reference;  // diagdump binary; empty: n/a
};

// The policy every turn applies: in scope, never dead (nothing is silent for
// an hour), so the engine decides on every socket and nothing is reaped.
constexpr const char* kConfigTemplate = R"(namespaces:
  scan: all
reap:
  dry_run: true
policies:
  - name: bench
    match:
      states: [STATES]
    dead_when:
      silent_for: 1h
)";

Config load_config(const std::string& states) {
  std::string text = kConfigTemplate;
  text.replace(text.find("STATES"), 6, states);
  ConfigLoad load = load_config_text(text, "netns_scan_bench.yaml");
  if (!load.config) throw SupportError("bench config: " + load.errors.front().to_string());
  return std::move(*load.config);
}

struct Stats {
  double min = 0, median = 0, max = 0;
};

Stats stats_of(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  return {v.front(), v[v.size() / 2], v.back()};
}

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::string format(const Stats& s) {
  char b[96];
  const int d = s.median < 10 ? 2 : 1;
  std::snprintf(b, sizeof b, "%.*f / %.*f / %.*f", d, s.min, d, s.median, d, s.max);
  return b;
}

std::string fixed(double v, int decimals = 1) {
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string load_average() {
  std::istringstream in(read_first_line("/proc/loadavg"));
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// A field of /proc/self/status in KiB (VmRSS, VmHWM).
long status_kib(std::string_view field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':')
      return std::atol(line.c_str() + field.size() + 1);
  return -1;
}

// VmHWM := VmRSS now (Linux 4.0+).
void reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  if (!out.flush()) throw SupportError("resetting the peak RSS (/proc/self/clear_refs)");
}

// TCP sockets allocated on the whole machine ("alloc" in sockstat is global).
long tcp_sockets_allocated() {
  std::ifstream in("/proc/net/sockstat");
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(" alloc ");
    if (line.starts_with("TCP:") && at != std::string::npos) return std::atol(line.c_str() + at + 7);
  }
  return -1;
}

class CountSink final : public SocketSink {
 public:
  void on_socket(const TcpSocket&) override { ++count; }
  void on_restart() override { count = 0; }
  uint64_t count = 0;
};

// One namespace of ours: named, held open, and a scanner made inside it for
// the dumps-alone figure.
struct BenchNs {
  NamedNetns named;
  std::shared_ptr<const UniqueFd> fd;
  NetnsId id;
  std::optional<SocketScanner> scanner;

  explicit BenchNs(char tag) : named(unique_netns_name(tag)) {
    UniqueFd f(::open(path().c_str(), O_RDONLY | O_CLOEXEC));
    if (!f) throw_errno("opening " + path(), errno);
    auto i = read_netns_id(f.get(), path());
    if (!i) throw SupportError(i.error().message());
    id = *i;
    fd = std::make_shared<const UniqueFd>(std::move(f));
    auto s = SocketScanner::open(SocketMaker::in(fd, named.name()));
    if (!s) throw SupportError(s.error().message());
    scanner.emplace(std::move(*s));
  }
  std::string path() const { return "/run/netns/" + named.name(); }
};
using Namespaces = std::vector<std::unique_ptr<BenchNs>>;

Namespaces make_namespaces(int n, char tag) {
  Namespaces out;
  for (int i = 0; i < n && !g_stop; ++i) out.push_back(std::make_unique<BenchNs>(tag));
  return out;
}

// conn_mass holding `connections` in `ns` until it goes: SIGTERM (its
// sockets close with RST), SIGKILL if it does not end.
class ConnMass {
 public:
  ConnMass(const std::string& ns, long connections, std::string ready)
      : ready_(std::move(ready)),
        child_({"ip", "netns", "exec", ns, CONN_MASS_BIN, std::to_string(connections), "-r", ready_}) {}
  ~ConnMass() {
    try {
      if (!child_.running()) return;
      child_.signal(SIGTERM);
      if (!child_.wait_exit(60s)) std::fprintf(stderr, "!!! conn_mass did not stop on SIGTERM; killing it\n");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "!!! stopping conn_mass: %s\n", e.what());
    }  // ~ChildProcess kills and reaps it if it still runs
  }
  bool ready() {
    if (::access(ready_.c_str(), F_OK) == 0) return true;
    if (!child_.running()) throw SupportError("conn_mass ended before it was ready:\n" + child_.output());
    return false;
  }

 private:
  std::string ready_;
  ChildProcess child_;
};

// N connections over `nss`, one conn_mass each; returns once all hold theirs.
std::vector<std::unique_ptr<ConnMass>> load(const Namespaces& nss, long connections, const std::string& dir) {
  std::vector<std::unique_ptr<ConnMass>> masses;
  const long k = static_cast<long>(nss.size());
  for (long i = 0; i < k; ++i) {
    const long share = connections / k + (i < connections % k ? 1 : 0);
    masses.push_back(std::make_unique<ConnMass>(nss[i]->named.name(), share,
                                                dir + "/ready-" + nss[i]->named.name()));
  }
  const auto t0 = Clock::now();
  for (auto& m : masses) {
    while (!g_stop && !m->ready()) {
      if (Clock::now() - t0 > 900s) throw SupportError("conn_mass not ready after 900 s");
      std::this_thread::sleep_for(50ms);
    }
  }
  std::fprintf(stderr, "netns_scan_bench: %ld connections in %ld namespaces ready in %.1f s\n", connections, k,
               ms_since(t0) / 1e3);
  return masses;
}

// Waits (up to 2 min) until the machine's TCP sockets are back near `base`:
// closed sockets and deleted namespaces are freed asynchronously, and any
// left in the shared hash would weigh on the next phase's walks.
void wait_sockets_freed(long base) {
  const auto t0 = Clock::now();
  while (!g_stop && tcp_sockets_allocated() > base + 2000 && Clock::now() - t0 < 120s)
    std::this_thread::sleep_for(200ms);
}

ReapCycle open_cycle(const Config& config, const Namespaces& nss, double& open_ms) {
  CycleOptions options;
  options.dry_run = true;
  ReapCycle cycle = ReapCycle::open_empty(config, options);
  const auto t0 = Clock::now();
  for (const auto& ns : nss) {
    NamespaceInfo info{ns->id, ns->named.name(), {}, false};
    if (auto s = cycle.add_namespace(std::move(info), SocketMaker::in(ns->fd, ns->named.name())); !s)
      throw SupportError("add_namespace: " + s.error().message());
  }
  open_ms = ms_since(t0);
  return cycle;
}

// What one timed item saw in its last round.
struct Seen {
  uint64_t sockets = 0;  // dumped (a turn: ScanStats::sockets summed)
  size_t entries = 0;    // a turn's in-scope entries
  size_t scanned = 0, empty = 0, failed = 0, no_policy = 0;
  int spawn_failures = 0;
  std::string problem;
};

double time_turn(ReapCycle& cycle, Seen& seen) {
  const auto t0 = Clock::now();
  auto r = cycle.run();
  const double ms = ms_since(t0);
  seen = {};
  if (!r) {
    seen.problem = "turn failed: " + r.error().message();
    return ms;
  }
  for (const NamespaceTurn& t : r->namespaces) {
    seen.sockets += t.stats.sockets;
    switch (t.state) {
      case NamespaceTurn::State::kScanned: ++seen.scanned; break;
      case NamespaceTurn::State::kEmpty: ++seen.empty; break;
      case NamespaceTurn::State::kFailed: ++seen.failed; seen.problem = t.error->message(); break;
      case NamespaceTurn::State::kNoPolicy: ++seen.no_policy; break;
    }
  }
  seen.entries = r->entries->size();
  return ms;
}

double time_dumps(const Namespaces& nss, const ScanQuery& query, Seen& seen) {
  seen = {};
  double total = 0;
  for (const auto& ns : nss) {
    CountSink sink;
    const auto t0 = Clock::now();
    auto s = ns->scanner->scan(query, sink);
    total += ms_since(t0);
    if (!s) seen.problem = "dump failed: " + s.error().message();
    seen.sockets += sink.count;
  }
  return total;
}

std::optional<double> number_after(const std::string& text, std::string_view key) {
  const auto at = text.find(key);
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(text.c_str() + at + key.size(), nullptr);
}

// `command` run in every namespace through nsenter, one after another:
// the summed wall time (spawn to reap); with `in_process`, the summed
// dump_ms the reference reports, and its records.
double time_spawns(const Namespaces& nss, const std::vector<std::string>& command, double* in_process, Seen& seen) {
  seen = {};
  double wall = 0;
  if (in_process) *in_process = 0;
  for (const auto& ns : nss) {
    std::vector<std::string> argv{"nsenter", "--net=" + ns->path()};
    argv.insert(argv.end(), command.begin(), command.end());
    const auto t0 = Clock::now();
    ChildProcess child(argv);
    const auto status = child.wait_exit(120s);
    wall += ms_since(t0);
    if (status != 0) {
      ++seen.spawn_failures;
      seen.problem = command.front() + " failed: " + child.output();
      continue;
    }
    if (!in_process) continue;
    const std::string out = child.output();
    const auto dump = number_after(out, "dump_ms="), records = number_after(out, "records=");
    if (!dump || !records) {
      ++seen.spawn_failures;
      seen.problem = "unreadable reference output: " + out;
      continue;
    }
    *in_process += *dump;
    seen.sockets += static_cast<uint64_t>(*records);
  }
  return wall;
}

// Per item, the times of the timed rounds.
struct Series {
  std::vector<double> turn, other_turn, dumps, ref_in_process, ref_wall, spawn, ref_minus_spawn;
  Seen turn_seen, other_turn_seen, dumps_seen, ref_seen, spawn_seen;
};

// Warm-up + R rounds of the items: `cycle`'s turn, `other`'s (when not
// null), the dumps alone, the reference and the spawn.
Series measure(ReapCycle& cycle, ReapCycle* other, const Namespaces& nss, const ScanQuery& query, const Options& o) {
  Series s;
  for (int r = 0; r <= o.rounds && !g_stop; ++r) {
    double turn = 0, other_turn = 0, dumps = 0, ref_in = 0, ref_wall = 0, spawn = 0;
    auto do_turn = [&] {
      turn = time_turn(cycle, s.turn_seen);
      if (other) other_turn = time_turn(*other, s.other_turn_seen);
    };
    auto do_dumps = [&] { dumps = time_dumps(nss, query, s.dumps_seen); };
    auto do_ref = [&] {
      if (!o.reference.empty()) ref_wall = time_spawns(nss, {o.reference, "-e"}, &ref_in, s.ref_seen);
    };
    auto do_spawn = [&] {
      if (!o.reference.empty()) spawn = time_spawns(nss, {"/bin/true"}, nullptr, s.spawn_seen);
    };
    if (r % 2 == 0) {
      do_turn(), do_dumps(), do_ref(), do_spawn();
    } else {
      do_spawn(), do_ref(), do_dumps(), do_turn();
    }
    if (r == 0) continue;  // warm-up
    s.turn.push_back(turn);
    if (other) s.other_turn.push_back(other_turn);
    s.dumps.push_back(dumps);
    s.ref_in_process.push_back(ref_in);
    s.ref_wall.push_back(ref_wall);
    s.spawn.push_back(spawn);
    s.ref_minus_spawn.push_back(ref_wall - spawn);
  }
  return s;
}

std::vector<std::string> g_problems;

void expect(bool ok, const std::string& what) {
  if (!ok) g_problems.push_back(what);
}

void check_seen(const std::string& phase, const char* item, const Seen& seen, uint64_t sockets) {
  expect(seen.problem.empty(), phase + ", " + item + ": " + seen.problem);
  expect(seen.sockets == sockets, phase + ", " + item + ": " + std::to_string(seen.sockets) + " sockets, expected " +
                                      std::to_string(sockets));
}

std::string ratio(double a, double b) { return b > 0 ? fixed(a / b, 2) + "x" : "n/a"; }

struct SpreadRow {
  int k = 0;
  long per_ns = 0;
  Series s;
  double open_ms = 0;
  long rss_before = 0, hwm = 0;
  size_t entries = 0;
  std::string load_before, load_after;
};

SpreadRow spread_phase(int k, const Options& o, const std::string& dir) {
  SpreadRow row;
  row.k = k;
  row.per_ns = 2 * o.connections / k;
  const std::string phase = std::to_string(k) + " namespaces";
  const long base = tcp_sockets_allocated();
  std::fprintf(stderr, "netns_scan_bench: phase %s, %ld sockets\n", phase.c_str(), 2 * o.connections);
  Namespaces nss = make_namespaces(k, 'l');
  {
    auto masses = load(nss, o.connections, dir);
    const Config config = load_config("established");
    auto query = ScanQuery::compile(config.scan_filter());
    if (!query) throw SupportError(query.error().message());
    Seen warm;
    time_dumps(nss, *query, warm);  // the scanners' buffers are resident before the baseline
    row.rss_before = status_kib("VmRSS");
    reset_peak_rss();
    std::optional<ReapCycle> cycle;
    if (!g_stop) cycle.emplace(open_cycle(config, nss, row.open_ms));
    row.load_before = load_average();
    if (cycle) row.s = measure(*cycle, nullptr, nss, *query, o);
    row.load_after = load_average();
    row.hwm = status_kib("VmHWM");
    if (!g_stop) {
      const uint64_t sockets = 2 * static_cast<uint64_t>(o.connections);
      check_seen(phase, "turn", row.s.turn_seen, sockets);
      expect(row.s.turn_seen.scanned == nss.size(), phase + ", turn: " + std::to_string(row.s.turn_seen.scanned) +
                                                        " namespaces dumped");
      expect(row.s.turn_seen.entries == sockets, phase + ", turn: " + std::to_string(row.s.turn_seen.entries) +
                                                     " entries decided");
      check_seen(phase, "dumps", row.s.dumps_seen, sockets);
      if (!o.reference.empty()) {
        check_seen(phase, "reference", row.s.ref_seen, sockets);
        check_seen(phase, "spawn", row.s.spawn_seen, 0);
      }
    }
    row.entries = row.s.turn_seen.entries;
  }  // the cycle, then conn_mass
  nss.clear();
  wait_sockets_freed(base);
  return row;
}

struct EmptyRows {
  Series s;  // turn: the cycle that skips them; other_turn: the one that dumps them
  double skip_open_ms = 0, forced_open_ms = 0;
  std::string load_before, load_after;
};

EmptyRows empty_phase(const Options& o, const std::string& dir) {
  EmptyRows rows;
  const long base = tcp_sockets_allocated();
  const std::string phase = std::to_string(o.empty) + " empty namespaces";
  std::fprintf(stderr, "netns_scan_bench: phase %s, %ld sockets elsewhere\n", phase.c_str(), 2 * o.connections);
  Namespaces loaded = make_namespaces(1, 'l');
  Namespaces nss = make_namespaces(o.empty, 'e');
  {
    auto masses = load(loaded, o.connections, dir);
    const Config skip = load_config("established");
    const Config forced = load_config("established, time-wait");
    auto query = ScanQuery::compile(skip.scan_filter());
    if (!query) throw SupportError(query.error().message());
    std::optional<ReapCycle> skip_cycle, forced_cycle;
    if (!g_stop) skip_cycle.emplace(open_cycle(skip, nss, rows.skip_open_ms));
    if (!g_stop) forced_cycle.emplace(open_cycle(forced, nss, rows.forced_open_ms));
    rows.load_before = load_average();
    if (skip_cycle && forced_cycle) rows.s = measure(*skip_cycle, &*forced_cycle, nss, *query, o);
    rows.load_after = load_average();
    if (!g_stop) {
      const Seen& s = rows.s.turn_seen;
      expect(s.problem.empty() && s.empty == nss.size(),
             phase + ", counters: " + std::to_string(s.empty) + " namespaces skipped " + s.problem);
      const Seen& f = rows.s.other_turn_seen;
      expect(f.problem.empty() && f.scanned == nss.size() && f.sockets == 0,
             phase + ", forced: " + std::to_string(f.scanned) + " namespaces dumped, " + std::to_string(f.sockets) +
                 " sockets " + f.problem);
      check_seen(phase, "dumps", rows.s.dumps_seen, 0);
      if (!o.reference.empty()) check_seen(phase, "reference", rows.s.ref_seen, 0);
    }
  }
  nss.clear();
  loaded.clear();
  wait_sockets_freed(base);
  return rows;
}

void print_spread(const std::vector<SpreadRow>& rows, const Options& o) {
  std::printf("\n%ld established sockets (%ld loopback connections, both ends in one namespace) over K namespaces; "
              "one turn = ReapCycle::run, one policy (state established), dry run.\n"
              "ms per turn over all K namespaces, min / median / max of %d rounds after one warm-up.\n\n",
              2 * o.connections, o.connections, o.rounds);
  std::printf("| K | sockets per ns | tcpreap turn | its dumps alone | turn - dumps | reference dumps (in-process) | "
              "reference wall - spawn | turn / reference | turn / (wall - spawn) | load (1 min) before, after |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  const bool ref = !o.reference.empty();
  for (const SpreadRow& r : rows) {
    const Stats turn = stats_of(r.s.turn), dumps = stats_of(r.s.dumps), in = stats_of(r.s.ref_in_process),
                wall = stats_of(r.s.ref_minus_spawn);
    std::printf("| %d | %ld | %s | %s | %s | %s | %s | %s | %s | %s, %s |\n", r.k, r.per_ns, format(turn).c_str(),
                format(dumps).c_str(), fixed(turn.median - dumps.median).c_str(),
                ref ? format(in).c_str() : "n/a", ref ? format(wall).c_str() : "n/a",
                ref ? ratio(turn.median, in.median).c_str() : "n/a",
                ref ? ratio(turn.median, wall.median).c_str() : "n/a",
                r.load_before.substr(0, r.load_before.find(' ')).c_str(),
                r.load_after.substr(0, r.load_after.find(' ')).c_str());
  }
  std::printf("\n| K | add_namespace, ms per ns | entries decided | RSS before the cycle, KiB | peak RSS with it, KiB "
              "| growth, KiB | spawn (nsenter true) per ns, ms |\n|---|---|---|---|---|---|---|\n");
  for (const SpreadRow& r : rows)
    std::printf("| %d | %.2f | %zu | %ld | %ld | %ld | %s |\n", r.k, r.open_ms / r.k, r.entries, r.rss_before, r.hwm,
                r.hwm - r.rss_before, ref ? fixed(stats_of(r.s.spawn).median / r.k, 2).c_str() : "n/a");
}

void print_empty(const EmptyRows& e, const Options& o) {
  std::printf("\n%d empty namespaces, the host holding %ld sockets in another one; ms per turn over all %d, "
              "min / median / max of %d rounds; load %s -> %s\n\n",
              o.empty, 2 * o.connections, o.empty, o.rounds, e.load_before.c_str(), e.load_after.c_str());
  std::printf("| over the %d empty namespaces | ms per turn | us per namespace (median) |\n|---|---|---|\n", o.empty);
  auto row = [&](const char* what, const std::vector<double>& v) {
    const Stats s = stats_of(v);
    std::printf("| %s | %s | %.0f |\n", what, format(s).c_str(), s.median * 1e3 / o.empty);
  };
  row("turn, counters skip them (state established)", e.s.turn);
  row("turn, dumped (established + time-wait: the counters cannot answer)", e.s.other_turn);
  row("tcpreap's dumps alone (established)", e.s.dumps);
  if (!o.reference.empty()) {
    row("reference dumps, in-process (established)", e.s.ref_in_process);
    row("reference wall - spawn", e.s.ref_minus_spawn);
  }
}

bool parse_number(std::string_view text, long& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && out >= 0;
}

bool parse_spreads(std::string_view text, std::vector<int>& out) {
  out.clear();
  while (!text.empty()) {
    const auto comma = text.find(',');
    long k = 0;
    if (!parse_number(text.substr(0, comma), k) || k < 1 || k > 1000) return false;
    out.push_back(static_cast<int>(k));
    text = comma == std::string_view::npos ? "" : text.substr(comma + 1);
  }
  return !out.empty();
}

int usage() {
  std::fprintf(stderr, "usage: netns_scan_bench [--connections N] [--spreads K,K,...] [--empty E] [--rounds R] "
                       "[--reference DIAGDUMP]\n");
  return 2;
}

int run(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string_view value = argv[++i];
    long n = 0;
    if (arg == "--connections" && parse_number(value, n) && n >= 1) o.connections = n;
    else if (arg == "--empty" && parse_number(value, n) && n <= 1000) o.empty = static_cast<int>(n);
    else if (arg == "--rounds" && parse_number(value, n) && n >= 1 && n <= 1000) o.rounds = static_cast<int>(n);
    else if (arg == "--spreads" && parse_spreads(value, o.spreads)) {}
    else if (arg == "--reference" && !value.empty()) o.reference = value;
    else return usage();
  }
  for (int k : o.spreads)
    if (k > o.connections) return usage();
  if (::geteuid() != 0) {
    std::fprintf(stderr, "netns_scan_bench: needs root (ip netns, setns)\n");
    return 1;
  }
  if (!o.reference.empty() && ::access(o.reference.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "netns_scan_bench: --reference %s is not executable\n", o.reference.c_str());
    return 1;
  }
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_signal);
  rlimit files{};  // 4 descriptors per namespace in the cycle, 2 more here
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }

  char tmpl[] = "/tmp/tcpreap-netnsscan.XXXXXX";
  if (!::mkdtemp(tmpl)) throw_errno("mkdtemp", errno);
  struct RemoveDir {
    std::string path;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } dir{tmpl};

  utsname u{};
  ::uname(&u);
  const std::string start_load = load_average();
  std::vector<SpreadRow> spread;
  for (int k : o.spreads) {
    if (g_stop) break;
    spread.push_back(spread_phase(k, o, dir.path));
  }
  std::optional<EmptyRows> empty;
  if (o.empty > 0 && !g_stop) empty = empty_phase(o, dir.path);

  std::printf("\nnetns_scan_bench: %u cores, Linux %s, load average at start %s, at end %s\n",
              std::thread::hardware_concurrency(), u.release, start_load.c_str(), load_average().c_str());
  std::printf("established hash: %s buckets (net.ipv4.tcp_ehash_entries), tcp_child_ehash_entries %s "
              "(0: every namespace shares it)\n",
              read_first_line("/proc/sys/net/ipv4/tcp_ehash_entries").c_str(),
              read_first_line("/proc/sys/net/ipv4/tcp_child_ehash_entries").c_str());
  std::printf("reference: %s\n", o.reference.empty()
                                      ? "n/a (no --reference)"
                                      : ("`" + o.reference + " -e` per namespace via nsenter --net: its own dump_ms "
                                         "(in-process), and its wall time minus nsenter /bin/true's")
                                            .c_str());
  if (!spread.empty()) print_spread(spread, o);
  if (empty) print_empty(*empty, o);
  if (!g_problems.empty()) {
    std::printf("\n!!!\n");
    for (const auto& p : g_problems) std::printf("%s\n", p.c_str());
    std::printf("!!!\n");
  }
  if (g_stop) std::printf("!!! stopped by a signal before the end\n");
  return 0;
}

}  // namespace
}  // namespace tcpreap::test

int main(int argc, char** argv) {
  try {
    return tcpreap::test::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netns_scan_bench: %s\n", e.what());
    return 1;
  }
}
