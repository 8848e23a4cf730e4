#pragma once
// Dumps TCP sockets over NETLINK_SOCK_DIAG and streams them to a sink.
//
// Memory is constant however many sockets there are: one receive buffer,
// one TcpSocket on the stack at a time, nothing allocated per socket.
// Not thread-safe: one scan at a time per scanner.

#include <functional>
#include <memory>
#include <vector>

#include "diag/scan_query.h"
#include "diag/socket_sink.h"
#include "netlink/netlink_transport.h"
#include "netns/socket_maker.h"

namespace tcpreap {

struct ScanStats {
  uint64_t sockets = 0;    // delivered to the sink by the final (consistent) pass
  uint32_t restarts = 0;   // passes abandoned for NLM_F_DUMP_INTR
  uint64_t datagrams = 0;  // over all passes
  uint64_t bytes = 0;
  uint32_t dumps = 0;      // dump requests sent, over all passes
  // The query's families left out (netns/dump_families.h): no request sent.
  DumpFamilies skipped = DumpFamilies::none();
};

class SocketScanner {
 public:
  using TransportOpener = std::function<Result<std::unique_ptr<NetlinkTransport>>()>;

  // How many inconsistent passes in a row before a scan gives up.
  static constexpr int kMaxPasses = 4;

  // A scanner on a NETLINK_SOCK_DIAG socket opened now, in the maker's
  // network namespace: it sees that namespace's sockets only. A socket
  // replaced after an error is made by a copy of `maker` kept for that,
  // in the same namespace (which the scanner thus keeps open).
  static Result<SocketScanner> open(const SocketMaker& maker = SocketMaker::here());

  // For tests: `opener` makes the transport, now and again after an error
  // (a failed dump leaves its reply half read: the socket is replaced).
  static Result<SocketScanner> open(TransportOpener opener);

  // One scan: every dump of `query` whose family is in `families`, each
  // socket passed to `sink`. A dump the kernel flags inconsistent restarts
  // the scan (sink.on_restart()). With no dump left, nothing is sent.
  Result<ScanStats> scan(const ScanQuery& query, SocketSink& sink, DumpFamilies families = DumpFamilies::both());

 private:
  SocketScanner(TransportOpener opener, std::unique_ptr<NetlinkTransport> transport);
  Status dump_one(const ScanQuery::Dump& dump, SocketSink& sink, ScanStats& stats, bool& interrupted);

  TransportOpener opener_;
  std::unique_ptr<NetlinkTransport> transport_;
  std::vector<uint8_t> request_;               // the request being sent, seq filled in
  std::unique_ptr<uint8_t[]> receive_buffer_;  // kReceiveBufferSize, aligned by new[]
  uint32_t seq_ = 0;
};

}  // namespace tcpreap
