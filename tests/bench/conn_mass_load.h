#pragma once
// conn_mass (conn_mass.cpp) in several network namespaces at once: N
// established loopback connections spread over them, both ends of each in
// one namespace, held until the object goes. For the benchmarks that load
// the host (CONN_MASS_BIN, tests/bench/CMakeLists.txt).

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace tcpreap::test {

class ConnMassLoad {
 public:
  // One conn_mass per namespace (`ip netns exec NAME`) with its share of
  // `connections` (the first ones take one more when they do not divide),
  // ready files in `dir`. Returns once every one holds its share, or as
  // soon as `stop` is set. Throws SupportError when one ends before it is
  // ready, or none is ready after 15 minutes.
  ConnMassLoad(const std::vector<std::string>& namespaces, long connections, const std::string& dir,
               const volatile std::sig_atomic_t& stop);
  // SIGTERM to each (its sockets close with RST: no TIME-WAIT), SIGKILL
  // after 60 s; reaped.
  ~ConnMassLoad();
  ConnMassLoad(const ConnMassLoad&) = delete;
  ConnMassLoad& operator=(const ConnMassLoad&) = delete;

 private:
  std::vector<std::unique_ptr<ChildProcess>> masses_;
};

// TCP sockets allocated on the whole machine: "alloc" of /proc/net/sockstat
// is global, whatever namespace reads it. -1 when unreadable.
long tcp_sockets_allocated();

// Waits, up to 2 minutes or until `stop` is set, for tcp_sockets_allocated()
// to fall back near `base`: closed sockets and deleted namespaces are freed
// asynchronously, and any left in the shared established hash would weigh
// on the next measurement's walks.
void wait_tcp_sockets_freed(long base, const volatile std::sig_atomic_t& stop);

}  // namespace tcpreap::test
