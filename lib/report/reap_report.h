#pragma once
// One line per socket acted on (or that would be), for `tcpreap reap`,
// `tcpreap kill` and the daemon's log:
//   reaped        10.0.0.1:2181 <- 10.0.0.2:40000  zookeeper-clients: silent 4m12s >= 2m, via destroy
//   would reap    ...                                  (dry run)
//   held back     ...                                  (a max_per_scan cap; next scan)
//   FAILED        ...  via rst: no-answer: no challenge ACK after 4 SYNs
// A socket of a namespace other than the process's own ends its line with
// " in netns web-1 net:[4026532]" (NamespaceInfo::label()).

#include <string>

#include "config/config.h"
#include "decide/verdict.h"
#include "net/tcp_socket.h"
#include "netns/namespace_info.h"
#include "reap/reap_outcome.h"

namespace tcpreap {

struct ReapLine {
  const TcpSocket* socket = nullptr;
  const Decision* decision = nullptr;  // null for `kill`: no policy decided
  const Config* config = nullptr;      // with `decision`
  const ReapOutcome* outcome = nullptr;  // null: not acted on (dry run, held back)
  const NamespaceInfo* netns = nullptr;  // the socket's namespace, when several are worked on
};

void append_reap_line(const ReapLine& line, std::string& out);

}  // namespace tcpreap
