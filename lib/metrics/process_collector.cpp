#include "metrics/process_collector.h"

#include <prometheus/client_metric.h>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <optional>
#include <vector>

#include "metrics/process_stats.h"

namespace tcpreap {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

class ProcessCollector final : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::string proc_root)
      : proc_root_(std::move(proc_root)), boot_time_(read_boot_time(proc_root_)) {}

  // Stateless but for what the constructor set: any number of scrapes at once.
  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    try {
      const ProcessStats s = read_process_stats(proc_root_, boot_time_);
      // Names, types and help as client_golang and client_python have them.
      add(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", MetricType::Counter,
          s.cpu_seconds);
      add(out, "process_open_fds", "Number of open file descriptors.", MetricType::Gauge, s.open_fds);
      add(out, "process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, s.max_fds);
      add(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge, s.virtual_bytes);
      add(out, "process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
          s.resident_bytes);
      add(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
          MetricType::Gauge, s.start_time_seconds);
    } catch (...) {
      // What is in `out` is whole (push_back is all or nothing): the scrape
      // gets that, and the other collectables' metrics, rather than an error.
    }
    return out;
  }

 private:
  static void add(std::vector<MetricFamily>& out, const char* name, const char* help, MetricType type,
                  std::optional<double> value) {
    if (!value) return;
    ClientMetric m;
    if (type == MetricType::Counter)
      m.counter.value = *value;
    else
      m.gauge.value = *value;
    out.push_back(MetricFamily{name, help, type, {std::move(m)}});
  }

  const std::string proc_root_;
  const std::optional<uint64_t> boot_time_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> make_process_collector(const std::string& proc_root) {
  return std::make_shared<ProcessCollector>(proc_root);
}

}  // namespace tcpreap
