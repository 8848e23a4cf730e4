// conn_mass: holds N established loopback TCP connections, both ends (2N
// sockets), for the scan benchmark (scan_bench.sh). Run it inside a network
// namespace of its own: it fills that namespace's socket tables.
//
//   conn_mass N [-6] [-P NPORTS] [-p BASEPORT] [-r READYFILE]
//   conn_mass N -c CLIENT_NETNS_PATH -s SERVER_ADDR -a CLIENT_ADDR[,...] [-P NPORTS] [-p BASEPORT] [-r READYFILE]
//
// Layout: NPORTS listeners on 127.0.0.1:BASEPORT.. (default 10 from 20000).
// Connection i goes to BASEPORT + i % NPORTS from source address 127.1.x.y,
// 1000 connections per source address; IP_BIND_ADDRESS_NO_PORT lets connect()
// pick the source port against the whole 4-tuple, so no ephemeral-port
// exhaustion however large N is.
// -6: IPv6 instead - listeners on [::1]:BASEPORT.. (IPV6_V6ONLY), every
// connection from ::1, its port picked by connect() against the 4-tuple: up
// to the ephemeral range (ip_local_port_range, ~28 000) per listener, so N
// up to ~28 000 x NPORTS.
//
// -c: across two namespaces (probe_round_bench.sh: live idle clients on
// another host) - listeners on SERVER_ADDR:BASEPORT.. in the namespace
// conn_mass runs in, the client ends made in the namespace of
// CLIENT_NETNS_PATH (/run/netns/NAME; each worker enters it: setns changes
// only where its new sockets are made), connection i from
// CLIENT_ADDR[i % K] with IP_BIND_ADDRESS_NO_PORT (each client address has
// the client namespace's whole ip_local_port_range per listener).
//
// Processes: without CAP_SYS_RESOURCE the RLIMIT_NOFILE hard limit (~20 000
// here) caps one process, so the connections are split over worker
// processes that run at the same time, each holding both ends of its share.
// Every accept() follows that worker's own connect() to the same listener, so
// the listeners can be shared: a worker may accept another's connection, but
// never waits for one that is not coming.
//
// Lifetime: once every worker holds its share, READYFILE (if given) is
// written atomically with one line of figures. SIGTERM (or SIGINT, SIGHUP
// unless ignored) kills the workers, reaps them, then exits 0; a worker dying
// early fails the whole (exit 1). Workers also die with the parent
// (PR_SET_PDEATHSIG), however it ends.
// Sockets close with SO_LINGER 0 (RST): no TIME-WAIT left behind.
//
//   g++ -O2 -std=c++20 -o conn_mass conn_mass.cpp

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24  // Linux 4.2+; older libc headers lack it
#endif

namespace {

constexpr long kConnectionsPerSource = 1000;
constexpr long kSourcesPerOctet = 254;  // 127.1.x.1 .. 127.1.x.254
constexpr long kMaxSources = 256 * kSourcesPerOctet;

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

// An owned file descriptor, closed when it dies. No implicit int.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Options {
  bool ipv6 = false;
  long connections = 0;
  int nports = 10;
  int baseport = 20000;
  std::string ready_file;
  // -c: the client ends in another namespace, to SERVER_ADDR from CLIENT_ADDRs.
  std::string client_netns;
  in_addr server{};
  std::vector<in_addr> clients;
  bool remote() const { return !client_netns.empty(); }
};

template <typename T>
void set_option(const Fd& fd, int level, int name, const T& value, const char* what) {
  if (::setsockopt(fd.get(), level, name, &value, sizeof value) < 0) fail(what);
}

// Close with an RST instead of a FIN: no TIME-WAIT once we are gone.
void abort_on_close(const Fd& fd) { set_option(fd, SOL_SOCKET, SO_LINGER, linger{1, 0}, "SO_LINGER"); }

sockaddr_in ipv4(uint32_t host_order_address, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(host_order_address);
  a.sin_port = htons(port);
  return a;
}

sockaddr_in6 ipv6_loopback(uint16_t port) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  a.sin6_port = htons(port);
  return a;
}

Fd tcp_socket(int family = AF_INET) {
  Fd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) fail("socket");
  return fd;
}

std::vector<Fd> open_listeners(const Options& o) {
  std::vector<Fd> listeners;
  for (int p = 0; p < o.nports; ++p) {
    const auto port = static_cast<uint16_t>(o.baseport + p);
    if (o.ipv6) {
      Fd fd = tcp_socket(AF_INET6);
      set_option(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
      set_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY");
      abort_on_close(fd);
      const sockaddr_in6 a = ipv6_loopback(port);
      if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0)
        fail("bind [::1]:" + std::to_string(port));
      if (::listen(fd.get(), SOMAXCONN) < 0) fail("listen");
      listeners.push_back(std::move(fd));
      continue;
    }
    Fd fd = tcp_socket();
    set_option(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
    abort_on_close(fd);  // inherited by the accepted sockets
    const sockaddr_in a =
        ipv4(o.remote() ? ntohl(o.server.s_addr) : INADDR_LOOPBACK, static_cast<uint16_t>(o.baseport + p));
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0)
      fail("bind 127.0.0.1:" + std::to_string(o.baseport + p));
    if (::listen(fd.get(), SOMAXCONN) < 0) fail("listen");
    listeners.push_back(std::move(fd));
  }
  return listeners;
}

// Source address of connection i: 127.1.x.y, y in 1..254.
uint32_t source_of(long i) {
  const long s = i / kConnectionsPerSource;
  return 0x7f010000u | static_cast<uint32_t>(s / kSourcesPerOctet) << 8 |
         static_cast<uint32_t>(s % kSourcesPerOctet + 1);
}

// Opens connections [from, to), both ends, and returns them.
std::vector<Fd> open_connections(long from, long to, const std::vector<Fd>& listeners, const Options& o) {
  std::vector<Fd> held;
  held.reserve(static_cast<size_t>(2 * (to - from)));
  for (long i = from; i < to; ++i) {
    const auto port = static_cast<int>(i % o.nports);
    if (o.ipv6) {
      Fd client = tcp_socket(AF_INET6);
      abort_on_close(client);
      const sockaddr_in6 dst = ipv6_loopback(static_cast<uint16_t>(o.baseport + port));
      if (::connect(client.get(), reinterpret_cast<const sockaddr*>(&dst), sizeof dst) < 0)
        fail("connect #" + std::to_string(i) + " to [::1]:" + std::to_string(o.baseport + port));
      Fd server(::accept4(listeners[static_cast<size_t>(port)].get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!server) fail("accept");
      held.push_back(std::move(client));
      held.push_back(std::move(server));
      continue;
    }
    Fd client = tcp_socket();
    set_option(client, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1, "IP_BIND_ADDRESS_NO_PORT");
    abort_on_close(client);
    const sockaddr_in src =
        ipv4(o.remote() ? ntohl(o.clients[static_cast<size_t>(i) % o.clients.size()].s_addr) : source_of(i), 0);
    if (::bind(client.get(), reinterpret_cast<const sockaddr*>(&src), sizeof src) < 0) fail("bind source");
    const sockaddr_in dst =
        ipv4(o.remote() ? ntohl(o.server.s_addr) : INADDR_LOOPBACK, static_cast<uint16_t>(o.baseport + port));
    if (::connect(client.get(), reinterpret_cast<const sockaddr*>(&dst), sizeof dst) < 0)
      fail("connect #" + std::to_string(i));
    Fd server(::accept4(listeners[static_cast<size_t>(port)].get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!server) fail("accept");
    held.push_back(std::move(client));
    held.push_back(std::move(server));
  }
  return held;
}

// Raises the open-file limit as far as allowed (2N + reserve, else the hard
// limit) and returns how many connections one process may hold.
long connections_per_process(const Options& o) {
  const rlim_t reserve = 64 + static_cast<rlim_t>(o.nports);
  rlimit want{2 * static_cast<rlim_t>(o.connections) + reserve, 2 * static_cast<rlim_t>(o.connections) + reserve};
  if (::setrlimit(RLIMIT_NOFILE, &want) < 0) {  // no CAP_SYS_RESOURCE, or above fs.nr_open
    rlimit have{};
    if (::getrlimit(RLIMIT_NOFILE, &have) < 0) fail("getrlimit");
    have.rlim_cur = have.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &have) < 0) fail("setrlimit");
    want = have;
  }
  // Each worker also inherits the listeners and, briefly, earlier workers' pipes.
  if (want.rlim_cur <= reserve * 2) throw std::runtime_error("RLIMIT_NOFILE too small");
  return static_cast<long>((want.rlim_cur - reserve * 2) / 2);
}

struct Worker {
  pid_t pid = -1;
  Fd ready;  // the worker writes one byte once it holds its share
  long from = 0, to = 0;
  bool is_ready = false;
};

// In the child: hold [from, to) until killed. Never returns.
[[noreturn]] void run_worker(const Worker& w, Fd report, const std::vector<Fd>& listeners, const Fd& client_ns,
                             const Options& o, const sigset_t& original_mask, pid_t parent) {
  try {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail("PR_SET_PDEATHSIG");
    if (::getppid() != parent) std::_Exit(1);  // the parent died before prctl
    ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
    if (o.remote() && ::setns(client_ns.get(), CLONE_NEWNET) < 0) fail("entering " + o.client_netns);
    std::vector<Fd> held = open_connections(w.from, w.to, listeners, o);
    if (::write(report.get(), "r", 1) != 1) fail("reporting ready");
    report.reset();
    for (;;) ::pause();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conn_mass worker %ld..%ld: %s\n", w.from, w.to - 1, e.what());
    std::_Exit(1);
  }
}

void stop_workers(std::vector<Worker>& workers) {
  for (auto& w : workers)
    if (w.pid > 0) ::kill(w.pid, SIGKILL);  // they hold nothing worth a clean exit
  for (auto& w : workers) {
    if (w.pid <= 0) continue;
    while (::waitpid(w.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    w.pid = -1;
  }
}

// Reaps exited children; true if one of them was a worker (it died early).
bool reap(std::vector<Worker>& workers) {
  bool worker_died = false;
  int status;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
    for (auto& w : workers)
      if (w.pid == pid) {
        std::fprintf(stderr, "conn_mass: worker %d (connections %ld..%ld) ended, status %d\n", pid, w.from,
                     w.to - 1, status);
        w.pid = -1;
        worker_died = true;
      }
  return worker_died;
}

long rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

void write_ready_file(const std::string& path, const std::string& line) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << line << '\n';
    if (!f.flush()) throw std::runtime_error("writing " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) < 0) fail("rename " + tmp);
}

Options parse(int argc, char** argv) {
  Options o;
  int c;
  const char* usage =
      "usage: conn_mass N [-6] [-P NPORTS] [-p BASEPORT] [-r READYFILE]\n"
      "       conn_mass N -c CLIENT_NETNS_PATH -s SERVER_ADDR -a CLIENT_ADDR[,...] [-P NPORTS] [-p BASEPORT] [-r READYFILE]";
  auto address = [&](const std::string& text) {
    in_addr a{};
    if (::inet_pton(AF_INET, text.c_str(), &a) != 1) throw std::invalid_argument("not an IPv4 address: " + text);
    return a;
  };
  while ((c = ::getopt(argc, argv, "6P:p:r:c:s:a:")) != -1) switch (c) {
      case '6': o.ipv6 = true; break;
      case 'P': o.nports = std::atoi(optarg); break;
      case 'p': o.baseport = std::atoi(optarg); break;
      case 'r': o.ready_file = optarg; break;
      case 'c': o.client_netns = optarg; break;
      case 's': o.server = address(optarg); break;
      case 'a': {
        std::stringstream list(optarg);
        for (std::string a; std::getline(list, a, ',');) o.clients.push_back(address(a));
        break;
      }
      default: throw std::invalid_argument(usage);
    }
  if (optind != argc - 1) throw std::invalid_argument(usage);
  if (o.remote() && (o.ipv6 || o.server.s_addr == 0 || o.clients.empty()))
    throw std::invalid_argument("-c needs -s and -a, and no -6\n" + std::string(usage));
  if (!o.remote() && (o.server.s_addr != 0 || !o.clients.empty()))
    throw std::invalid_argument("-s and -a go with -c\n" + std::string(usage));
  o.connections = std::atol(argv[optind]);
  if (o.connections < 1 || (o.connections - 1) / kConnectionsPerSource >= kMaxSources)
    throw std::invalid_argument("N must be 1.." + std::to_string(kMaxSources * kConnectionsPerSource));
  if (o.nports < 1 || o.baseport < 1 || o.baseport + o.nports > 65536)
    throw std::invalid_argument("bad -P / -p: ports must fit in 1..65535");
  return o;
}

int run(const Options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  // Signals reach the parent through a signalfd only; workers restore the mask.
  // SIGTERM must not be ignored (it is how we are stopped); SIGINT and SIGHUP
  // keep what we inherited: a shell's background job ignores Ctrl-C.
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGCHLD, SIG_DFL);  // an inherited SIG_IGN would reap workers behind our back
  // An ignored signal must stay out of the blocked set: the kernel queues a
  // blocked signal even when it is ignored, and the signalfd would report it.
  sigset_t handled, original;
  sigemptyset(&handled);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) {
    struct sigaction current {};
    if (::sigaction(s, nullptr, &current) < 0) fail("sigaction");
    if (current.sa_handler != SIG_IGN) sigaddset(&handled, s);
  }
  if (::sigprocmask(SIG_BLOCK, &handled, &original) < 0) fail("sigprocmask");
  Fd signals(::signalfd(-1, &handled, SFD_CLOEXEC));
  if (!signals) fail("signalfd");

  const long per_process = connections_per_process(o);
  const long nworkers = (o.connections + per_process - 1) / per_process;
  const long share = (o.connections + nworkers - 1) / nworkers;
  const std::vector<Fd> listeners = open_listeners(o);
  Fd client_ns;
  if (o.remote()) {
    client_ns = Fd(::open(o.client_netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!client_ns) fail("opening " + o.client_netns);
  }

  std::vector<Worker> workers;
  workers.reserve(static_cast<size_t>(nworkers));
  const pid_t self = ::getpid();
  for (long from = 0; from < o.connections; from += share) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) fail("pipe2");
    Fd read_end(p[0]), write_end(p[1]);
    Worker w{-1, std::move(read_end), from, std::min(from + share, o.connections)};
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int e = errno;
      stop_workers(workers);
      errno = e;
      fail("fork");
    }
    if (pid == 0) {
      w.ready.reset();
      signals.reset();
      workers.clear();  // this child's copies of the other workers' pipes
      run_worker(w, std::move(write_end), listeners, client_ns, o, original, self);
    }
    w.pid = pid;
    workers.push_back(std::move(w));
  }

  // Wait until every worker reports, a worker fails, or we are told to stop.
  size_t ready = 0;
  while (ready < workers.size()) {
    std::vector<pollfd> fds{{signals.get(), POLLIN, 0}};
    for (const auto& w : workers)
      if (!w.is_ready) fds.push_back({w.ready.get(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll");
    }
    if (fds[0].revents) {
      signalfd_siginfo si;
      if (::read(signals.get(), &si, sizeof si) != sizeof si) fail("reading signalfd");
      if (si.ssi_signo != SIGCHLD) {
        std::fprintf(stderr, "conn_mass: signal %u during setup, stopping\n", si.ssi_signo);
        stop_workers(workers);
        return 1;
      }
      reap(workers);  // a dead worker's pipe reports EOF below
    }
    for (auto& w : workers) {
      if (w.is_ready) continue;
      pollfd probe{w.ready.get(), POLLIN, 0};
      if (::poll(&probe, 1, 0) <= 0) continue;
      char byte = 0;
      if (::read(w.ready.get(), &byte, 1) != 1 || byte != 'r') {
        std::fprintf(stderr, "conn_mass: the worker for connections %ld..%ld failed\n", w.from, w.to - 1);
        stop_workers(workers);
        return 1;
      }
      w.is_ready = true;
      w.ready.reset();
      ++ready;
    }
  }

  const double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  long rss = rss_kib(self);
  for (const auto& w : workers) rss += rss_kib(w.pid);
  char line[512];
  std::snprintf(line, sizeof line,
                "READY pid=%d connections=%ld sockets=%ld listeners=%d workers=%zu setup_s=%.2f us_per_conn=%.1f "
                "rss_total_kib=%ld%s%s",
                self, o.connections, 2 * o.connections, o.nports, workers.size(), setup_s,
                setup_s * 1e6 / static_cast<double>(o.connections), rss, o.ipv6 ? " family=ipv6" : "",
                o.remote() ? (" client_addresses=" + std::to_string(o.clients.size())).c_str() : "");
  std::fprintf(stderr, "%s\n", line);
  if (!o.ready_file.empty()) write_ready_file(o.ready_file, line);

  for (;;) {
    signalfd_siginfo si;
    const ssize_t n = ::read(signals.get(), &si, sizeof si);
    if (n < 0 && errno == EINTR) continue;
    if (n != sizeof si) fail("reading signalfd");
    if (si.ssi_signo == SIGCHLD) {
      if (!reap(workers)) continue;
      stop_workers(workers);
      return 1;
    }
    stop_workers(workers);
    return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "conn_mass: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conn_mass: %s\n", e.what());
    return 1;
  }
}
