#include "support/tcp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "support/support_error.h"

namespace tcpreap::test {

namespace {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

bool is_v6_text(const std::string& address) { return address.find(':') != std::string::npos; }

SockAddr make_sockaddr(const std::string& address, uint16_t port, bool v6) {
  SockAddr a;
  if (!v6) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (!address.empty() && inet_pton(AF_INET, address.c_str(), &sin.sin_addr) != 1)
      throw SupportError("'" + address + "' is not an IPv4 address");
    std::memcpy(&a.storage, &sin, sizeof sin);
    a.len = sizeof sin;
  } else {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    if (!address.empty() && inet_pton(AF_INET6, address.c_str(), &sin6.sin6_addr) != 1)
      throw SupportError("'" + address + "' is not an IPv6 address");
    std::memcpy(&a.storage, &sin6, sizeof sin6);
    a.len = sizeof sin6;
  }
  return a;
}

Endpoint to_endpoint(const sockaddr_storage& ss) {
  Endpoint e;
  if (ss.ss_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, &ss, sizeof sin);
    e.address = IpAddress::v4(&sin.sin_addr);
    e.port = ntohs(sin.sin_port);
  } else {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, &ss, sizeof sin6);
    e.address = IpAddress::v6(&sin6.sin6_addr);
    e.port = ntohs(sin6.sin6_port);
  }
  return e;
}

std::string where(const std::string& address, uint16_t port) {
  return (is_v6_text(address) ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

UniqueFd new_socket(bool v6, bool v6only) {
  UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket", errno);
  int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) throw_errno("SO_REUSEADDR", errno);
  if (v6) {
    int only = v6only ? 1 : 0;
    if (::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only) != 0) throw_errno("IPV6_V6ONLY", errno);
  }
  return fd;
}

void set_abortive(int fd) {
  linger l{1, 0};
  if (::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0) throw_errno("SO_LINGER", errno);
}

}  // namespace

UniqueFd tcp_listen(const std::string& address, uint16_t port, bool v6only) {
  const bool v6 = is_v6_text(address);
  UniqueFd fd = new_socket(v6, v6only);
  SockAddr a = make_sockaddr(address, port, v6);
  if (::bind(fd.get(), a.get(), a.len) != 0) throw_errno("binding a listener to " + where(address, port), errno);
  if (::listen(fd.get(), 64) != 0) throw_errno("listen on " + where(address, port), errno);
  return fd;
}

namespace {

UniqueFd bound_client(const std::string& address, const BindOptions& bind, bool nonblocking) {
  const bool v6 = is_v6_text(address);
  UniqueFd fd = new_socket(v6, bind.v6only);
  if (!bind.address.empty() || bind.port != 0) {
    SockAddr b = make_sockaddr(bind.address, bind.port, v6);
    if (::bind(fd.get(), b.get(), b.len) != 0) throw_errno("binding to " + where(bind.address, bind.port), errno);
  }
  set_abortive(fd.get());
  if (nonblocking && ::fcntl(fd.get(), F_SETFL, O_NONBLOCK) != 0) throw_errno("O_NONBLOCK", errno);
  return fd;
}

}  // namespace

UniqueFd tcp_connect(const std::string& address, uint16_t port, const BindOptions& bind) {
  UniqueFd fd = bound_client(address, bind, false);
  SockAddr a = make_sockaddr(address, port, is_v6_text(address));
  while (::connect(fd.get(), a.get(), a.len) != 0) {
    if (errno != EINTR) throw_errno("connecting to " + where(address, port), errno);
  }
  return fd;
}

UniqueFd tcp_start_connect(const std::string& address, uint16_t port, const BindOptions& bind) {
  UniqueFd fd = bound_client(address, bind, true);
  SockAddr a = make_sockaddr(address, port, is_v6_text(address));
  if (::connect(fd.get(), a.get(), a.len) != 0 && errno != EINPROGRESS)
    throw_errno("connecting to " + where(address, port), errno);
  return fd;
}

UniqueFd tcp_accept(int listener, std::chrono::milliseconds timeout) {
  pollfd p{listener, POLLIN, 0};
  int r;
  while ((r = ::poll(&p, 1, static_cast<int>(timeout.count()))) < 0 && errno == EINTR) {
  }
  if (r < 0) throw_errno("poll on a listener", errno);
  if (r == 0) throw SupportError("no connection to accept after " + std::to_string(timeout.count()) + " ms");
  UniqueFd fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd) throw_errno("accept4", errno);
  set_abortive(fd.get());
  return fd;
}

void graceful_close(UniqueFd& fd) {
  linger l{0, 0};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0) throw_errno("SO_LINGER", errno);
  fd.reset();
}

Endpoint local_endpoint(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) throw_errno("getsockname", errno);
  return to_endpoint(ss);
}

Endpoint remote_endpoint(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) throw_errno("getpeername", errno);
  return to_endpoint(ss);
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("send", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string read_exact(int fd, size_t n, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    int r = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno("poll", errno);
    if (r == 0)
      throw SupportError("read " + std::to_string(out.size()) + " of " + std::to_string(n) + " bytes in " +
                         std::to_string(timeout.count()) + " ms");
    char buf[4096];
    ssize_t got = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw_errno("recv", errno);
    if (got == 0) throw SupportError("EOF after " + std::to_string(out.size()) + " of " + std::to_string(n) + " bytes");
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

uint64_t socket_inode(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) throw_errno("fstat", errno);
  return st.st_ino;
}

}  // namespace tcpreap::test
