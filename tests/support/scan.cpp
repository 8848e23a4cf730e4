#include "support/scan.h"

#include <poll.h>
#include <sys/socket.h>

#include <optional>
#include <string>

#include "support/support_error.h"
#include "support/tcp.h"

namespace tcpreap::test {

namespace {

class CollectSink final : public SocketSink {
 public:
  explicit CollectSink(std::vector<TcpSocket>& out) : out_(out) {}
  void on_socket(const TcpSocket& s) override { out_.push_back(s); }
  void on_restart() override { out_.clear(); }

 private:
  std::vector<TcpSocket>& out_;
};

}  // namespace

std::vector<TcpSocket> scan_sockets(SocketScanner& scanner, const ScanQuery& query) {
  std::vector<TcpSocket> out;
  CollectSink sink(out);
  auto stats = scanner.scan(query, sink);
  if (!stats) throw SupportError("scan: " + stats.error().message());
  return out;
}

SocketScanner open_scanner() {
  auto s = SocketScanner::open();
  if (!s) throw SupportError("SocketScanner::open: " + s.error().message());
  return std::move(*s);
}

ScanQuery compile_query(const SocketFilter& filter) {
  auto q = ScanQuery::compile(filter);
  if (!q) throw SupportError("ScanQuery::compile: " + q.error().message());
  return std::move(*q);
}

std::vector<TcpSocket> all_sockets(SocketScanner& scanner) {
  SocketFilter f;
  f.states = StateSet::all();
  return scan_sockets(scanner, compile_query(f));
}

bool cookie_present(SocketScanner& scanner, uint64_t cookie) {
  for (const TcpSocket& s : all_sockets(scanner))
    if (s.cookie == cookie) return true;
  return false;
}

TcpSocket socket_of(SocketScanner& scanner, int fd) {
  const Endpoint local = local_endpoint(fd);
  std::optional<Endpoint> remote;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) remote = remote_endpoint(fd);
  for (const TcpSocket& s : all_sockets(scanner)) {
    if (s.local_port != local.port || s.local != local.address) continue;
    if (remote ? (s.remote_port == remote->port && s.remote == remote->address) : s.remote_port == 0) return s;
  }
  throw SupportError("no dumped socket for local port " + std::to_string(local.port));
}

int next_recv(int fd, int wait_ms) {
  pollfd p{fd, POLLIN, 0};
  (void)::poll(&p, 1, wait_ms);
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT);
  if (n > 0) return 0;
  if (n == 0) return -1;
  return errno;
}

}  // namespace tcpreap::test
