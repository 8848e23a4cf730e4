#pragma once
// One line per liveness probe, for `tcpreap reap`, `tcpreap list --verify`
// and the daemon's log:
//   probe 1/3     10.0.0.1:2181 <- 10.0.0.2:40000  zookeeper-clients: silent 31s >= 30s: sent
//   probe 2/3     ...                                ...: answered: alive
//   probe 1/3     ...                                ...: peer-reset: the peer answered RST (...)
//   probe FAILED  ...                                ...: no-answer: no answer to 4 SYN(s) in 2050 ms ...
// A socket of a namespace other than the process's own ends its line with
// " in netns web-1 net:[4026532]" (NamespaceInfo::label()).

#include <string>

#include "config/config.h"
#include "decide/verdict.h"
#include "net/tcp_socket.h"
#include "netns/namespace_info.h"
#include "verify/probe_outcome.h"

namespace tcpreap {

struct ProbeLine {
  const TcpSocket* socket = nullptr;
  const Decision* decision = nullptr;  // the verifying decision that made the probe due
  const Config* config = nullptr;
  const ProbeOutcome* outcome = nullptr;
  const NamespaceInfo* netns = nullptr;  // the socket's namespace, when several are worked on
};

void append_probe_line(const ProbeLine& line, std::string& out);

}  // namespace tcpreap
