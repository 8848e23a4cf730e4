#include "support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "support/command.h"
#include "support/support_error.h"

extern char** environ;

namespace tcpreap::test {

namespace {

std::vector<std::string> child_environment(const std::map<std::string, std::optional<std::string>>& changes) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    if (!changes.contains(name)) out.push_back(entry);
  }
  for (const auto& [name, value] : changes)
    if (value) out.push_back(name + "=" + *value);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Through syscall(2): glibc 2.36's <sys/pidfd.h> lacks extern "C" for C++.
int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int pidfd_send_signal(int pidfd, int signo) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0));
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::map<std::string, std::optional<std::string>>& env)
    : argv_(argv) {
  if (argv.empty()) throw SupportError("ChildProcess: empty argv");
  const std::string path = find_program(argv[0]);
  if (path.empty()) throw SupportError(argv[0] + ": not found (PATH, /usr/sbin, /sbin)");

  static std::atomic<unsigned> counter{0};
  output_path_ = "/tmp/tcpreap-test-" + std::to_string(::getpid()) + "-child" + std::to_string(counter++) + ".out";
  UniqueFd out(::open(output_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
  if (!out) throw_errno("creating " + output_path_, errno);
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) {
    const int e = errno;
    std::remove(output_path_.c_str());
    throw_errno("opening /dev/null", e);
  }

  // Everything the child needs is built before fork: other threads of the
  // test may hold locks, so the child only makes async-signal-safe calls.
  std::vector<std::string> args = argv, envs = child_environment(env);
  std::vector<char*> cargv = pointers(args), cenv = pointers(envs);

  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    const int e = errno;
    std::remove(output_path_.c_str());
    throw_errno("fork", e);
  }
  if (pid_ == 0) {
    // A test killed outright (a CTest timeout) must not leave it running.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) _exit(125);
    sigset_t none;
    sigemptyset(&none);
    (void)::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Ignored signals stay ignored across exec (run_command ignores SIGPIPE).
    for (int s = 1; s < NSIG; ++s) (void)::signal(s, SIG_DFL);
    if (::dup2(null.get(), 0) < 0 || ::dup2(out.get(), 1) < 0 || ::dup2(out.get(), 2) < 0) _exit(126);
    ::execve(path.c_str(), cargv.data(), cenv.data());
    const char msg[] = "ChildProcess: exec failed\n";
    ssize_t ignored = ::write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(127);
  }
  // The child is ours and unreaped: its PID cannot be recycled yet.
  pidfd_.reset(pidfd_open(pid_));
  if (!pidfd_) {
    const int e = errno;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    std::remove(output_path_.c_str());
    throw_errno("pidfd_open", e);
  }
}

ChildProcess::~ChildProcess() {
  if (!status_) {
    (void)pidfd_send_signal(pidfd_.get(), SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  std::remove(output_path_.c_str());
}

std::string ChildProcess::output() const {
  std::ifstream in(output_path_, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void ChildProcess::signal(int signo) {
  if (status_) throw SupportError("signal " + std::to_string(signo) + ": " + join_argv(argv_) + " has ended");
  if (pidfd_send_signal(pidfd_.get(), signo) != 0)
    throw_errno("signal " + std::to_string(signo) + " to PID " + std::to_string(pid_), errno);
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    // The pidfd is readable once the process has ended.
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    pollfd p{pidfd_.get(), POLLIN, 0};
    const int r = ::poll(&p, 1, left > 0 ? static_cast<int>(left) : 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno("poll on a pidfd", errno);
    if (r == 0) return std::nullopt;
    break;
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("waitpid " + std::to_string(pid_), errno);
  }
  status_ = decode_status(status);
  return status_;
}

bool ChildProcess::running() { return !wait_exit(std::chrono::milliseconds(0)); }

}  // namespace tcpreap::test
