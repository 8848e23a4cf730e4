// run_timed: times whole commands, spawn to reap, for scan_bench.sh.
//
//   run_timed RUNS WARMUP 'CMD ARGS...' ['CMD ARGS...' ...]
//
// Each command is one argument, split into words at spaces (no quoting).
// WARMUP untimed rounds, then RUNS timed rounds; every round runs each
// command once, starting one command later each round, so drift (caches,
// other load) is shared by all commands alike. The commands' stdout and
// stderr go to /dev/null. Prints one line per command, in argument order:
//
//   INDEX MIN_US MEDIAN_US MAX_US PEAK_RSS_KIB FAILED_RUNS
//
// Wall time: CLOCK_MONOTONIC from before posix_spawnp() to after wait4(),
// so it holds fork, exec, dynamic loading, the run and the exit. Peak RSS:
// the largest ru_maxrss wait4() reported. The kernel folds the pre-exec image
// into ru_maxrss, which is why this helper is linked statically and kept
// small: its own few hundred KiB are the floor, not the command's figure.
// Run it inside the network namespace to measure: no `ip netns exec` cost.
//
// SIGINT, SIGTERM and SIGHUP (unless inherited as ignored) end the run: the
// command running then is killed and reaped, and run_timed dies of the same
// signal, so a shell sees the interrupt and runs its traps.
//
//   g++ -O2 -std=c++20 -static -o run_timed run_timed.cpp

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

extern char** environ;

namespace {

volatile sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

void catch_stop_signals() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction current {};
    sigaction(sig, nullptr, &current);
    if (current.sa_handler == SIG_IGN) continue;  // e.g. SIGINT of a background job
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;  // no SA_RESTART: wait4() returns EINTR
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
  }
}

// Dies of the signal that stopped us (or exits 128 + it, should it not kill).
[[noreturn]] void die_of_stop_signal() {
  const int sig = g_stop_signal;
  signal(sig, SIG_DFL);
  raise(sig);
  std::_Exit(128 + sig);
}

struct Command {
  std::vector<std::string> words;
  std::vector<long> wall_us;
  long peak_rss_kib = 0;
  int failed = 0;
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (j > i) words.push_back(text.substr(i, j - i));
    i = j;
  }
  return words;
}

long now_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

// Runs `c` once; returns false if it could not be started or did not exit 0.
bool run_once(Command& c, const posix_spawn_file_actions_t& quiet, bool timed) {
  std::vector<char*> argv;
  for (auto& w : c.words) argv.push_back(w.data());
  argv.push_back(nullptr);

  const long t0 = now_us();
  pid_t pid;
  if (int e = posix_spawnp(&pid, argv[0], &quiet, nullptr, argv.data(), environ); e != 0) {
    std::fprintf(stderr, "run_timed: %s: %s\n", argv[0], std::strerror(e));
    return false;
  }
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      std::perror("run_timed: wait4");
      std::exit(1);
    }
    if (g_stop_signal) kill(pid, SIGKILL);  // then reap it
  }
  if (g_stop_signal) die_of_stop_signal();
  const long t1 = now_us();
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (timed) {
    c.wall_us.push_back(t1 - t0);
    c.peak_rss_kib = std::max(c.peak_rss_kib, ru.ru_maxrss);
    if (!ok) ++c.failed;
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fputs("usage: run_timed RUNS WARMUP 'CMD ARGS...' ['CMD ARGS...' ...]\n", stderr);
    return 2;
  }
  const int runs = std::atoi(argv[1]);
  const int warmup = std::atoi(argv[2]);
  if (runs < 1 || warmup < 0) {
    std::fputs("run_timed: RUNS must be >= 1, WARMUP >= 0\n", stderr);
    return 2;
  }
  std::vector<Command> commands;
  for (int i = 3; i < argc; ++i) {
    commands.push_back({split(argv[i]), {}, 0, 0});
    if (commands.back().words.empty()) {
      std::fprintf(stderr, "run_timed: command %d is empty\n", i - 3);
      return 2;
    }
  }

  catch_stop_signals();
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&quiet, STDOUT_FILENO, STDERR_FILENO);

  const size_t n = commands.size();
  for (int round = 0; round < warmup + runs; ++round)
    for (size_t k = 0; k < n; ++k) run_once(commands[(k + static_cast<size_t>(round)) % n], quiet, round >= warmup);

  for (size_t i = 0; i < n; ++i) {
    auto& t = commands[i].wall_us;
    std::sort(t.begin(), t.end());
    const size_t m = t.size();
    const long median = m % 2 ? t[m / 2] : (t[m / 2 - 1] + t[m / 2]) / 2;
    std::printf("%zu %ld %ld %ld %ld %d\n", i, t.front(), median, t.back(), commands[i].peak_rss_kib,
                commands[i].failed);
  }
  posix_spawn_file_actions_destroy(&quiet);
  return 0;
}
