// probe_round_hold: holds N established, live, idle TCP connections between
// two network namespaces, for the probe round benchmark
// (probe_round_bench.sh): the server ends in the namespace it runs in, the
// client ends in another one.
//
//   probe_round_hold -c CLIENT_NETNS_PATH -s SERVER_ADDR -p PORT
//                    -a CLIENT_ADDR[,CLIENT_ADDR...] [-r READYFILE] N
//
// One listener on SERVER_ADDR:PORT in the namespace it was started in.
// Connection i comes from CLIENT_ADDR[i % K] (IP_BIND_ADDRESS_NO_PORT: the
// source port is picked against the whole 4-tuple, so each client address
// has the client namespace's whole ip_local_port_range), made in the
// namespace of CLIENT_NETNS_PATH (/run/netns/NAME, or /proc/PID/ns/net).
// Nothing is ever sent on a connection: both ends stay idle, and the client
// ends, held open, answer what their kernel answers (a live peer).
//
// Processes: without CAP_SYS_RESOURCE the RLIMIT_NOFILE hard limit (20 000
// here) caps one process, so the connections are split over worker
// processes, each holding both ends of its share. A worker enters the client
// namespace (setns changes only where its new sockets are made) and inherits
// the listener; every accept() follows that worker's own connect(), so a
// worker may accept another's connection, but never waits for one that is
// not coming.
//
// Lifetime: once every worker holds its share, READYFILE (if given) is
// written atomically with one line of figures. SIGTERM (or SIGINT, SIGHUP
// unless ignored) kills the workers by PID, reaps them, then exits 0; a
// worker dying early fails the whole (exit 1). Workers also die with the
// parent (PR_SET_PDEATHSIG). Sockets close with SO_LINGER 0 (RST): no
// TIME-WAIT left behind.

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
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

// An owned file descriptor, closed when it dies.
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

constexpr const char* kUsage =
    "usage: probe_round_hold -c CLIENT_NETNS_PATH -s SERVER_ADDR -p PORT -a CLIENT_ADDR[,...] [-r READYFILE] N";
// Connections opened before their server ends are accepted: far within the
// listener's backlog.
constexpr long kBatch = 64;
// Descriptors besides the connections': stdio, listener, namespace, pipes.
constexpr rlim_t kReserve = 64;

struct Options {
  long connections = 0;
  std::string client_netns;
  in_addr server{};
  int port = 0;
  std::vector<in_addr> clients;
  std::string ready_file;
};

template <typename T>
void set_option(const Fd& fd, int level, int name, const T& value, const char* what) {
  if (::setsockopt(fd.get(), level, name, &value, sizeof value) < 0) fail(what);
}

void abort_on_close(const Fd& fd) { set_option(fd, SOL_SOCKET, SO_LINGER, linger{1, 0}, "SO_LINGER"); }

sockaddr_in ipv4(in_addr address, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr = address;
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

Fd tcp_socket() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) fail("socket");
  return fd;
}

Fd open_listener(const Options& o) {
  Fd fd = tcp_socket();
  set_option(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  abort_on_close(fd);  // inherited by the accepted sockets
  const sockaddr_in a = ipv4(o.server, o.port);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0)
    fail("bind the listener to port " + std::to_string(o.port));
  if (::listen(fd.get(), 4096) < 0) fail("listen");
  return fd;
}

// Opens connections [from, to), both ends, and returns them. The caller is
// in the client namespace; the listener is in the server's.
std::vector<Fd> open_connections(long from, long to, const Fd& listener, const Options& o) {
  std::vector<Fd> held;
  held.reserve(static_cast<size_t>(2 * (to - from)));
  const sockaddr_in dst = ipv4(o.server, o.port);
  for (long batch = from; batch < to; batch += kBatch) {
    const long end = std::min(batch + kBatch, to);
    for (long i = batch; i < end; ++i) {
      Fd client = tcp_socket();
      set_option(client, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1, "IP_BIND_ADDRESS_NO_PORT");
      abort_on_close(client);
      const sockaddr_in src = ipv4(o.clients[static_cast<size_t>(i) % o.clients.size()], 0);
      if (::bind(client.get(), reinterpret_cast<const sockaddr*>(&src), sizeof src) < 0) fail("bind source");
      if (::connect(client.get(), reinterpret_cast<const sockaddr*>(&dst), sizeof dst) < 0)
        fail("connect #" + std::to_string(i));
      held.push_back(std::move(client));
    }
    for (long i = batch; i < end; ++i) {
      Fd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!server) fail("accept");
      held.push_back(std::move(server));
    }
  }
  return held;
}

long connections_per_process() {
  rlimit have{};
  if (::getrlimit(RLIMIT_NOFILE, &have) < 0) fail("getrlimit");
  have.rlim_cur = have.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &have) < 0) fail("setrlimit");
  if (have.rlim_cur <= kReserve * 2) throw std::runtime_error("RLIMIT_NOFILE too small");
  return static_cast<long>((have.rlim_cur - kReserve) / 2);
}

struct Worker {
  pid_t pid = -1;
  Fd ready;  // the worker writes one byte once it holds its share
  long from = 0, to = 0;
  bool is_ready = false;
};

[[noreturn]] void run_worker(const Worker& w, Fd report, const Fd& listener, const Fd& client_ns, const Options& o,
                             const sigset_t& original_mask, pid_t parent) {
  try {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail("PR_SET_PDEATHSIG");
    if (::getppid() != parent) std::_Exit(1);  // the parent died before prctl
    ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
    if (::setns(client_ns.get(), CLONE_NEWNET) < 0) fail("entering the client namespace " + o.client_netns);
    std::vector<Fd> held = open_connections(w.from, w.to, listener, o);
    if (::write(report.get(), "r", 1) != 1) fail("reporting ready");
    report.reset();
    for (;;) ::pause();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "probe_round_hold worker %ld..%ld: %s\n", w.from, w.to - 1, e.what());
    std::_Exit(1);
  }
}

void stop_workers(std::vector<Worker>& workers) {
  for (auto& w : workers)
    if (w.pid > 0) ::kill(w.pid, SIGKILL);
  for (auto& w : workers) {
    if (w.pid <= 0) continue;
    while (::waitpid(w.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    w.pid = -1;
  }
}

bool reap(std::vector<Worker>& workers) {
  bool worker_died = false;
  int status;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
    for (auto& w : workers)
      if (w.pid == pid) {
        std::fprintf(stderr, "probe_round_hold: worker %d (connections %ld..%ld) ended, status %d\n", pid, w.from,
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

in_addr parse_address(const std::string& text) {
  in_addr a{};
  if (::inet_pton(AF_INET, text.c_str(), &a) != 1) throw std::invalid_argument("not an IPv4 address: " + text);
  return a;
}

Options parse(int argc, char** argv) {
  Options o;
  int c;
  while ((c = ::getopt(argc, argv, "c:s:p:a:r:")) != -1) switch (c) {
      case 'c': o.client_netns = optarg; break;
      case 's': o.server = parse_address(optarg); break;
      case 'p': o.port = std::atoi(optarg); break;
      case 'a': {
        std::stringstream list(optarg);
        for (std::string a; std::getline(list, a, ',');) o.clients.push_back(parse_address(a));
        break;
      }
      case 'r': o.ready_file = optarg; break;
      default: throw std::invalid_argument(kUsage);
    }
  if (optind != argc - 1 || o.client_netns.empty() || o.clients.empty() || o.server.s_addr == 0)
    throw std::invalid_argument(kUsage);
  o.connections = std::atol(argv[optind]);
  if (o.connections < 1) throw std::invalid_argument("N must be at least 1");
  if (o.port < 1 || o.port > 65535) throw std::invalid_argument("-p: a port 1..65535");
  return o;
}

int run(const Options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGCHLD, SIG_DFL);
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

  Fd client_ns(::open(o.client_netns.c_str(), O_RDONLY | O_CLOEXEC));
  if (!client_ns) fail("opening " + o.client_netns);
  const long per_process = connections_per_process();
  const long nworkers = (o.connections + per_process - 1) / per_process;
  const long share = (o.connections + nworkers - 1) / nworkers;
  const Fd listener = open_listener(o);

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
      workers.clear();
      run_worker(w, std::move(write_end), listener, client_ns, o, original, self);
    }
    w.pid = pid;
    workers.push_back(std::move(w));
  }

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
        std::fprintf(stderr, "probe_round_hold: signal %u during setup, stopping\n", si.ssi_signo);
        stop_workers(workers);
        return 1;
      }
      reap(workers);
    }
    for (auto& w : workers) {
      if (w.is_ready) continue;
      pollfd probe{w.ready.get(), POLLIN, 0};
      if (::poll(&probe, 1, 0) <= 0) continue;
      char byte = 0;
      if (::read(w.ready.get(), &byte, 1) != 1 || byte != 'r') {
        std::fprintf(stderr, "probe_round_hold: the worker for connections %ld..%ld failed\n", w.from, w.to - 1);
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
                "READY pid=%d connections=%ld client_addresses=%zu workers=%zu setup_s=%.2f rss_total_kib=%ld", self,
                o.connections, o.clients.size(), workers.size(), setup_s, rss);
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
    std::fprintf(stderr, "probe_round_hold: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "probe_round_hold: %s\n", e.what());
    return 1;
  }
}
