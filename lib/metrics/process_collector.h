#pragma once
// The standard process metrics, as Prometheus's client libraries export
// them (client_golang's and client_python's process collectors: the same
// names, types and help texts), collected from /proc/self at every scrape:
//
//   process_cpu_seconds_total      counter  utime + stime
//   process_resident_memory_bytes  gauge    rss x page size
//   process_virtual_memory_bytes   gauge    vsize
//   process_open_fds               gauge    entries of /proc/self/fd
//   process_max_fds                gauge    RLIMIT_NOFILE, soft
//   process_start_time_seconds     gauge    btime + starttime, since the epoch
//
// A figure that cannot be read at a scrape (out of descriptors, say) is
// left out of that scrape; the rest is still there.
//
// Private to lib/metrics (daemon_metrics.cpp registers it with its
// endpoint). prometheus::Collectable is only named here, by a forward
// declaration: no prometheus-cpp header reaches those who include this.

#include <memory>
#include <string>

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace tcpreap {

// A collector of the calling process's figures. `proc_root` is "/proc" but
// for tests. Its Collect() is thread-safe (civetweb's threads call it, each
// scrape on its own) and never throws: should something fail part-way
// (std::bad_alloc), it returns the families it has. The boot time is read
// once, here, so that process_start_time_seconds stays put (btime is
// recomputed from the clock at each read of /proc/stat, and moves when the
// clock is stepped); if it cannot be read here, each scrape tries again.
std::shared_ptr<prometheus::Collectable> make_process_collector(const std::string& proc_root = "/proc");

}  // namespace tcpreap
