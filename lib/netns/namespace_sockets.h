#pragma once
// Sockets of another network namespace, made without leaving any thread there.
//
// A socket belongs for its whole life to the network namespace of the thread
// that created it (sk_alloc() takes current's net_ns), wherever it is used
// later, and it keeps that namespace alive. So tcpreap makes each socket it
// uses for a namespace (SOCK_DIAG scanner, destroyer, the raw and AF_PACKET
// sockets of probes and RST injection, rtnetlink) inside that namespace, and
// uses it from its own threads, which never leave the daemon's namespace.
//
// How "no thread stays in a foreign namespace" is guaranteed: the only
// setns() here is made by a thread created for one run_in_namespace() call.
// That thread starts with every signal blocked (no handler ever runs in the
// foreign namespace), runs setns() and then the callable with every exception
// caught, and ends; run_in_namespace() joins it before returning. There is
// no pool: a thread that entered a namespace is never reused, so nothing
// has to setns() back (which could fail and leave it there). The caller's
// thread never calls setns(). /proc/thread-self/ns/net shows a thread's
// namespace (/proc/self/ns/net shows the main thread's, whatever the caller).
//
// Cost per trip (Linux 6.18, 2 cores; namespace_sockets_kernel_test prints
// it, 1000 trips): ~25-35 µs with a thread per call on a quiet machine, and
// 50-900 µs while other jobs keep both cores busy (the new thread waits
// for a CPU, it seems: the spread follows the load). One long-lived helper thread that setns()es back
// after each job measured ~13-20 µs, busy or not. The thread per call is
// kept: a namespace is entered once, when it is found, to open all its
// sockets in one trip (sockets_in_namespace: ~40-60 µs for the daemon's five),
// and those microseconds do not pay for a thread that lives in foreign
// namespaces and must always get back home (a failed setns() back would
// leave it there). Closing an AF_PACKET socket costs more than all of it:
// packet_release() waits for an RCU grace period (~12-15 ms here).
//
// Privileges: setns() into a network namespace needs CAP_SYS_ADMIN over it
// and in the caller's user namespace; opening /proc/PID/ns/net of another
// user's process needs ptrace read access (the caller's business: these
// functions take an open descriptor). A seccomp filter can refuse setns()
// too: systemd's RestrictNamespaces= must allow "net" (setns() is called
// with CLONE_NEWNET, never 0, which such a filter would refuse).

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/unique_fd.h"
#include "netns/netns_identity.h"

namespace tcpreap {

// The network namespace of the calling thread (/proc/thread-self/ns/net).
Result<NetnsId> thread_namespace();

// The network namespace socket `socket_fd` lives in (ioctl SIOCGSKNS).
// Needs CAP_NET_ADMIN over that namespace (EPERM otherwise); ENOTTY when
// the descriptor is not a socket.
Result<NetnsId> socket_namespace(int socket_fd);

namespace netns_detail {
// Starts a thread that enters `netns_fd` (setns CLONE_NEWNET) and, if that
// worked, runs job(context); joins it. An Error when the thread cannot
// start, when setns fails (job not run), or when job throws.
Status run_job_in_namespace(int netns_fd, void (*job)(void*), void* context);

template <typename T>
struct IsResult : std::false_type {};
template <typename T>
struct IsResult<Result<T>> : std::true_type {};
}  // namespace netns_detail

// Runs `fn` (returning some Result<T>) on a short-lived thread inside the
// network namespace `netns_fd` (an open /run/netns/NAME or /proc/PID/ns/net;
// borrowed, not closed) and returns its result. The calling thread does not
// change namespace, whatever happens; `fn` runs before this returns, so it
// may capture by reference.
//
// Errors: fn's own Result error as it is; setns() refused (EPERM: "entering
// network namespace /run/netns/x needs CAP_SYS_ADMIN", or what refused it
// when CAP_SYS_ADMIN is held; EINVAL: not a network namespace; EBADF); fn
// threw (errnum 0, with what()); no thread could be started.
//
// `fn` must not start threads that outlive it (they would start in the
// foreign namespace) nor call setns() itself. Thread-safe: every call has
// a thread of its own.
template <typename Fn>
  requires netns_detail::IsResult<std::invoke_result_t<Fn&>>::value
std::invoke_result_t<Fn&> run_in_namespace(int netns_fd, Fn&& fn) {
  using R = std::invoke_result_t<Fn&>;
  struct Job {
    Fn& fn;
    std::optional<R> result;
  } job{fn, std::nullopt};
  Status ran = netns_detail::run_job_in_namespace(
      netns_fd, [](void* context) {
        auto* j = static_cast<Job*>(context);
        j->result.emplace(std::invoke(j->fn));
      },
      &job);
  if (!ran.ok()) return ran.error();
  return std::move(*job.result);
}

// What socket(2) takes. SOCK_CLOEXEC is always added.
struct SocketSpec {
  int domain = 0;
  int type = 0;
  int protocol = 0;
  // "AF_PACKET SOCK_DGRAM protocol 768".
  std::string describe() const;
};

// One socket created inside network namespace `netns_fd` (see
// run_in_namespace). An Error names the socket and the namespace.
Result<UniqueFd> socket_in_namespace(int netns_fd, int domain, int type, int protocol);

// All of `specs`, in order, created in one trip into `netns_fd`. All or
// nothing: when one cannot be made, those made before it are closed and the
// Error names which one ("socket 3 of 5 (...)").
Result<std::vector<UniqueFd>> sockets_in_namespace(int netns_fd, std::span<const SocketSpec> specs);

}  // namespace tcpreap
