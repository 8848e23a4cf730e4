// netns_discovery_bench: what discover_namespaces() costs on a host with
// many processes and many network namespaces.
//
//   netns_discovery_bench [--processes N] [--namespaces M] [--rounds R]
//                                            (root; N = 10000, M = 100, R = 10)
//
// Three steps, each measured over R calls after one warm-up call:
//   baseline      the machine as it is
//   +processes    N more processes: children of this one, sleeping in its
//                 namespace (forked in batches; N is lowered to fit pid_max
//                 and threads-max with a margin, and says so)
//   +namespaces   M more namespaces on top: M children that unshare() one
//                 each; every other one also bound into /run/netns as
//                 trp<pid>b<n> (`ip netns attach`), so both the bound and the
//                 process-only paths are walked
// Prints, per step, the wall time and the CPU time (user + system of this
// process: the walk's syscalls are its own) of one call, min / median / max,
// and what the call found. Asserts nothing: exit 0 unless setup failed (1);
// a bad command line prints usage, exit 2. Every child is killed (SIGKILL)
// and reaped by PID and every bound name deleted on the way out, also after
// SIGINT/SIGTERM/SIGHUP (which stop the run early). After a SIGKILL of the
// benchmark its children die too (PR_SET_PDEATHSIG); bound names then stay:
// `ip netns list | grep '^trp<pid>b'` and `ip netns del` them.

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "netns/netns_discovery.h"
#include "support/command.h"

namespace tcpreap::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kDefaultProcesses = 10000;
constexpr int kDefaultNamespaces = 100;
constexpr int kDefaultRounds = 10;
constexpr int kForkBatch = 500;
// PIDs and tasks left for the rest of the machine (a CI run may share it).
constexpr long kPidMargin = 2000;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

long read_long(const char* path) {
  long v = -1;
  std::ifstream(path) >> v;
  return v;
}

long count_processes() {
  long n = 0;
  auto d = discover_namespaces();
  if (d.ok()) n = d->processes;
  return n;
}

double cpu_ms() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

struct Stats {
  double min = 0, median = 0, max = 0;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return {};
  return {v.front(), v[v.size() / 2], v.back()};
}

struct Step {
  std::string label;
  Stats wall, cpu;
  size_t namespaces = 0;
  unsigned processes = 0;
  unsigned skipped = 0;
};

Step measure(const std::string& label, int rounds) {
  Step step{label, {}, {}, 0, 0, 0};
  std::vector<double> wall, cpu;
  for (int i = 0; i <= rounds && !g_stop; ++i) {
    const double c0 = cpu_ms();
    const auto t0 = Clock::now();
    auto d = discover_namespaces();
    const auto t1 = Clock::now();
    const double c1 = cpu_ms();
    if (!d.ok()) {
      std::fprintf(stderr, "!!! discover_namespaces: %s\n", d.error().message().c_str());
      continue;
    }
    step.namespaces = d->namespaces.size();
    step.processes = d->processes;
    const DiscoverySkips& s = d->skipped;
    step.skipped = s.gone.count + s.denied.count + s.not_netns.count + s.failed.count;
    if (i == 0) continue;  // warm-up: dentries and inode caches
    wall.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    cpu.push_back(c1 - c0);
  }
  step.wall = stats(wall);
  step.cpu = stats(cpu);
  std::fprintf(stderr, "%s: done\n", label.c_str());
  return step;
}

// Children of this process, each killed and reaped by PID when it goes: a
// PID stays ours until we reap it, so it cannot name another process.
class Children {
 public:
  ~Children() { stop_all(); }

  // A child sleeping in this process's namespace; false when fork fails.
  bool add_sleeper() {
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      for (;;) ::pause();
    }
    pids_.push_back(pid);
    return true;
  }

  // A child sleeping in a new network namespace; its PID, or -1 with errno.
  pid_t add_unshared() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return -1;
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int err = errno;
      ::close(p[0]);
      ::close(p[1]);
      errno = err;
      return -1;
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      int err = ::unshare(CLONE_NEWNET) == 0 ? 0 : errno;
      (void)!::write(p[1], &err, sizeof err);
      if (err != 0) ::_exit(1);
      for (;;) ::pause();
    }
    pids_.push_back(pid);
    ::close(p[1]);
    int err = 0;
    if (::read(p[0], &err, sizeof err) != static_cast<ssize_t>(sizeof err)) err = EPIPE;
    ::close(p[0]);
    if (err != 0) {
      errno = err;
      return -1;
    }
    return pid;
  }

  size_t size() const { return pids_.size(); }

  void stop_all() {
    for (pid_t pid : pids_) ::kill(pid, SIGKILL);
    for (pid_t pid : pids_)
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    pids_.clear();
  }

 private:
  std::vector<pid_t> pids_;
};

// Names bound with `ip netns attach`, deleted by name when it goes.
class BoundNames {
 public:
  ~BoundNames() {
    for (const std::string& name : names_) {
      CommandResult r = run_command({"ip", "netns", "del", name});
      if (r.exit_code != 0) std::fprintf(stderr, "warning: %s\n", r.describe({"ip", "netns", "del", name}).c_str());
    }
  }
  bool attach(const std::string& name, pid_t pid) {
    CommandResult r = run_command({"ip", "netns", "attach", name, std::to_string(pid)});
    if (r.exit_code != 0) {
      std::fprintf(stderr, "%s\n", r.describe({"ip", "netns", "attach", name, std::to_string(pid)}).c_str());
      return false;
    }
    names_.push_back(name);
    return true;
  }

 private:
  std::vector<std::string> names_;
};

bool parse_count(std::string_view text, int& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && out >= 0;
}

int usage() {
  std::fprintf(stderr, "usage: netns_discovery_bench [--processes N] [--namespaces M] [--rounds R]\n");
  return 2;
}

int run(int argc, char** argv) {
  int processes = kDefaultProcesses, namespaces = kDefaultNamespaces, rounds = kDefaultRounds;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    int* target = arg == "--processes"    ? &processes
                  : arg == "--namespaces" ? &namespaces
                  : arg == "--rounds"     ? &rounds
                                          : nullptr;
    if (target == nullptr || i + 1 >= argc || !parse_count(argv[++i], *target)) return usage();
  }
  if (rounds < 1) return usage();
  if (::geteuid() != 0) {
    std::fprintf(stderr, "netns_discovery_bench: needs root (unshare, ip netns attach, every /proc/PID/ns/net)\n");
    return 1;
  }
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_signal);

  const long pid_max = read_long("/proc/sys/kernel/pid_max");
  const long threads_max = read_long("/proc/sys/kernel/threads-max");
  rlimit nproc{};
  ::getrlimit(RLIMIT_NPROC, &nproc);
  const long existing = count_processes();
  const long room = std::min(pid_max, threads_max) - existing - kPidMargin - namespaces;
  std::printf("pid_max %ld, threads-max %ld, RLIMIT_NPROC %s (root is exempt), processes before: %ld\n", pid_max,
              threads_max, nproc.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(nproc.rlim_cur).c_str(),
              existing);
  if (processes > room) {
    std::printf("!!! lowering --processes from %d to %ld to leave %ld PIDs to the machine\n", processes, room,
                kPidMargin);
    processes = static_cast<int>(std::max(0L, room));
  }

  std::vector<Step> steps;
  steps.push_back(measure("baseline", rounds));

  Children children;
  const auto f0 = Clock::now();
  for (int i = 0; i < processes && !g_stop; ++i) {
    if (!children.add_sleeper()) {
      std::fprintf(stderr, "!!! fork after %zu children: %s\n", children.size(), std::strerror(errno));
      break;
    }
    if ((i + 1) % kForkBatch == 0) std::fprintf(stderr, "%d children\n", i + 1);
  }
  const double fork_s = std::chrono::duration<double>(Clock::now() - f0).count();
  const size_t sleepers = children.size();
  if (!g_stop) steps.push_back(measure("+" + std::to_string(sleepers) + " processes", rounds));

  BoundNames bound;
  int made = 0, attached = 0;
  for (int i = 0; i < namespaces && !g_stop; ++i) {
    const pid_t pid = children.add_unshared();
    if (pid < 0) {
      std::fprintf(stderr, "!!! namespace child %d: %s\n", i, std::strerror(errno));
      break;
    }
    ++made;
    if (i % 2 == 0 && bound.attach("trp" + std::to_string(::getpid()) + "b" + std::to_string(i), pid)) ++attached;
  }
  if (!g_stop) steps.push_back(measure("+" + std::to_string(made) + " namespaces", rounds));

  std::printf("\nforked %zu sleeping children in %.1f s; %d namespaces (%d of them also bound in /run/netns)\n",
              sleepers, fork_s, made, attached);
  std::printf("%d calls per step after one warm-up; CPU = user + system of this process\n\n", rounds);
  std::printf("| step | wall ms min / median / max | CPU ms min / median / max | namespaces | processes | skipped |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const Step& s : steps)
    std::printf("| %s | %.2f / %.2f / %.2f | %.2f / %.2f / %.2f | %zu | %u | %u |\n", s.label.c_str(), s.wall.min,
                s.wall.median, s.wall.max, s.cpu.min, s.cpu.median, s.cpu.max, s.namespaces, s.processes, s.skipped);
  // Per added process or namespace, from the medians of two steps. CPU is
  // the steadier figure on a shared machine: wall time also counts waiting.
  auto per = [](const Step& before, const Step& after, double n) {
    return std::pair{(after.wall.median - before.wall.median) * 1e3 / n,
                     (after.cpu.median - before.cpu.median) * 1e3 / n};
  };
  if (steps.size() >= 2 && sleepers > 0) {
    const auto [wall, cpu] = per(steps[0], steps[1], static_cast<double>(sleepers));
    std::printf("\nper extra process: %.2f µs wall, %.2f µs CPU (medians)\n", wall, cpu);
  }
  if (steps.size() >= 3 && made > 0) {
    const auto [wall, cpu] = per(steps[1], steps[2], made);
    std::printf("per extra namespace: %.1f µs wall, %.1f µs CPU (medians)\n", wall, cpu);
    if (steps[2].namespaces < steps[1].namespaces + static_cast<size_t>(made))
      std::printf("!!! found %zu namespaces, expected at least %zu\n", steps[2].namespaces,
                  steps[1].namespaces + static_cast<size_t>(made));
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
    std::fprintf(stderr, "netns_discovery_bench: %s\n", e.what());
    return 1;
  }
}
