#pragma once
// The daemon's log: one line per action (reap, would-reap, probe) and the
// plain messages of its life (start, reload, stop). To journald with
// structured TCPREAP_* fields when stderr is the journal (log_target.h), as
// plain "tcpreapd: <message>" lines on stderr otherwise. Failures that repeat
// are rate-limited (rate_limiter.h): 5 per key per minute, then one line
// with "(N similar messages suppressed)" when the next window opens.
//
// Journald fields of an action (absent when they do not apply):
//   TCPREAP_ACTION       reap | would-reap | held-back | probe
//   TCPREAP_POLICY       the deciding policy's name
//   TCPREAP_REASON       silent | unacked | state-timeout | per-peer-limit
//   TCPREAP_LOCAL        10.0.0.1:2181, [fd00::1]:2181
//   TCPREAP_REMOTE       likewise
//   TCPREAP_METHOD       destroy | rst                 (reap, when acted on)
//   TCPREAP_OUTCOME      reap_result_name / probe_result_name
//   TCPREAP_PROBE        3/3: this probe and how many the policy wants (probe)
//   TCPREAP_LAST_RECV_MS, TCPREAP_UNACKED, TCPREAP_RETRANSMITS   the figures
//   TCPREAP_THRESHOLD_MS the configured limit the figures crossed
//   TCPREAP_UNACKED_FOR_MS (reason unacked), TCPREAP_IN_STATE_MS (state-timeout),
//   TCPREAP_PEER_CONNECTIONS (per-peer-limit)
//   TCPREAP_PROBES_UNANSWERED   dead after verification (reap)
//   TCPREAP_COOKIE       the kernel's socket cookie, decimal
//   TCPREAP_NETNS        the namespace's name (host, an ip netns name, a container ID, pod:<uid>, pid:<pid>)
//   TCPREAP_NETNS_ID     its identity, net:[inode]
//   TCPREAP_CONTAINER    the container ID or pod:<uid> of a process inside, where known
//   TCPREAP_PID, TCPREAP_PROCESS   the owning process, when found (reap)
//   TCPREAP_ERRNO        the errno behind a failure, when nonzero
//   TCPREAP_SUPPRESSED   messages of this kind suppressed before this one
//
// Not thread-safe: one EventLog, used from the event loop.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "netns/namespace_info.h"
#include "decide/verdict.h"
#include "net/tcp_socket.h"
#include "log/log_target.h"
#include "log/rate_limiter.h"
#include "diag/socket_owner.h"
#include "reap/reap_outcome.h"
#include "verify/probe_outcome.h"

namespace tcpreap {

// What tests replace; each left empty means the real thing.
struct EventLogSeams {
  // Receives each journald record ("MESSAGE=...", "PRIORITY=n",
  // "SYSLOG_IDENTIFIER=tcpreapd", then the fields) instead of sd_journal_sendv.
  std::function<void(const std::vector<std::string>& fields)> journal;
  // The clock of the rate limits, instead of steady_clock::now.
  std::function<std::chrono::steady_clock::time_point()> now;
};

class EventLog {
 public:
  // syslog(3) levels, as journald's PRIORITY= field takes them.
  enum class Priority : uint8_t { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

  // One message as both targets would write it.
  struct Record {
    Priority priority = Priority::kInfo;
    std::string message;              // MESSAGE=, or the stderr line after "tcpreapd: "
    std::vector<std::string> fields;  // "KEY=value", journald only
    std::string rate_key;             // empty: never rate-limited
    bool operator==(const Record&) const = default;
  };

  // `err` (borrowed, must outlive this) gets the stderr lines, and with
  // kJournal the records journald refused. `verbose`: debug messages (a
  // line per turn) are written too; without it they are dropped.
  explicit EventLog(LogTarget target, std::FILE* err = stderr, bool verbose = false, EventLogSeams seams = {});

  // Plain messages (start, reload, stop). `fields` ("KEY=value": A-Z, 0-9
  // and '_', not starting with '_') go to journald only; malformed ones and
  // the reserved MESSAGE, PRIORITY, SYSLOG_IDENTIFIER are dropped.
  void log(Priority p, std::string_view message, std::initializer_list<std::string> fields = {});

  // One line per reap action; `outcome` null: not acted on (dry run "would
  // reap", or held back). See reap_record.
  // `netns`, when given, adds the TCPREAP_NETNS* fields, and to the line
  // " in netns <label>" unless it is the process's own.
  void reap(const TcpSocket& s, const Decision& d, const Config& c, const ReapOutcome* outcome,
            const std::optional<SocketOwner>& owner, const NamespaceInfo* netns = nullptr);

  // One line per probe. See probe_record.
  void probe(const TcpSocket& s, const Decision& d, const Config& c, const ProbeOutcome& outcome,
             const NamespaceInfo* netns = nullptr);

  // A failure that may repeat (every scan failing alike): priority error,
  // rate-limited by `key` (keys "reap:..." and "probe:..." are the actions').
  void failure(std::string_view key, std::string_view message, std::initializer_list<std::string> fields = {});

  // The record reap() would write, before rate limiting. MESSAGE: the
  // reap_report line, plus " (pid 123 zookeeper)" when the owner is known.
  // Priority notice for done and would-reap, info for already-gone and held
  // back, warning for failures, which are rate-limited by
  // "reap:<method>:<outcome>".
  static Record reap_record(const TcpSocket& s, const Decision& d, const Config& c, const ReapOutcome* outcome,
                            const std::optional<SocketOwner>& owner, const NamespaceInfo* netns = nullptr);

  // The record probe() would write, before rate limiting. MESSAGE: the
  // probe_report line. Priority debug when the peer answered (alive: shown
  // with --verbose only); info when the probe went out unanswered (sent,
  // peer-reset) or the socket was gone; warning, rate-limited by
  // "probe:<outcome>", when it could not be sent.
  static Record probe_record(const TcpSocket& s, const Decision& d, const Config& c, const ProbeOutcome& outcome,
                             const NamespaceInfo* netns = nullptr);

  // The journald record: MESSAGE=, PRIORITY=, SYSLOG_IDENTIFIER=tcpreapd,
  // then r.fields in order.
  static std::vector<std::string> journal_fields(const Record& r);

 private:
  void emit(Record r);
  void write_line(const std::string& message);

  LogTarget target_;
  std::FILE* err_;
  bool verbose_;
  EventLogSeams seams_;
  RateLimiter limiter_;
};

}  // namespace tcpreap
