#pragma once
// A SocketFilter prepared for the kernel: one SOCK_DIAG_BY_FAMILY dump
// request per wanted family, bytecode included. Build it once, scan with it
// as often as you like.

#include <cstdint>
#include <span>
#include <vector>

#include "core/error.h"
#include "filter/socket_filter.h"
#include "netns/dump_families.h"

namespace tcpreap {

class ScanQuery {
 public:
  struct Dump {
    Family family;
    std::vector<uint8_t> request;  // nlmsghdr + inet_diag_req_v2 [+ bytecode]; seq 0
  };

  static Result<ScanQuery> compile(const SocketFilter& filter);

  const SocketFilter& filter() const { return filter_; }
  // IPv4 first, then IPv6: AF_UNSPEC is refused (ENOENT), so each family is
  // its own dump.
  const std::vector<Dump>& dumps() const { return dumps_; }
  // The families dumps() asks for (none when it asks for nothing).
  DumpFamilies families() const;

 private:
  SocketFilter filter_;
  std::vector<Dump> dumps_;
};

}  // namespace tcpreap
