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
// spread over them by one conn_mass per namespace. One cycle: one policy
// matching state established, dry run, every namespace added with
// SocketMaker::in. Then one warm-up and R timed rounds of these items, in an
// order that alternates between rounds:
//   turn       cycle.run()
//   dumps      the same query's dumps alone: a SocketScanner per namespace
//              (opened once, inside it) and a sink that only counts; the
//              families the namespace's counters show empty left out, as
//              the turn leaves them out (netns/dump_families.h)
//   engine     those dumps observed into a DecisionEngine of the bench's own
//              with the daemon's retention (observe_dump, finish_scan):
//              run() up to its decisions, so that turn - engine is the
//              cycle's own work
//   reference  DIAGDUMP -e in each namespace (nsenter --net=...; both
//              families, as a hand-written scanner dumps them): its own
//              dump_ms (spawn, socket open and exit left out), summed; and
//              its wall time from spawn to reap
//   spawn      nsenter --net=... /bin/true in each namespace, timed alike:
//              taken off the reference's wall time, round by round
// Empty phase: one namespace with N connections loads the host (every dump
// walks the shared established hash) and E empty namespaces (trp<pid>e<n>)
// are measured: a cycle over them whose filter the counters can answer
// (established: each skipped, kEmpty), one whose filter they cannot
// (established + time-wait: each dumped), the dumps alone, the reference and
// the spawn.
// The turn, dumps and engine items also record the measuring thread's CPU
// time (user + kernel): the breakdown of a turn is read from it, as other
// processes on the machine inflate wall times. Each phase measures in a
// child process of its own (forked_measurement.h), so that its peak RSS
// owes nothing to an earlier phase's heap: VmHWM after the cycle was opened
// and made two turns (the first fills the engine's history, the second is
// the steady state), before the bench's own engine exists.
// Asserts nothing: exit 0 unless setup failed (1); a bad command line prints
// usage, exit 2. Counts that differ from what the setup holds are listed
// between !!! lines. On every way out but SIGKILL (then conn_mass dies too
// and netns_scan_bench.sh deletes the namespaces) conn_mass is stopped and
// reaped and every namespace deleted; SIGINT/SIGTERM/SIGHUP stop early.

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
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
#include "conn_mass_load.h"
#include "cycle/reap_cycle.h"
#include "forked_measurement.h"
#include "netns_scan_items.h"
#include "support/support_error.h"

namespace tcpreap::test {
namespace {

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

// 2 decimals below 10, else 1.
std::string number(double v) {
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", std::abs(v) < 10 ? 2 : 1, v);
  return b;
}

std::string format(const Stats& s) { return number(s.min) + " / " + number(s.median) + " / " + number(s.max); }

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
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

enum Item : int { kTurn, kOtherTurn, kDumps, kEngine, kReference, kReferenceWall, kSpawn, kItems };
constexpr int kMaxRounds = 1000;

// What a phase's measuring child hands back, in shared memory: plain data.
struct Measured {
  int rounds = 0;  // timed rounds done
  double open_ms = 0;
  long rss_before = 0, hwm = 0;
  uint64_t entries = 0;
  char load_before[16] = {}, load_after[16] = {};
  char problems[4096] = {};  // one per line
  double ms[kItems][kMaxRounds] = {};
  double cpu_ms[kItems][kMaxRounds] = {};  // this thread's, for the items run in this process

  std::vector<double> series(Item i) const { return {ms[i], ms[i] + rounds}; }
  std::vector<double> cpu_series(Item i) const { return {cpu_ms[i], cpu_ms[i] + rounds}; }
  void expect(bool ok, const std::string& what) {
    const size_t used = std::strlen(problems);
    if (!ok) std::snprintf(problems + used, sizeof problems - used, "%s\n", what.c_str());
  }
  void note_load(char (&into)[16]) {
    std::istringstream in(read_first_line("/proc/loadavg"));
    std::string one;
    in >> one;
    std::snprintf(into, sizeof into, "%s", one.c_str());
  }
};

// Warm-up + R rounds of the items, in an order that alternates between
// rounds: `cycle`'s turn (and `other`'s), the dumps alone, the dumps into an
// engine (`with_engine`), the reference, the spawn. `seen`: the last round's.
void measure(ReapCycle& cycle, ReapCycle* other, bool with_engine, const Namespaces& nss, const ScanQuery& query,
             const Options& o, Measured& m, Seen (&seen)[kItems]) {
  DecisionEngine engine(cycle.config());
  engine.set_retain(DecisionEngine::Retain::kActionable);  // as the cycle's, the daemon's
  const bool ref = !o.reference.empty();
  m.note_load(m.load_before);
  for (int r = 0; r <= o.rounds && !g_stop; ++r) {
    double t[kItems] = {}, cpu[kItems] = {};
    auto on_cpu = [&](Item i, auto&& timed) {
      const double c0 = thread_cpu_ms();
      t[i] = timed();
      cpu[i] = thread_cpu_ms() - c0;
    };
    auto turns = [&] {
      on_cpu(kTurn, [&] { return time_turn(cycle, seen[kTurn]); });
      if (other) on_cpu(kOtherTurn, [&] { return time_turn(*other, seen[kOtherTurn]); });
    };
    auto dumps = [&] {
      on_cpu(kDumps, [&] { return time_dumps(nss, query, seen[kDumps]); });
      if (with_engine) on_cpu(kEngine, [&] { return time_engine(engine, nss, query, seen[kEngine]); });
    };
    auto reference = [&] {
      if (ref) t[kReferenceWall] = time_spawns(nss, {o.reference, "-e"}, &t[kReference], seen[kReference]);
    };
    auto spawn = [&] {
      if (ref) t[kSpawn] = time_spawns(nss, {"/bin/true"}, nullptr, seen[kSpawn]);
    };
    if (r % 2 == 0) {
      turns(), dumps(), reference(), spawn();
    } else {
      spawn(), reference(), dumps(), turns();
    }
    if (r == 0) continue;  // warm-up
    for (int i = 0; i < kItems; ++i) {
      m.ms[i][r - 1] = t[i];
      m.cpu_ms[i][r - 1] = cpu[i];
    }
    m.rounds = r;
  }
  m.note_load(m.load_after);
}

void expect_seen(Measured& m, const std::string& what, const Seen& seen, uint64_t sockets) {
  m.expect(seen.problem.empty(), what + ": " + seen.problem);
  m.expect(seen.sockets == sockets,
           what + ": " + std::to_string(seen.sockets) + " sockets, expected " + std::to_string(sockets));
}

void spread_body(const Namespaces& nss, uint64_t sockets, const Options& o, Measured& m) {
  const Config config = load_config("established");
  const ScanQuery query = query_of(config);
  Seen seen[kItems];
  time_dumps(nss, query, seen[kDumps]);  // the bench's scanners' buffers go into the baseline
  m.rss_before = status_kib("VmRSS");
  reset_peak_rss();
  ReapCycle cycle = open_cycle(config, nss, m.open_ms);
  for (int i = 0; i < 2; ++i) time_turn(cycle, seen[kTurn]);
  m.hwm = status_kib("VmHWM");
  measure(cycle, nullptr, true, nss, query, o, m, seen);
  m.entries = seen[kTurn].entries;
  if (m.rounds == 0) return;
  const std::string k = std::to_string(nss.size()) + " namespaces";
  expect_seen(m, k + ", turn", seen[kTurn], sockets);
  m.expect(seen[kTurn].scanned == nss.size(), k + ", turn: " + std::to_string(seen[kTurn].scanned) + " dumped");
  m.expect(seen[kTurn].entries == sockets, k + ", turn: " + std::to_string(seen[kTurn].entries) + " decided");
  expect_seen(m, k + ", dumps", seen[kDumps], sockets);
  expect_seen(m, k + ", engine", seen[kEngine], sockets);
  if (!o.reference.empty()) {
    expect_seen(m, k + ", reference", seen[kReference], sockets);
    expect_seen(m, k + ", spawn", seen[kSpawn], 0);
  }
}

void empty_body(const Namespaces& nss, const Options& o, Measured& m) {
  const Config skip = load_config("established"), forced = load_config("established, time-wait");
  const ScanQuery query = query_of(skip);
  double forced_open_ms = 0;
  ReapCycle skip_cycle = open_cycle(skip, nss, m.open_ms), forced_cycle = open_cycle(forced, nss, forced_open_ms);
  Seen seen[kItems];
  measure(skip_cycle, &forced_cycle, false, nss, query, o, m, seen);
  if (m.rounds == 0) return;
  const Seen& s = seen[kTurn];
  const Seen& f = seen[kOtherTurn];
  m.expect(s.problem.empty() && s.empty == nss.size(),
           "counters: " + std::to_string(s.empty) + " skipped " + s.problem);
  m.expect(f.problem.empty() && f.scanned == nss.size() && f.sockets == 0,
           "forced: " + std::to_string(f.scanned) + " dumped, " + std::to_string(f.sockets) + " sockets " + f.problem);
  expect_seen(m, "empty, dumps", seen[kDumps], 0);
  if (!o.reference.empty()) expect_seen(m, "empty, reference", seen[kReference], 0);
}

struct Phase {
  int k = 0;  // loaded namespaces; 0: the empty phase
  std::unique_ptr<Measured> m;
};

Phase spread_phase(int k, const Options& o, const std::string& dir) {
  const long base = tcp_sockets_allocated();
  std::fprintf(stderr, "netns_scan_bench: %ld sockets over %d namespaces\n", 2 * o.connections, k);
  Phase phase{k, nullptr};
  {
    Namespaces nss = make_namespaces(k, 'l', g_stop);
    ConnMassLoad load(names_of(nss), o.connections, dir, g_stop);
    if (!g_stop)
      phase.m = run_forked<Measured>(
          [&](Measured& m) { spread_body(nss, 2 * static_cast<uint64_t>(o.connections), o, m); }, g_stop);
  }  // conn_mass, then the namespaces
  wait_tcp_sockets_freed(base, g_stop);
  return phase;
}

Phase empty_phase(const Options& o, const std::string& dir) {
  const long base = tcp_sockets_allocated();
  std::fprintf(stderr, "netns_scan_bench: %d empty namespaces, %ld sockets in another\n", o.empty, 2 * o.connections);
  Phase phase{0, nullptr};
  {
    Namespaces loaded = make_namespaces(1, 'l', g_stop);
    Namespaces nss = make_namespaces(o.empty, 'e', g_stop);
    ConnMassLoad load(names_of(loaded), o.connections, dir, g_stop);
    if (!g_stop) phase.m = run_forked<Measured>([&](Measured& m) { empty_body(nss, o, m); }, g_stop);
  }
  wait_tcp_sockets_freed(base, g_stop);
  return phase;
}

std::vector<double> per_namespace(std::vector<double> v, int k) {
  for (double& x : v) x /= k;
  return v;
}

// a[i] - b[i], round by round: the items of a round ran one after another.
std::vector<double> paired_difference(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d.push_back(a[i] - b[i]);
  return d;
}

std::string ratio(double a, double b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", b > 0 ? a / b : 0.0);
  return b > 0 ? buf : "n/a";
}

void print_spread(const std::vector<Phase>& phases, const Options& o) {
  const bool ref = !o.reference.empty();
  std::printf(
      "\n%ld established sockets (%ld loopback connections, both ends in one namespace) over K namespaces; "
      "a turn = ReapCycle::run, one policy (state established), dry run.\n"
      "ms per turn over all K namespaces, min / median / max of %d rounds after one warm-up.\n\n"
      "| K | sockets per ns | tcpreap turn | reference dumps (in-process) | turn / reference | "
      "reference wall - spawn | turn / (wall - spawn) | peak RSS, KiB | load (1 min) before, after |\n"
      "|---|---|---|---|---|---|---|---|---|\n",
      2 * o.connections, o.connections, o.rounds);
  for (const Phase& p : phases) {
    const Measured& m = *p.m;
    const Stats turn = stats_of(m.series(kTurn)), in = stats_of(m.series(kReference)),
                wall = stats_of(paired_difference(m.series(kReferenceWall), m.series(kSpawn)));
    std::printf("| %d | %ld | %s | %s | %s | %s | %s | %ld | %s, %s |\n", p.k, 2 * o.connections / p.k,
                format(turn).c_str(), ref ? format(in).c_str() : "n/a",
                ref ? ratio(turn.median, in.median).c_str() : "n/a", ref ? format(wall).c_str() : "n/a",
                ref ? ratio(turn.median, wall.median).c_str() : "n/a", m.hwm, m.load_before, m.load_after);
  }
  std::printf(
      "\nWhere a turn's time goes: CPU time of the measuring thread (user + kernel), ms per turn, min / median / "
      "max; differences taken round by round.\n\n| K | tcpreap's dumps alone | dumps into an engine | "
      "engine = that - dumps | turn | cycle's own = turn - engine | cycle's own per namespace, us |\n"
      "|---|---|---|---|---|---|---|\n");
  for (const Phase& p : phases) {
    const Measured& m = *p.m;
    const Stats own = stats_of(paired_difference(m.cpu_series(kTurn), m.cpu_series(kEngine)));
    std::printf("| %d | %s | %s | %s | %s | %s | %.0f |\n", p.k, format(stats_of(m.cpu_series(kDumps))).c_str(),
                format(stats_of(m.cpu_series(kEngine))).c_str(),
                format(stats_of(paired_difference(m.cpu_series(kEngine), m.cpu_series(kDumps)))).c_str(),
                format(stats_of(m.cpu_series(kTurn))).c_str(), format(own).c_str(), own.median * 1e3 / p.k);
  }
  std::printf(
      "\n| K | add_namespace, ms per ns | entries decided | RSS before the cycle, KiB | peak RSS with it, KiB "
      "| spawn (nsenter true) per ns, ms |\n|---|---|---|---|---|---|\n");
  for (const Phase& p : phases)
    std::printf("| %d | %.2f | %llu | %ld | %ld | %s |\n", p.k, p.m->open_ms / p.k,
                static_cast<unsigned long long>(p.m->entries), p.m->rss_before, p.m->hwm,
                o.reference.empty() ? "n/a" : format(stats_of(per_namespace(p.m->series(kSpawn), p.k))).c_str());
}

void print_empty(const Measured& m, const Options& o) {
  std::printf(
      "\n%d empty namespaces, the host holding %ld sockets in another one; ms per turn over all %d, "
      "min / median / max of %d rounds; load (1 min) %s -> %s\n\n"
      "| over the %d empty namespaces | ms per turn | us per namespace (median) | CPU ms per turn (median) |\n"
      "|---|---|---|---|\n",
      o.empty, 2 * o.connections, o.empty, o.rounds, m.load_before, m.load_after, o.empty);
  auto row = [&](const char* what, const std::vector<double>& v, std::optional<Item> cpu) {
    const Stats s = stats_of(v);
    std::printf("| %s | %s | %.0f | %s |\n", what, format(s).c_str(), s.median * 1e3 / o.empty,
                cpu ? number(stats_of(m.cpu_series(*cpu)).median).c_str() : "-");
  };
  row("turn, counters skip them (state established)", m.series(kTurn), kTurn);
  row("turn, dumped (established + time-wait: the counters cannot answer)", m.series(kOtherTurn), kOtherTurn);
  row("tcpreap's dumps alone (established)", m.series(kDumps), kDumps);
  if (o.reference.empty()) return;
  row("reference dumps, in-process (established)", m.series(kReference), std::nullopt);
  row("reference wall - spawn", paired_difference(m.series(kReferenceWall), m.series(kSpawn)), std::nullopt);
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
  std::fprintf(stderr,
               "usage: netns_scan_bench [--connections N] [--spreads K,K,...] [--empty E] [--rounds R] "
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
    const bool number = parse_number(value, n);
    if (arg == "--connections" && number && n >= 1) {
      o.connections = n;
    } else if (arg == "--empty" && number && n <= 1000) {
      o.empty = static_cast<int>(n);
    } else if (arg == "--rounds" && number && n >= 1 && n <= kMaxRounds) {
      o.rounds = static_cast<int>(n);
    } else if (arg == "--reference" && !value.empty()) {
      o.reference = value;
    } else if (arg != "--spreads" || !parse_spreads(value, o.spreads)) {
      return usage();
    }
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
  struct sigaction stop {};
  stop.sa_handler = on_signal;  // no SA_RESTART: a signal ends a wait for the measuring child
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &stop, nullptr);
  rlimit files{};  // 4 descriptors per namespace in a cycle, 2 more here
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

  const std::string start_load = read_first_line("/proc/loadavg");
  std::vector<Phase> spread;
  for (size_t i = 0; i < o.spreads.size() && !g_stop; ++i) spread.push_back(spread_phase(o.spreads[i], o, dir.path));
  std::optional<Phase> empty;
  if (o.empty > 0 && !g_stop) empty = empty_phase(o, dir.path);

  utsname u{};
  ::uname(&u);
  std::printf(
      "\nnetns_scan_bench: %u cores, Linux %s; /proc/loadavg at start %s, at end %s\n"
      "established hash: %s buckets (net.ipv4.tcp_ehash_entries), tcp_child_ehash_entries %s "
      "(0: every namespace shares it)\nreference: %s\n",
      std::thread::hardware_concurrency(), u.release, start_load.c_str(), read_first_line("/proc/loadavg").c_str(),
      read_first_line("/proc/sys/net/ipv4/tcp_ehash_entries").c_str(),
      read_first_line("/proc/sys/net/ipv4/tcp_child_ehash_entries").c_str(),
      o.reference.empty() ? "n/a (no --reference)"
                          : ("`" + o.reference +
                             " -e` once per namespace through nsenter --net: its own "
                             "dump_ms (in-process), and its wall time minus that of nsenter /bin/true")
                                .c_str());
  if (!spread.empty()) print_spread(spread, o);
  if (empty) print_empty(*empty->m, o);
  std::string problems;
  for (const Phase& p : spread) problems += p.m->problems;
  if (empty) problems += empty->m->problems;
  if (!problems.empty()) std::printf("\n!!!\n%s!!!\n", problems.c_str());
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
