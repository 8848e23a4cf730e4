// tcp_socket_count_bench: what reading a namespace's TCP counters
// (lib/netns/tcp_socket_count.h) costs, next to the SOCK_DIAG dump of an
// empty namespace it lets a scan skip, with the host empty and then loaded.
//
//   tcp_socket_count_bench [--connections N] [--rounds R]   (root; N = 10000, R = 20)
//
// Two namespaces of its own: trp<pid>e<k> stays empty, trp<pid>l<k> gets N
// established loopback connections (2N sockets, conn_mass) after the first
// step. Each step measures R rounds after one warm-up round; per round:
//   in_use()        1000 reads of the empty namespace's counters (per read)
//   dump            one ESTABLISHED dump, IPv4 + IPv6, of the empty namespace
//                   (a scanner opened once, inside it)
//   open_in()       10 opens of the empty namespace's counters (per open)
// and, once loaded, the loaded namespace's in_use() and dump for scale.
// Prints min / median / max per figure, the counts read and the sockets
// dumped (the empty namespace's must be 0), and the established hash's
// size: a dump walks every bucket of it, empty or not. Asserts nothing:
// exit 0 unless setup failed (1); a bad command line prints usage, exit 2.
// conn_mass is stopped (SIGTERM, then SIGKILL) and reaped, and both
// namespaces deleted, on every way out but SIGKILL of this process (then
// conn_mass dies too; `ip netns list | grep '^trp<pid>'` shows what is left).

#include <fcntl.h>
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
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "diag/socket_scanner.h"
#include "netns/namespace_sockets.h"
#include "netns/tcp_socket_count.h"
#include "support/child_process.h"
#include "support/netns.h"
#include "support/scan.h"
#include "support/support_error.h"

#ifndef CONN_MASS_BIN
#error "CONN_MASS_BIN: the conn_mass program (tests/bench/CMakeLists.txt)"
#endif

namespace tcpreap::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kDefaultConnections = 10000;
constexpr int kDefaultRounds = 20;
constexpr int kReadsPerRound = 1000;
constexpr int kOpensPerRound = 10;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Stats {
  double min = 0, median = 0, max = 0;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return {};
  return {v.front(), v[v.size() / 2], v.back()};
}

double us_since(Clock::time_point t0, int n = 1) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / n;
}

// One namespace under measurement: its counters and a scanner made inside.
struct Measured {
  NamedNetns ns;
  UniqueFd fd;
  std::optional<TcpSocketCount> count;
  std::optional<SocketScanner> scanner;

  explicit Measured(char tag) : ns(unique_netns_name(tag)) {
    const std::string path = "/run/netns/" + ns.name();
    fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("opening " + path, errno);
    auto c = TcpSocketCount::open_in(fd.get());
    if (!c.ok()) throw SupportError(c.error().message());
    count.emplace(std::move(*c));
    auto s = run_in_namespace(fd.get(), [] { return SocketScanner::open(); });
    if (!s.ok()) throw SupportError(s.error().message());
    scanner.emplace(std::move(*s));
  }
};

struct Figures {
  Stats read_us, dump_ms, open_us;
  uint64_t in_use = 0;
  size_t dumped = 0;
};

Figures measure(Measured& m, const ScanQuery& query, int rounds, bool opens) {
  std::vector<double> reads, dumps, open_times;
  Figures f;
  for (int r = 0; r <= rounds && !g_stop; ++r) {
    auto t0 = Clock::now();
    for (int i = 0; i < kReadsPerRound; ++i) {
      auto n = m.count->in_use();
      if (!n.ok()) throw SupportError(n.error().message());
      f.in_use = *n;
    }
    const double read = us_since(t0, kReadsPerRound);
    t0 = Clock::now();
    f.dumped = scan_sockets(*m.scanner, query).size();
    const double dump = us_since(t0) / 1e3;
    double open = 0;
    if (opens) {
      t0 = Clock::now();
      for (int i = 0; i < kOpensPerRound; ++i) {
        auto c = TcpSocketCount::open_in(m.fd.get());
        if (!c.ok()) throw SupportError(c.error().message());
      }
      open = us_since(t0, kOpensPerRound);
    }
    if (r == 0) continue;  // warm-up
    reads.push_back(read);
    dumps.push_back(dump);
    open_times.push_back(open);
  }
  f.read_us = stats(reads);
  f.dump_ms = stats(dumps);
  f.open_us = stats(open_times);
  return f;
}

void print_row(const char* step, const char* ns, const Figures& f, bool opens) {
  std::printf("| %s | %s | %.2f / %.2f / %.2f | %.2f / %.2f / %.2f | ", step, ns, f.read_us.min, f.read_us.median,
              f.read_us.max, f.dump_ms.min, f.dump_ms.median, f.dump_ms.max);
  if (opens)
    std::printf("%.0f / %.0f / %.0f", f.open_us.min, f.open_us.median, f.open_us.max);
  else
    std::printf("-");
  std::printf(" | %llu | %zu |\n", static_cast<unsigned long long>(f.in_use), f.dumped);
}

// conn_mass in `ns`, until it goes: SIGTERM (it closes its connections with
// RST and reaps its workers), SIGKILL if it does not end.
class ConnMass {
 public:
  ConnMass(const std::string& ns, int connections, const std::string& ready)
      : child_({"ip", "netns", "exec", ns, CONN_MASS_BIN, std::to_string(connections), "-r", ready}) {}
  ~ConnMass() {
    try {
      if (!child_.running()) return;
      child_.signal(SIGTERM);
      if (!child_.wait_exit(30s)) std::fprintf(stderr, "!!! conn_mass did not stop on SIGTERM; killing it\n");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "!!! stopping conn_mass: %s\n", e.what());
    }  // ~ChildProcess kills and reaps it if it still runs
  }
  ChildProcess& child() { return child_; }

 private:
  ChildProcess child_;
};

bool parse_count(std::string_view text, int& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && out >= 0;
}

int usage() {
  std::fprintf(stderr, "usage: tcp_socket_count_bench [--connections N] [--rounds R]\n");
  return 2;
}

int run(int argc, char** argv) {
  int connections = kDefaultConnections, rounds = kDefaultRounds;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    int* target = arg == "--connections" ? &connections : arg == "--rounds" ? &rounds : nullptr;
    if (target == nullptr || i + 1 >= argc || !parse_count(argv[++i], *target)) return usage();
  }
  if (rounds < 1 || connections < 1) return usage();
  if (::geteuid() != 0) {
    std::fprintf(stderr, "tcp_socket_count_bench: needs root (ip netns, setns)\n");
    return 1;
  }
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_signal);

  long ehash = -1;
  std::ifstream("/proc/sys/net/ipv4/tcp_ehash_entries") >> ehash;
  SocketFilter filter;
  filter.states = StateSet::of(TcpState::kEstablished);
  const ScanQuery query = compile_query(filter);

  Measured empty('e');
  Measured loaded('l');
  const Figures quiet = measure(empty, query, rounds, true);

  char tmpl[] = "/tmp/tcpreap-countbench.XXXXXX";
  if (!::mkdtemp(tmpl)) throw_errno("mkdtemp", errno);
  const std::string dir = tmpl;
  struct RemoveDir {
    std::string path;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } remove_dir{dir};
  const std::string ready = dir + "/ready";

  std::optional<Figures> busy, load;
  {
    ConnMass mass(loaded.ns.name(), connections, ready);
    const auto t0 = Clock::now();
    while (!g_stop && ::access(ready.c_str(), F_OK) != 0) {
      if (!mass.child().running())
        throw SupportError("conn_mass ended before it was ready:\n" + mass.child().output());
      if (Clock::now() - t0 > 600s) throw SupportError("conn_mass not ready after 600 s");
      std::this_thread::sleep_for(50ms);
    }
    if (!g_stop) {
      std::ifstream in(ready);
      std::string line;
      std::getline(in, line);
      std::fprintf(stderr, "conn_mass: %s\n", line.c_str());
      busy = measure(empty, query, rounds, true);
      load = measure(loaded, query, rounds, false);
    }
  }

  std::printf("\nestablished hash: %ld buckets (net.ipv4.tcp_ehash_entries, shared by every namespace)\n", ehash);
  std::printf("%d rounds after one warm-up; per round %d reads, 1 dump (ESTABLISHED, IPv4 + IPv6, with tcp_info), "
              "%d opens\n\n",
              rounds, kReadsPerRound, kOpensPerRound);
  std::printf("| host | namespace | in_use() us min / median / max | dump ms min / median / max | "
              "open_in() us min / median / max | in_use | dumped |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  print_row("empty", "empty", quiet, true);
  const std::string loaded_label = std::to_string(2L * connections) + " sockets";
  if (busy) print_row(loaded_label.c_str(), "empty", *busy, true);
  if (load) print_row(loaded_label.c_str(), "loaded", *load, false);
  if (busy && busy->read_us.median > 0)
    std::printf("\nempty namespace on the loaded host: one dump costs %.0f reads of the counters (medians)\n",
                busy->dump_ms.median * 1e3 / busy->read_us.median);
  if (quiet.in_use != 0 || quiet.dumped != 0 || (busy && (busy->in_use != 0 || busy->dumped != 0)))
    std::printf("!!! the empty namespace was not empty\n");
  if (g_stop) std::printf("!!! stopped by a signal before the end\n");
  return 0;
}

}  // namespace
}  // namespace tcpreap::test

int main(int argc, char** argv) {
  try {
    return tcpreap::test::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tcp_socket_count_bench: %s\n", e.what());
    return 1;
  }
}
