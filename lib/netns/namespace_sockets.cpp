#include "netns/namespace_sockets.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <memory>
#include <system_error>
#include <thread>

namespace tcpreap {

namespace {

// What `fd` is, for messages: its path ("/run/netns/x", "net:[4026532]",
// "/dev/null"), or "fd N" when even that cannot be read.
std::string describe_fd(int fd) {
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  char target[256];
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof target) return "fd " + std::to_string(fd);
  return std::string(target, static_cast<size_t>(n));
}

// Whether the calling thread holds CAP_SYS_ADMIN effective (in its own
// user namespace).
bool holds_sys_admin() {
  struct CapFree {
    void operator()(void* p) const { cap_free(p); }
  };
  std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree> caps(cap_get_proc());
  cap_flag_value_t on = CAP_CLEAR;
  return caps && cap_get_flag(caps.get(), CAP_SYS_ADMIN, CAP_EFFECTIVE, &on) == 0 && on == CAP_SET;
}

// setns(netns_fd, CLONE_NEWNET) failed with `errnum` in a thread that holds
// CAP_SYS_ADMIN or not (`sys_admin`): say what is missing.
Error setns_error(int netns_fd, int errnum, bool sys_admin) {
  switch (errnum) {
    case EPERM:
      if (!sys_admin)
        return Error(errnum, "entering network namespace " + describe_fd(netns_fd) + " needs CAP_SYS_ADMIN");
      // netns_install() wants CAP_SYS_ADMIN over the user namespace owning
      // the target as well as in the caller's; a seccomp filter refuses
      // with EPERM too.
      return Error(errnum, "entering network namespace " + describe_fd(netns_fd) +
                               " was refused although CAP_SYS_ADMIN is held: a seccomp filter forbids setns "
                               "(systemd's RestrictNamespaces= must allow net), or the namespace belongs to "
                               "a user namespace this process has no CAP_SYS_ADMIN over");
    case EINVAL:
      return Error(errnum, "entering network namespace: fd " + std::to_string(netns_fd) + " (" +
                               describe_fd(netns_fd) + ") is not a network namespace");
    case EBADF:
      return Error(errnum, "entering network namespace: fd " + std::to_string(netns_fd) + " is not open");
    default:
      return Error(errnum, "entering network namespace " + describe_fd(netns_fd) + ": setns");
  }
}

// What happened on the namespace thread, written by it and read after
// join(). Plain values: building an Error (allocating) there could throw.
struct ThreadOutcome {
  enum class Kind { kRan, kSetnsFailed, kThrew } kind = Kind::kRan;
  int errnum = 0;
  bool sys_admin = false;
  std::string thrown;  // what() of the exception, when it had one
};

void namespace_thread(int netns_fd, void (*job)(void*), void* context, ThreadOutcome& out) noexcept {
  if (::setns(netns_fd, CLONE_NEWNET) != 0) {
    out.kind = ThreadOutcome::Kind::kSetnsFailed;
    out.errnum = errno;
    // Still in the caller's namespace: setns changes nothing when it fails.
    if (out.errnum == EPERM) out.sys_admin = holds_sys_admin();
    return;
  }
  // Nothing may escape: an exception leaving a std::thread's function
  // terminates the process. (A handler that throws, say bad_alloc while
  // copying what(), lands in the outer catch.)
  try {
    try {
      job(context);
    } catch (const std::exception& e) {
      out.kind = ThreadOutcome::Kind::kThrew;
      out.thrown = e.what();
    }
  } catch (...) {
    out.kind = ThreadOutcome::Kind::kThrew;
  }
}

// Blocks every signal in the calling thread while it lives: a thread
// started meanwhile inherits the full mask. (glibc keeps its internal
// signals deliverable whatever the mask says.)
class AllSignalsBlocked {
 public:
  AllSignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~AllSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  AllSignalsBlocked(const AllSignalsBlocked&) = delete;
  AllSignalsBlocked& operator=(const AllSignalsBlocked&) = delete;

 private:
  sigset_t saved_;
};

std::string domain_name(int domain) {
  switch (domain) {
    case AF_INET: return "AF_INET";
    case AF_INET6: return "AF_INET6";
    case AF_NETLINK: return "AF_NETLINK";
    case AF_PACKET: return "AF_PACKET";
    case AF_UNIX: return "AF_UNIX";
    default: return "domain " + std::to_string(domain);
  }
}

std::string type_name(int type) {
  switch (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
    case SOCK_STREAM: return "SOCK_STREAM";
    case SOCK_DGRAM: return "SOCK_DGRAM";
    case SOCK_RAW: return "SOCK_RAW";
    case SOCK_SEQPACKET: return "SOCK_SEQPACKET";
    default: return "type " + std::to_string(type);
  }
}

}  // namespace

Result<NetnsId> thread_namespace() {
  const char* path = "/proc/thread-self/ns/net";
  UniqueFd ns(::open(path, O_RDONLY | O_CLOEXEC));
  if (!ns) return Error(errno, std::string("opening ") + path);
  return read_netns_id(ns.get(), path);
}

Result<NetnsId> socket_namespace(int socket_fd) {
  UniqueFd ns(::ioctl(socket_fd, SIOCGSKNS));
  if (!ns) {
    const int e = errno;
    const std::string what = "asking socket fd " + std::to_string(socket_fd) + " for its network namespace";
    if (e == EPERM) return Error(e, what + " (SIOCGSKNS) needs CAP_NET_ADMIN over that namespace");
    if (e == ENOTTY) return Error(e, what + ": " + describe_fd(socket_fd) + " is not a socket");
    return Error(e, what + " (SIOCGSKNS)");
  }
  return read_netns_id(ns.get(), "the network namespace of socket fd " + std::to_string(socket_fd));
}

namespace netns_detail {

Status run_job_in_namespace(int netns_fd, void (*job)(void*), void* context) {
  ThreadOutcome outcome;
  std::thread thread;
  {
    AllSignalsBlocked blocked;
    try {
      thread = std::thread(namespace_thread, netns_fd, job, context, std::ref(outcome));
    } catch (const std::system_error& e) {
      return Error(e.code().value(), "starting a thread to enter network namespace " + describe_fd(netns_fd));
    }
  }
  thread.join();
  switch (outcome.kind) {
    case ThreadOutcome::Kind::kRan:
      return Ok{};
    case ThreadOutcome::Kind::kSetnsFailed:
      return setns_error(netns_fd, outcome.errnum, outcome.sys_admin);
    case ThreadOutcome::Kind::kThrew:
      return Error(0, "in network namespace " + describe_fd(netns_fd) + ": the job threw" +
                          (outcome.thrown.empty() ? std::string(" an exception") : ": " + outcome.thrown));
  }
  return Ok{};
}

}  // namespace netns_detail

std::string SocketSpec::describe() const {
  return domain_name(domain) + " " + type_name(type) + " protocol " + std::to_string(protocol);
}

Result<UniqueFd> socket_in_namespace(int netns_fd, int domain, int type, int protocol) {
  const SocketSpec spec{domain, type, protocol};
  auto sockets = sockets_in_namespace(netns_fd, std::span(&spec, 1));
  if (!sockets.ok()) return sockets.error();
  return std::move(sockets->front());
}

Result<std::vector<UniqueFd>> sockets_in_namespace(int netns_fd, std::span<const SocketSpec> specs) {
  // The thread only calls socket(2) and records errno; the messages are
  // built back home.
  std::vector<UniqueFd> sockets;
  sockets.reserve(specs.size());
  int failed_errno = 0;
  Status ran = run_in_namespace(netns_fd, [&]() -> Status {
    for (const SocketSpec& s : specs) {
      UniqueFd fd(::socket(s.domain, s.type | SOCK_CLOEXEC, s.protocol));
      if (!fd) {
        failed_errno = errno;
        return Ok{};
      }
      sockets.push_back(std::move(fd));
    }
    return Ok{};
  });
  if (!ran.ok()) return ran.error();
  if (sockets.size() < specs.size()) {
    const size_t i = sockets.size();
    return Error(failed_errno, "opening socket " + std::to_string(i + 1) + " of " + std::to_string(specs.size()) +
                                   " (" + specs[i].describe() + ") in network namespace " + describe_fd(netns_fd));
  }
  return sockets;
}

}  // namespace tcpreap
