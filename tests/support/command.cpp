#include "support/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "support/support_error.h"
#include "support/unique_fd.h"

namespace tcpreap::test {

void throw_errno(const std::string& what, int errnum) { throw SupportError(what + ": " + std::strerror(errnum)); }

namespace {

bool is_executable(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

struct Pipe {
  UniqueFd read, write;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2", errno);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace

std::string find_program(const std::string& program) {
  if (program.find('/') != std::string::npos) return is_executable(program) ? program : "";
  std::string dirs;
  if (const char* p = std::getenv("PATH")) dirs = p;
  dirs += ":/usr/sbin:/sbin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    std::string dir = dirs.substr(start, colon - start);
    if (!dir.empty() && is_executable(dir + "/" + program)) return dir + "/" + program;
    start = colon + 1;
  }
  return "";
}

std::string join_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    if (a.empty() || a.find_first_of(" \t\n'\"{};") != std::string::npos)
      out += "'" + a + "'";
    else
      out += a;
  }
  return out;
}

std::string CommandResult::describe(const std::vector<std::string>& argv) const {
  std::string s = join_argv(argv) + ": exit " + std::to_string(exit_code);
  if (!err.empty()) s += ": " + err;
  return s;
}

CommandResult run_command(const std::vector<std::string>& argv, std::string_view input,
                          std::chrono::milliseconds timeout) {
  if (argv.empty()) throw SupportError("run_command: empty argv");
  const std::string path = find_program(argv[0]);
  if (path.empty()) throw SupportError(argv[0] + ": not found (PATH, /usr/sbin, /sbin)");

  // Everything the child needs is built before fork: it only dup2s and execs.
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  // A child that exits before reading all its input must not kill us.
  static const bool sigpipe_ignored = [] { return ::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  (void)sigpipe_ignored;

  Pipe in = make_pipe(), out = make_pipe(), err = make_pipe();
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork", errno);
  if (pid == 0) {
    if (::dup2(in.read.get(), 0) < 0 || ::dup2(out.write.get(), 1) < 0 || ::dup2(err.write.get(), 2) < 0) _exit(126);
    ::execv(path.c_str(), cargv.data());
    const char msg[] = "exec failed\n";
    ssize_t ignored = ::write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(127);
  }
  in.read.reset();
  out.write.reset();
  err.write.reset();

  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t written = 0;
  if (input.empty()) in.write.reset();
  bool killed = false;
  while (out.read || err.read || in.write) {
    pollfd fds[3];
    int n = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    if (out.read) { out_i = n; fds[n++] = {out.read.get(), POLLIN, 0}; }
    if (err.read) { err_i = n; fds[n++] = {err.read.get(), POLLIN, 0}; }
    if (in.write) { in_i = n; fds[n++] = {in.write.get(), POLLOUT, 0}; }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);  // ours, by PID
      killed = true;
      break;
    }
    int r = ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(left.count()));
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      throw_errno("poll", e);
    }
    auto drain = [&](int i, UniqueFd& fd, std::string& sink) {
      if (i < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) return;
      char buf[4096];
      ssize_t got = ::read(fd.get(), buf, sizeof buf);
      if (got > 0)
        sink.append(buf, static_cast<size_t>(got));
      else if (got == 0 || errno != EINTR)
        fd.reset();
    };
    drain(out_i, out.read, result.out);
    drain(err_i, err.read, result.err);
    if (in_i >= 0 && fds[in_i].revents) {
      ssize_t put = (fds[in_i].revents & POLLOUT) ? ::write(in.write.get(), input.data() + written, input.size() - written) : -1;
      if (put > 0) written += static_cast<size_t>(put);
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0 || written == input.size()) in.write.reset();
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("waitpid", errno);
  }
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.exit_code = 128 + WTERMSIG(status);
  if (killed) result.err += "[killed after " + std::to_string(timeout.count()) + " ms]";
  return result;
}

CommandResult run_checked(const std::vector<std::string>& argv, std::string_view input) {
  CommandResult r = run_command(argv, input);
  if (r.exit_code != 0) throw SupportError(r.describe(argv));
  return r;
}

}  // namespace tcpreap::test
