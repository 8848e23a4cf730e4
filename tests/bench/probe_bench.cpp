// probe_bench: what LivenessProber::probe() costs over many sockets.
//
//   probe_bench [--connections N] [--rounds R]        (root; N = 1000, R = 5)
//
// A server and a client network namespace joined by a veth (TestHosts), and
// 2N IPv4 connections from client to server: N to "dead" peers, whose ports
// the client host silently drops in both directions (an nftables set), and N
// to live, idle ones. In the server namespace, R rounds of three probe()
// calls over the server ends, as a scan dumps them:
//   all       the 2N sockets, default answer window (300 ms). The dead never
//             answer, so the call watches for the whole window;
//   no watch  the same with answer_window 0: learning the sequence numbers
//             (challenge ACKs) and sending the probes, nothing more;
//   live      the N live ones: the call returns once all have answered.
// One call starts at least 1.1 s after the previous one ended: a socket
// sends one challenge ACK per 500 ms, and a peer answers one probe per
// 500 ms (net.ipv4.tcp_invalid_ratelimit).
//
// Prints the setup and a Markdown table (min / median / max ms per call,
// probes/s at the median, the outcomes) on stdout, progress on stderr.
// Asserts nothing: exit 0 unless setup failed (1) or a signal stopped it
// (128 + signal); outcomes other than the expected ones are listed between
// !!! lines. A bad command line: usage on stderr, exit 2. The namespaces go
// on every exit but SIGKILL (probe_bench.sh removes them even then).

#include <sched.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/command.h"
#include "support/netns.h"
#include "support/privileges.h"
#include "support/scan.h"
#include "support/support_error.h"
#include "support/tcp.h"
#include "verify/liveness_prober.h"

namespace tcpreap::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr int kDefaultConnections = 1000;
constexpr int kDefaultRounds = 5;
// From the end of one probe() to the start of the next: beyond the 500 ms
// per-socket rate limits of both ends (challenge ACK, duplicate ACK).
constexpr auto kSpacing = 1100ms;
// Connections opened before their server ends are accepted: within the
// listener's backlog (64, tcp_listen()).
constexpr int kConnectBatch = 32;
// Descriptors besides the connections' (two per connection, both ends held
// here): listener, scanner, prober, stdio, the pipes of `ip` and `nft`.
constexpr rlim_t kSpareFds = 64;
// The client namespace's ephemeral ports, widened so that one client address
// can open up to 64512 connections to one server port.
constexpr int kFirstPort = 1024, kLastPort = 65535;

constexpr std::array kResults = {ProbeResult::kSent,           ProbeResult::kAnswered, ProbeResult::kPeerReset,
                                 ProbeResult::kGone,           ProbeResult::kNotEstablished,
                                 ProbeResult::kNoAnswer,       ProbeResult::kFailed};

// Indexed by the enum's value.
static_assert(static_cast<size_t>(ProbeResult::kSent) == 0 && static_cast<size_t>(ProbeResult::kFailed) == 6);

// ---- signals: only a flag here; the work checks it and unwinds, so that
// every destructor (sockets, then namespaces) runs.

volatile std::sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

struct Interrupted {
  int signal;
};

void check_interrupt() {
  if (g_signal != 0) throw Interrupted{g_signal};
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

void sleep_until(Clock::time_point until) {
  for (auto now = Clock::now(); now < until; now = Clock::now()) {
    check_interrupt();
    std::this_thread::sleep_for(std::min<Clock::duration>(until - now, 50ms));
  }
  check_interrupt();
}

// ---- command line

struct Options {
  int connections = kDefaultConnections;  // per kind: N dead + N live
  int rounds = kDefaultRounds;
};

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: probe_bench [--connections N] [--rounds R]\n"
               "  --connections N  connections per kind: N to dead peers, N to live idle ones (default %d)\n"
               "  --rounds R       rounds of the three probe() calls, 1.1 s apart (default %d)\n"
               "Run as root: it creates (and removes) two network namespaces.\n",
               kDefaultConnections, kDefaultRounds);
}

std::optional<int> parse_count(std::string_view text, int max) {
  int v = 0;
  const char* end = text.data() + text.size();
  auto [at, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc{} || at != end || v < 1 || v > max) return std::nullopt;
  return v;
}

enum class Parsed { kRun, kHelp, kBad };

Parsed parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") return Parsed::kHelp;
    const auto eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    int* target = name == "--connections" ? &o.connections : name == "--rounds" ? &o.rounds : nullptr;
    if (!target) {
      std::fprintf(stderr, "probe_bench: unknown argument '%s'\n", argv[i]);
      return Parsed::kBad;
    }
    std::string_view value;
    if (eq != std::string_view::npos)
      value = arg.substr(eq + 1);
    else if (i + 1 < argc)
      value = argv[++i];
    auto v = parse_count(value, name == "--rounds" ? 1000 : 1'000'000);
    if (!v) {
      std::fprintf(stderr, "probe_bench: %.*s needs a positive whole number%s, not '%.*s'\n",
                   static_cast<int>(name.size()), name.data(), name == "--rounds" ? " up to 1000" : " up to 1000000",
                   static_cast<int>(value.size()), value.data());
      return Parsed::kBad;
    }
    *target = *v;
  }
  return Parsed::kRun;
}

// ---- limits

// Raises the soft RLIMIT_NOFILE to the hard one; returns the limit in force.
rlim_t raise_fd_limit() {
  rlimit l{};
  if (::getrlimit(RLIMIT_NOFILE, &l) != 0) throw_errno("getrlimit(RLIMIT_NOFILE)", errno);
  if (l.rlim_cur < l.rlim_max) {
    rlimit want = l;
    want.rlim_cur = l.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0)
      l = want;
    else
      std::fprintf(stderr, "probe_bench: raising RLIMIT_NOFILE to %llu: %s, ignoring.\n",
                   static_cast<unsigned long long>(want.rlim_cur), std::strerror(errno));
  }
  return l.rlim_cur;
}

// Caps o.connections to what the fd limit and the client's ports allow;
// returns why it did, or "" when it did not.
std::string cap_connections(Options& o, rlim_t fd_limit) {
  // 2N connections, both ends held here: 4N descriptors.
  const long by_fds = fd_limit == RLIM_INFINITY ? INT_MAX
                      : fd_limit <= kSpareFds   ? 0
                                                : static_cast<long>((fd_limit - kSpareFds) / 4);
  const long by_ports = (kLastPort - kFirstPort + 1) / 2;
  if (o.connections <= by_fds && o.connections <= by_ports) return "";
  const int asked = o.connections;
  std::string why;
  if (by_fds < by_ports) {
    o.connections = static_cast<int>(by_fds);
    why = "RLIMIT_NOFILE " + std::to_string(fd_limit) + " allows " + std::to_string(by_fds) +
          " (4 descriptors per pair of connections, " + std::to_string(kSpareFds) + " spare)";
  } else {
    o.connections = static_cast<int>(by_ports);
    why = "the client's " + std::to_string(kLastPort - kFirstPort + 1) + " ephemeral ports allow " +
          std::to_string(by_ports);
  }
  if (o.connections < 1) throw SupportError("too few file descriptors: " + why);
  return "N capped at " + std::to_string(o.connections) + " (asked " + std::to_string(asked) + "): " + why;
}

// ---- setup

struct Connections {
  std::vector<UniqueFd> client, server;  // the two ends, in no matching order
  std::vector<uint16_t> dead_ports, live_ports;  // client ports
  std::vector<bool> dead;                        // by client port
};

// 2 * per_kind connections from the client host to server:port, accepted in
// batches within the listener's backlog; every second one's peer is to die.
Connections open_connections(const TestHosts& hosts, int listener, uint16_t port, int per_kind) {
  Connections c;
  const int total = 2 * per_kind;
  c.client.reserve(total);
  c.server.reserve(total);
  c.dead.assign(65536, false);
  while (static_cast<int>(c.client.size()) < total) {
    const int batch = std::min(kConnectBatch, total - static_cast<int>(c.client.size()));
    {
      ScopedNetns in(hosts.client());
      for (int i = 0; i < batch; ++i) c.client.push_back(tcp_connect(TestHosts::kServer4, port));
    }
    for (int i = 0; i < batch; ++i) c.server.push_back(tcp_accept(listener));
    check_interrupt();
  }
  for (size_t i = 0; i < c.client.size(); ++i) {
    const uint16_t p = local_endpoint(c.client[i].get()).port;
    (i % 2 ? c.dead_ports : c.live_ports).push_back(p);
    c.dead[p] = i % 2 == 1;
  }
  return c;
}

// The peers on `ports` die silently: the client host drops all TCP to and
// from them, before conntrack. Their sockets stay open, idle.
void kill_peers(const TestHosts& hosts, const std::vector<uint16_t>& ports) {
  std::string elements;
  for (uint16_t p : ports) elements += (elements.empty() ? "" : ", ") + std::to_string(p);
  hosts.client_ns().nft("table inet trpbdead {\n"
                        "  set ports { type inet_service; elements = { " + elements + " } }\n"
                        "  chain in  { type filter hook input  priority -300; tcp dport @ports drop; }\n"
                        "  chain out { type filter hook output priority -300; tcp sport @ports drop; }\n"
                        "}\n");
}

// The server ends of the connections, as a scan sees them.
ScanQuery server_ends(uint16_t port) {
  SocketFilter f;
  f.states = StateSet::of(TcpState::kEstablished);
  f.ipv6 = false;
  f.all_of = {{Condition::local_port(PortRange{port, port})}};
  return compile_query(f);
}

// ---- measuring

struct Case {
  Case(const char* n, milliseconds w, bool live) : name(n), window(w), live_only(live) {}

  const char* name;
  milliseconds window;
  bool live_only;
  size_t sockets = 0;               // per call (the last round's)
  std::vector<double> ms;           // per round: the call
  std::vector<double> out_ms;       // per round: call start to the last probe sent
  std::array<std::vector<size_t>, kResults.size()> counts;  // per result, per round
};

ProbeResult expected(const Case& c, bool dead) {
  if (c.window == 0ms) return ProbeResult::kSent;  // nothing watched, nothing seen
  return dead ? ProbeResult::kSent : ProbeResult::kAnswered;
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Spread {
  double min = 0, median = 0, max = 0;
};

Spread spread(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return {v.front(), n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v.back()};
}

long peak_rss_kib() {
  rusage u{};
  return ::getrusage(RUSAGE_SELF, &u) == 0 ? u.ru_maxrss : -1;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "answered 1000, sent 1000"; a count that differed between rounds as "998..1000".
std::string outcomes_text(const Case& c) {
  std::string text;
  for (size_t r = 0; r < kResults.size(); ++r) {
    if (c.counts[r].empty()) continue;
    const auto [lo, hi] = std::minmax_element(c.counts[r].begin(), c.counts[r].end());
    if (*hi == 0) continue;
    text += (text.empty() ? "" : ", ") + std::string(probe_result_name(kResults[r])) + " " + std::to_string(*lo);
    if (*hi != *lo) text += ".." + std::to_string(*hi);
  }
  return text.empty() ? "-" : text;
}

std::string kernel_release() {
  utsname u{};
  return ::uname(&u) == 0 ? u.release : "?";
}

int cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
}

int run(Options o) {
  if (auto why = missing_privileges()) {
    std::fprintf(stderr, "probe_bench: %s\n", why->c_str());
    return 1;
  }
  install_signal_handlers();
  const std::string capped = cap_connections(o, raise_fd_limit());
  if (!capped.empty()) std::fprintf(stderr, "probe_bench: %s\n", capped.c_str());
  const int n = o.connections;

  const auto setup_start = Clock::now();
  TestHosts hosts;  // declared first: goes last, after every socket in it
  std::fprintf(stderr, "probe_bench: namespaces %s and %s; opening %d connections\n", hosts.server().c_str(),
               hosts.client().c_str(), 2 * n);
  run_checked({"ip", "netns", "exec", hosts.client(), "sysctl", "-q", "-w",
               "net.ipv4.ip_local_port_range=" + std::to_string(kFirstPort) + " " + std::to_string(kLastPort)});
  UniqueFd listener;
  uint16_t port = 0;
  {
    ScopedNetns in(hosts.server());
    listener = tcp_listen(TestHosts::kServer4);
    port = local_endpoint(listener.get()).port;
  }
  Connections conns = open_connections(hosts, listener.get(), port, n);
  kill_peers(hosts, conns.dead_ports);
  const double setup_ms = ms_between(setup_start, Clock::now());
  const long rss_after_setup = peak_rss_kib();

  std::vector<Case> cases = {{"all (dead + live)", ProbeOptions{}.answer_window, false},
                             {"all, no watch", 0ms, false},
                             {"live only", ProbeOptions{}.answer_window, true}};
  std::vector<std::string> odd;  // what did not go as expected
  double open_ms = 0;
  {
    ScopedNetns in(hosts.server());
    SocketScanner scanner = open_scanner();
    const ScanQuery query = server_ends(port);
    const auto opening = Clock::now();
    auto prober = LivenessProber::open();
    open_ms = ms_between(opening, Clock::now());
    if (!prober) throw SupportError(prober.error().message());

    auto next_call = Clock::now();
    for (int round = 1; round <= o.rounds; ++round) {
      std::string progress;
      for (Case& c : cases) {
        std::vector<TcpSocket> sockets = scan_sockets(scanner, query);
        if (sockets.size() != static_cast<size_t>(2 * n))
          odd.push_back("round " + std::to_string(round) + ", " + c.name + ": the scan found " +
                        std::to_string(sockets.size()) + " server ends, not " + std::to_string(2 * n));
        if (c.live_only)
          std::erase_if(sockets, [&](const TcpSocket& s) { return conns.dead[s.remote_port]; });
        ProbeOptions options;
        options.answer_window = c.window;

        sleep_until(next_call);
        const auto start = Clock::now();
        const std::vector<ProbeOutcome> outcomes = prober->probe(sockets, options);
        const auto end = Clock::now();
        next_call = end + kSpacing;

        c.sockets = sockets.size();
        c.ms.push_back(ms_between(start, end));
        Clock::time_point last_out = start;
        std::array<size_t, kResults.size()> count{};
        size_t unexpected = 0;
        std::string example;
        for (size_t i = 0; i < outcomes.size(); ++i) {
          const ProbeOutcome& out = outcomes[i];
          ++count[static_cast<size_t>(out.result)];
          if (probe_was_sent(out.result)) last_out = std::max(last_out, out.sent_at);
          const bool dead = conns.dead[sockets[i].remote_port];
          if (out.result != expected(c, dead) && unexpected++ == 0)
            example = std::string("e.g. peer port ") + std::to_string(sockets[i].remote_port) +
                      (dead ? " (dead): " : " (live): ") + probe_result_name(out.result) + ": " + out.detail;
        }
        for (size_t r = 0; r < kResults.size(); ++r) c.counts[r].push_back(count[r]);
        c.out_ms.push_back(ms_between(start, last_out));
        if (unexpected > 0)
          odd.push_back("round " + std::to_string(round) + ", " + c.name + ": " + std::to_string(unexpected) +
                        " of " + std::to_string(outcomes.size()) + " outcomes not as expected; " + example);
        progress += std::string(progress.empty() ? "" : ", ") + c.name + " " + fixed(c.ms.back(), 1) + " ms";
      }
      std::fprintf(stderr, "probe_bench: round %d/%d: %s\n", round, o.rounds, progress.c_str());
    }
  }

  std::printf("setup: N = %d connections per kind: %d to dead peers + %d to live idle peers = %d server sockets, "
              "IPv4 over a veth between two network namespaces; %d rounds, calls >= %lld ms apart; "
              "kernel %s; nproc %d\n",
              n, n, n, 2 * n, o.rounds, static_cast<long long>(milliseconds(kSpacing).count()),
              kernel_release().c_str(), cpu_count());
  if (!capped.empty()) std::printf("%s\n", capped.c_str());
  std::printf("\n| case | sockets | answer window | min ms | median ms | max ms | probes/s | last probe out, ms | "
              "outcomes per call |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
  for (const Case& c : cases) {
    const Spread s = spread(c.ms);
    const double rate = s.median > 0 ? static_cast<double>(c.sockets) * 1000 / s.median : 0;
    std::printf("| %s | %zu | %lld ms | %s | %s | %s | %s | %s | %s |\n", c.name, c.sockets,
                static_cast<long long>(c.window.count()), fixed(s.min, 1).c_str(), fixed(s.median, 1).c_str(),
                fixed(s.max, 1).c_str(), fixed(rate, 0).c_str(), fixed(spread(c.out_ms).median, 1).c_str(),
                outcomes_text(c).c_str());
  }
  std::printf("\nprobes/s = sockets / median ms. last probe out = median time from the call's start to the last "
              "probe sent (learning + sending). LivenessProber::open() %s ms; setup %s ms; peak RSS %ld KiB "
              "(%ld KiB after setup).\n",
              fixed(open_ms, 2).c_str(), fixed(setup_ms, 0).c_str(), peak_rss_kib(), rss_after_setup);
  if (odd.empty()) {
    std::printf("checks: OK (every live peer answered, every dead one did not)\n");
  } else {
    std::printf("checks: %zu deviations\n", odd.size());
    std::printf("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
    for (const std::string& s : odd) std::printf("!!! %s\n", s.c_str());
    std::printf("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
  }
  std::fflush(stdout);
  std::fprintf(stderr, "probe_bench: removing the namespaces\n");
  return 0;
}

}  // namespace
}  // namespace tcpreap::test

int main(int argc, char** argv) {
  using namespace tcpreap::test;
  Options options;
  switch (parse_args(argc, argv, options)) {
    case Parsed::kHelp:
      usage(stdout);
      return 0;
    case Parsed::kBad:
      usage(stderr);
      return 2;
    case Parsed::kRun:
      break;
  }
  // Every exception unwinds through run(): the sockets close, then the
  // namespaces are deleted, before the message.
  try {
    return run(options);
  } catch (const Interrupted& i) {
    std::fprintf(stderr, "probe_bench: stopped by signal %d; namespaces removed\n", i.signal);
    return 128 + i.signal;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "probe_bench: %s\n", e.what());
    return 1;
  }
}
