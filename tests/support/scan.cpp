#include "support/scan.h"

#include "support/support_error.h"

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

}  // namespace tcpreap::test
