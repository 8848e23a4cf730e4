#pragma once
// The figures behind the standard Prometheus process metrics (those of the
// client_golang and client_python process collectors), read from /proc:
// pure parsers of /proc's text, and one reader that puts them together.
//
// The parsers take text and return values or an Error naming the field and
// what was found there; they never throw but for std::bad_alloc.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace tcpreap {

// The fields of /proc/PID/stat the process metrics use (proc_pid_stat(5)).
struct ProcStat {
  uint64_t utime_ticks = 0;      // field 14, user CPU time, in clock ticks
  uint64_t stime_ticks = 0;      // field 15, system CPU time, in clock ticks
  uint64_t starttime_ticks = 0;  // field 22, clock ticks after boot when the process started
  uint64_t vsize_bytes = 0;      // field 23, virtual memory size
  uint64_t rss_pages = 0;        // field 24, resident set size

  bool operator==(const ProcStat&) const = default;
};

// Parses one /proc/PID/stat line. The command name (field 2, in
// parentheses) may hold spaces and ')' - it is whatever the process set,
// up to 15 bytes - so the fields are counted from the LAST ')'. Fields
// beyond those used may be missing (older kernels print fewer); a used one
// missing, or not a decimal count, is an Error.
Result<ProcStat> parse_proc_stat(std::string_view text);

// The boot time, in seconds since the epoch: the "btime" line of /proc/stat.
Result<uint64_t> parse_boot_time(std::string_view proc_stat);

// The process metrics' values. A figure that could not be read is empty.
struct ProcessStats {
  std::optional<double> cpu_seconds;         // utime + stime
  std::optional<double> resident_bytes;      // rss pages x page size
  std::optional<double> virtual_bytes;       // vsize
  std::optional<double> open_fds;            // entries of /proc/self/fd
  std::optional<double> max_fds;             // RLIMIT_NOFILE, the soft limit
  std::optional<double> start_time_seconds;  // since the epoch: btime + starttime
};

// Reads the calling process's figures now, from `proc_root`/self/stat,
// `proc_root`/self/fd and (unless `boot_time` is given) `proc_root`/stat;
// `proc_root` is "/proc" but for tests. The descriptor used to count
// /proc/self/fd is among those counted, as in client_golang and
// client_python. Thread-safe; never throws but for std::bad_alloc.
ProcessStats read_process_stats(const std::string& proc_root, std::optional<uint64_t> boot_time);

// `proc_root`/stat's boot time, or empty when it cannot be read.
std::optional<uint64_t> read_boot_time(const std::string& proc_root);

}  // namespace tcpreap
