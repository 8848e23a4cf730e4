#pragma once
// A measurement made in a child process of its own (fork), so that what it
// shows - peak RSS above all - owes nothing to what the process did before:
// an earlier measurement's heap stays in the parent. The child fills a T in
// shared memory; the parent gets a copy once the child has ended.

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>

#include "support/support_error.h"

namespace tcpreap::test {

// Runs body(T&) in a child on a value-initialized T and returns the T it
// left. The child ends with _exit: nothing the parent holds (namespaces,
// children) is undone there. When `stop` is set while the parent waits (a
// signal whose handler sets it, installed without SA_RESTART), SIGTERM is
// passed on to the child, whose own copy of the flag lets it end early and
// still hand its T back. Throws SupportError with the child's exception's
// message, or when it cannot fork.
template <typename T, typename Body>
std::unique_ptr<T> run_forked(Body&& body, const volatile std::sig_atomic_t& stop) {
  static_assert(std::is_trivially_copyable_v<T>, "T crosses a process boundary in shared memory");
  struct Shared {
    T value;
    char error[512];
  };
  void* mem = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw_errno("mmap", errno);
  Shared* shared = new (mem) Shared{};
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    int rc = 0;
    try {
      body(shared->value);
    } catch (const std::exception& e) {
      std::snprintf(shared->error, sizeof shared->error, "%s", e.what());
      rc = 1;
    }
    std::fflush(nullptr);
    ::_exit(rc);
  }
  const int fork_errno = errno;
  bool passed_on = false;
  while (pid > 0 && ::waitpid(pid, nullptr, 0) < 0 && errno == EINTR)
    if (stop && !passed_on) passed_on = ::kill(pid, SIGTERM) == 0;
  auto out = std::make_unique<T>(shared->value);
  const std::string error = shared->error;
  ::munmap(mem, sizeof(Shared));
  if (pid < 0) throw_errno("fork", fork_errno);
  if (!error.empty()) throw SupportError(error);
  return out;
}

}  // namespace tcpreap::test
