#pragma once
// A program running next to the test (a daemon under test): started with
// fork/execve, its stdout and stderr going to one file the test reads
// whenever it likes. Held by a pidfd, so a signal or a wait can never reach
// a recycled PID. It never outlives its object: the destructor SIGKILLs and
// reaps it if it is still running, and removes the output file.
//
// To run it in a network namespace, start `ip netns exec NS program ...`:
// ip setns()es and then execs the program in place (no fork without -b), so
// pid() is the program's own and signal() reaches it directly.
//
// Should the test process die without unwinding (a CTest timeout's
// SIGKILL), the child gets SIGKILL too (PR_SET_PDEATHSIG, kept across exec).
// That signal comes when the THREAD that started it ends: start it from a
// thread that outlives it (a test body's). Not thread-safe: one thread owns
// the object.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/unique_fd.h"

namespace tcpreap::test {

class ChildProcess {
 public:
  // Starts argv[0] (looked up as run_command does) with the test's
  // environment changed by `env`: NAME -> value sets (or replaces) NAME,
  // NAME -> nullopt removes it. stdin is /dev/null; the signal mask is empty
  // and every signal has its default action, whatever the test process has.
  // Throws SupportError when it cannot be started (a program that is not
  // found, fork failing); an exec failure shows as exit status 127.
  explicit ChildProcess(const std::vector<std::string>& argv,
                        const std::map<std::string, std::optional<std::string>>& env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::vector<std::string>& argv() const { return argv_; }

  // Everything it wrote so far to stdout and stderr, interleaved as written.
  std::string output() const;
  const std::string& output_path() const { return output_path_; }

  // Sends `signo`; throws SupportError if it cannot (not after it was reaped).
  void signal(int signo);

  // Waits up to `timeout` for it to end; its exit status (128 + the signal
  // when a signal killed it), or nothing if it is still running. Once it
  // has ended, returns the same status at once on every call.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  // Whether it is still running (reaps it, without waiting, if it ended).
  bool running();

 private:
  std::vector<std::string> argv_;
  std::string output_path_;
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  std::optional<int> status_;  // once reaped
};

}  // namespace tcpreap::test
