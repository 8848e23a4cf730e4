#include "support/notify_listener.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "support/support_error.h"

namespace tcpreap::test {

NotifyListener::NotifyListener() {
  static std::atomic<unsigned> counter{0};
  path_ = "/tmp/trp" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".notify";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.size() >= sizeof address.sun_path) throw SupportError(path_ + ": too long for a socket address");
  std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
  fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd_) throw_errno("socket(AF_UNIX, SOCK_DGRAM)", errno);
  (void)::unlink(path_.c_str());  // left by a crashed run of a recycled PID
  if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    throw_errno("binding " + path_, errno);
  // Writable by anyone, as systemd's /run/systemd/notify is: a daemon
  // started as root notifies after it has become nobody.
  if (::chmod(path_.c_str(), 0777) != 0) throw_errno("chmod " + path_, errno);
}

NotifyListener::~NotifyListener() { (void)::unlink(path_.c_str()); }

std::optional<std::string> NotifyListener::next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    pollfd p{fd_.get(), POLLIN, 0};
    const int r = ::poll(&p, 1, left > 0 ? static_cast<int>(left) : 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno("poll on " + path_, errno);
    if (r == 0) return std::nullopt;
    char buf[4096];
    const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) throw_errno("recv on " + path_, errno);
    return std::string(buf, static_cast<size_t>(n));
  }
}

}  // namespace tcpreap::test
