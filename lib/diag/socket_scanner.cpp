#include "diag/socket_scanner.h"

#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <cstring>
#include <ctime>

#include "diag/dump_reader.h"
#include "netlink/netlink_socket.h"

namespace tcpreap {

namespace {

// The kernel fills a dump datagram up to ~32 KiB whatever the buffer
// (netlink_recvmsg caps max_recvmsg_len); twice that leaves room to spare.
constexpr size_t kReceiveBufferSize = 64 * 1024;

}  // namespace

Result<SocketScanner> SocketScanner::open(const SocketMaker& maker) {
  // By value: a reopen must land where the first socket did.
  return open([maker]() -> Result<std::unique_ptr<NetlinkTransport>> {
    auto s = NetlinkSocket::open(NETLINK_SOCK_DIAG, maker);
    if (!s) return s.error();
    return std::unique_ptr<NetlinkTransport>(std::make_unique<NetlinkSocket>(std::move(*s)));
  });
}

Result<SocketScanner> SocketScanner::open(TransportOpener opener) {
  auto t = opener();
  if (!t) return t.error();
  return SocketScanner(std::move(opener), std::move(*t));
}

SocketScanner::SocketScanner(TransportOpener opener, std::unique_ptr<NetlinkTransport> transport)
    : opener_(std::move(opener)),
      transport_(std::move(transport)),
      receive_buffer_(new uint8_t[kReceiveBufferSize]),
      // Distinct sequence numbers per scanner, as ss does with time(NULL).
      seq_(static_cast<uint32_t>(std::time(nullptr))) {}

Status SocketScanner::dump_one(const ScanQuery::Dump& dump, SocketSink& sink, ScanStats& stats,
                               bool& interrupted) {
  request_.assign(dump.request.begin(), dump.request.end());
  nlmsghdr hdr;
  std::memcpy(&hdr, request_.data(), sizeof hdr);
  hdr.nlmsg_seq = ++seq_;
  std::memcpy(request_.data(), &hdr, sizeof hdr);
  if (auto sent = transport_->send(request_); !sent) return sent.error();
  ++stats.dumps;

  DumpReader reader(hdr.nlmsg_seq, transport_->portid());
  while (true) {
    auto n = transport_->receive({receive_buffer_.get(), kReceiveBufferSize});
    if (!n) return n.error();
    ++stats.datagrams;
    stats.bytes += *n;
    auto done = reader.feed({receive_buffer_.get(), *n}, sink);
    if (!done) return done.error();
    if (*done) break;
  }
  stats.sockets += reader.sockets();
  interrupted = reader.interrupted();
  return Ok{};
}

Result<ScanStats> SocketScanner::scan(const ScanQuery& query, SocketSink& sink, DumpFamilies families) {
  ScanStats stats;
  stats.skipped = query.families().without(families);
  if (!(query.families() & families).any()) return stats;
  if (!transport_) {
    auto t = opener_();
    if (!t) return t.error();
    transport_ = std::move(*t);
  }
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    bool interrupted = false;
    for (const auto& dump : query.dumps()) {
      if (!families.has(dump.family)) continue;
      if (auto s = dump_one(dump, sink, stats, interrupted); !s) {
        transport_.reset();  // its reply is half read: never reuse it
        return s.error().wrap(std::string("dumping ") + (dump.family == Family::kIPv4 ? "IPv4" : "IPv6") +
                              " TCP sockets");
      }
      if (interrupted) break;
    }
    if (!interrupted) return stats;
    ++stats.restarts;
    stats.sockets = 0;
    sink.on_restart();
  }
  return Error(EAGAIN, "dumping TCP sockets: the kernel flagged " + std::to_string(kMaxPasses) +
                           " dumps in a row inconsistent (NLM_F_DUMP_INTR)");
}

}  // namespace tcpreap
