#include "netns/socket_maker.h"

#include <sys/socket.h>

#include <cerrno>

#include "netns/namespace_sockets.h"

namespace tcpreap {

namespace {

const std::string kHereLabel = "the calling thread's network namespace";

// Raw IP and packet sockets need CAP_NET_RAW over the namespace they are
// made in; nothing else tcpreap opens needs a capability to exist.
bool needs_net_raw(int domain, int type) {
  const int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  return domain == AF_PACKET || ((domain == AF_INET || domain == AF_INET6) && kind == SOCK_RAW);
}

}  // namespace

SocketMaker SocketMaker::here() { return SocketMaker(nullptr); }

SocketMaker SocketMaker::in(std::shared_ptr<const UniqueFd> netns, std::string label) {
  return SocketMaker(std::make_shared<const Place>(Place{std::move(netns), std::move(label)}));
}

const std::string& SocketMaker::label() const { return place_ ? place_->label : kHereLabel; }

Result<UniqueFd> SocketMaker::make(int domain, int type, int protocol) const {
  const auto what = [&] {
    std::string s = "opening a socket (" + SocketSpec{domain, type, protocol}.describe() + ")";
    if (place_) s += " in network namespace " + place_->label;
    return s;
  };
  const auto refused = [&](int errnum) {
    std::string s = what();
    if ((errnum == EPERM || errnum == EACCES) && needs_net_raw(domain, type))
      s += place_ ? " (needs CAP_NET_RAW in that network namespace)" : " (needs CAP_NET_RAW in the network namespace)";
    return Error(errnum, std::move(s));
  };

  if (!place_) {
    UniqueFd fd(::socket(domain, type | SOCK_CLOEXEC, protocol));
    if (!fd) return refused(errno);
    return fd;
  }
  if (!place_->netns) return Error(EBADF, what() + ": no namespace descriptor");
  // socket() and errno only, inside; the message is built back home.
  int failed_errno = 0;
  auto made = run_in_namespace(place_->netns->get(), [&]() -> Result<UniqueFd> {
    UniqueFd fd(::socket(domain, type | SOCK_CLOEXEC, protocol));
    if (!fd) failed_errno = errno;
    return fd;
  });
  if (!made) return made.error().wrap(what());
  if (!*made) return refused(failed_errno);
  return made;
}

}  // namespace tcpreap
