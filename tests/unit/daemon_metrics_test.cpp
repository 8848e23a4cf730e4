// The daemon's metrics, read back as a scrape would read them: exact lines
// of the text exposition after each call, and the HTTP endpoint on loopback.

#include "metrics/daemon_metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/unique_fd.h"
#include "net/listen_address.h"

namespace tcpreap {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Whether the exposition holds exactly this line.
bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text)) {
    if (l == line) return true;
  }
  return false;
}

// Whether any sample (not a comment) of the exposition starts with `prefix`.
bool has_sample_starting(const std::string& text, const std::string& prefix) {
  for (const auto& l : lines_of(text)) {
    if (!l.empty() && l[0] != '#' && l.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// The value of the sample written exactly as `series` ("name" or
// "name{labels}"); NaN when there is none.
double value_of(const std::string& text, const std::string& series) {
  for (const auto& l : lines_of(text)) {
    if (l.size() > series.size() && l.compare(0, series.size(), series) == 0 && l[series.size()] == ' ') {
      return std::strtod(l.c_str() + series.size() + 1, nullptr);
    }
  }
  return std::nan("");
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

DaemonMetrics make() { return DaemonMetrics("1.2.3", "abc123"); }

TEST(DaemonMetrics, BuildInfoIsOneWithVersionAndRevision) {
  const auto text = make().text();
  EXPECT_TRUE(has_line(text, "# TYPE tcpreap_build_info gauge")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_build_info{revision="abc123",version="1.2.3"} 1)")) << text;
}

TEST(DaemonMetrics, StartsAtZero) {
  const auto text = make().text();
  for (const char* line : {
           "tcpreap_dry_run 0",
           "tcpreap_scans_total 0",
           "tcpreap_scan_errors_total 0",
           "tcpreap_scan_duration_seconds_count 0",
           "tcpreap_sockets_scanned 0",
           R"(tcpreap_scan_dumps_skipped_total{family="ipv4"} 0)",
           R"(tcpreap_scan_dumps_skipped_total{family="ipv6"} 0)",
           "tcpreap_last_scan_success_timestamp_seconds 0",
           "tcpreap_probes_sent_total 0",
           "tcpreap_probes_answered_total 0",
           "tcpreap_probes_unanswered_total 0",
           "tcpreap_probes_peer_reset_total 0",
           "tcpreap_probe_errors_total 0",
           "tcpreap_config_last_reload_successful 0",
           "tcpreap_config_last_reload_success_timestamp_seconds 0",
           // Both results exist from the start, so rate() works on the first reload.
           R"(tcpreap_config_reloads_total{result="success"} 0)",
           R"(tcpreap_config_reloads_total{result="failure"} 0)",
           // Until the daemon has looked, it claims no privilege.
           R"(tcpreap_capability{capability="CAP_NET_ADMIN"} 0)",
           R"(tcpreap_capability{capability="CAP_NET_RAW"} 0)",
           "tcpreap_rst_fallback_available 0",
           // Until the kernel has been asked, SOCK_DESTROY is not claimed.
           "tcpreap_sock_destroy_supported 0",
           // Every cause exists from the start, so rate() sees the first failure.
           R"(tcpreap_scan_errors_by_cause_total{cause="buffer-overrun"} 0)",
           R"(tcpreap_scan_errors_by_cause_total{cause="descriptors"} 0)",
           R"(tcpreap_scan_errors_by_cause_total{cause="permission"} 0)",
           R"(tcpreap_scan_errors_by_cause_total{cause="interrupted"} 0)",
           R"(tcpreap_scan_errors_by_cause_total{cause="protocol"} 0)",
           R"(tcpreap_scan_errors_by_cause_total{cause="other"} 0)",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
  }
  // Labelled families have no series until something happens.
  EXPECT_FALSE(has_sample_starting(text, "tcpreap_reaped_connections_total")) << text;
  EXPECT_FALSE(has_sample_starting(text, "tcpreap_suspect_connections")) << text;
}

// The standard process metrics, as client_golang and client_python name
// them (process_stats_test.cpp checks their values).
const std::vector<std::pair<std::string, std::string>> kProcessFamilies = {
    {"process_cpu_seconds_total", "counter"}, {"process_open_fds", "gauge"},
    {"process_max_fds", "gauge"},             {"process_virtual_memory_bytes", "gauge"},
    {"process_resident_memory_bytes", "gauge"}, {"process_start_time_seconds", "gauge"},
};

// Prometheus conventions: help on every family, _total exactly on counters,
// units in names, no addresses or ports as labels; tcpreap_ on every family
// but the standard process ones.
TEST(DaemonMetrics, EveryFamilyFollowsTheNamingConventions) {
  auto m = make();
  m.reaped("p", "destroy", "idle");
  m.would_reap("p", "idle");
  m.reap_failed("rst", "failed");
  m.held_back("p", 1);
  m.set_connections({{"p", 1}}, {{"p", 1}});
  const auto text = m.text();
  std::vector<std::string> helped;
  int families = 0;
  for (const auto& l : lines_of(text)) {
    if (l.rfind("# HELP ", 0) == 0) {
      const auto name = l.substr(7, l.find(' ', 7) - 7);
      helped.push_back(name);
      EXPECT_GT(l.size(), 7 + name.size() + 1 + 10) << "a real help string: " << l;
    } else if (l.rfind("# TYPE ", 0) == 0) {
      ++families;
      std::istringstream in(l.substr(7));
      std::string name, type;
      in >> name >> type;
      const bool process = std::find(kProcessFamilies.begin(), kProcessFamilies.end(), std::pair(name, type)) !=
                           kProcessFamilies.end();
      EXPECT_TRUE(name.rfind("tcpreap_", 0) == 0 || process) << name << " " << type;
      EXPECT_NE(std::find(helped.begin(), helped.end(), name), helped.end()) << "no HELP for " << name;
      const bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
      EXPECT_EQ(total, type == "counter") << name << " is a " << type;
    } else if (!l.empty() && l[0] != '#') {
      EXPECT_EQ(l.find("address"), std::string::npos) << l;
      EXPECT_EQ(l.find("port="), std::string::npos) << l;
    }
  }
  EXPECT_EQ(families, 28 + static_cast<int>(kProcessFamilies.size())) << text;
}

// A scrape, and text(), have the process's own health too, with the help
// texts of the other client libraries.
TEST(DaemonMetrics, TheProcessMetricsAreInEveryScrape) {
  const auto text = make().text();
  for (const auto& [name, type] : kProcessFamilies) {
    EXPECT_TRUE(has_line(text, "# TYPE " + name + " " + type)) << name << "\n" << text;
    EXPECT_TRUE(has_sample_starting(text, name + " ")) << name << "\n" << text;
  }
  EXPECT_TRUE(has_line(text, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds."))
      << text;
  EXPECT_TRUE(has_line(text, "# HELP process_open_fds Number of open file descriptors.")) << text;
  EXPECT_TRUE(has_line(text, "# HELP process_max_fds Maximum number of open file descriptors.")) << text;
  EXPECT_TRUE(has_line(text, "# HELP process_virtual_memory_bytes Virtual memory size in bytes.")) << text;
  EXPECT_TRUE(has_line(text, "# HELP process_resident_memory_bytes Resident memory size in bytes.")) << text;
  EXPECT_TRUE(
      has_line(text, "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds."))
      << text;
}

TEST(DaemonMetrics, DryRunIsAGauge) {
  auto m = make();
  m.set_dry_run(true);
  EXPECT_TRUE(has_line(m.text(), "tcpreap_dry_run 1"));
  m.set_dry_run(false);
  EXPECT_TRUE(has_line(m.text(), "tcpreap_dry_run 0"));
}

// A policy's series exist at 0 before its first reap, so that increase()
// over the first reaps sees them; then they count as usual.
TEST(DaemonMetrics, DeclaredPoliciesStartAtZero) {
  auto m = make();
  m.declare_policy("zk", {"silent", "per-peer-limit"});
  m.declare_policy("zk", {"silent", "per-peer-limit"});  // a reload: idempotent
  auto text = m.text();
  for (const char* line : {
           R"(tcpreap_reaped_connections_total{method="destroy",policy="zk",reason="silent"} 0)",
           R"(tcpreap_reaped_connections_total{method="rst",policy="zk",reason="silent"} 0)",
           R"(tcpreap_reaped_connections_total{method="destroy",policy="zk",reason="per-peer-limit"} 0)",
           R"(tcpreap_reaped_connections_total{method="rst",policy="zk",reason="per-peer-limit"} 0)",
           R"(tcpreap_would_reap_connections_total{policy="zk",reason="silent"} 0)",
           R"(tcpreap_would_reap_connections_total{policy="zk",reason="per-peer-limit"} 0)",
           R"(tcpreap_dead_connections_held_back_total{policy="zk"} 0)",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
  }
  EXPECT_FALSE(has_sample_starting(text, R"(tcpreap_reaped_connections_total{method="destroy",policy="zk",reason="unacked"})"))
      << "only the reasons the policy can give";
  m.reaped("zk", "destroy", "silent");
  text = m.text();
  EXPECT_TRUE(has_line(text, R"(tcpreap_reaped_connections_total{method="destroy",policy="zk",reason="silent"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_reaped_connections_total{method="rst",policy="zk",reason="silent"} 0)")) << text;
}

TEST(DaemonMetrics, PrivilegesAreGauges) {
  auto m = make();
  m.set_privileges(true, false, false);
  auto text = m.text();
  EXPECT_TRUE(has_line(text, R"(tcpreap_capability{capability="CAP_NET_ADMIN"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_capability{capability="CAP_NET_RAW"} 0)")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_rst_fallback_available 0")) << text;
  m.set_privileges(false, true, true);
  text = m.text();
  EXPECT_TRUE(has_line(text, R"(tcpreap_capability{capability="CAP_NET_ADMIN"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_capability{capability="CAP_NET_RAW"} 1)")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_rst_fallback_available 1")) << text;
}

TEST(DaemonMetrics, ScansCountDurationsAndTheLastSuccess) {
  auto m = make();
  const double before = now_seconds();
  m.scan_succeeded(0.003, 120);
  m.scan_succeeded(0.2, 80);
  const double after = now_seconds();
  m.scan_failed(12, Error(ENOBUFS, "receiving netlink reply"));
  const auto text = m.text();
  EXPECT_TRUE(has_line(text, "tcpreap_scans_total 3")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_scan_errors_total 1")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_sockets_scanned 80")) << text;  // the last success
  EXPECT_TRUE(has_line(text, "# TYPE tcpreap_scan_duration_seconds histogram")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_scan_duration_seconds_count 3")) << text;
  EXPECT_DOUBLE_EQ(value_of(text, "tcpreap_scan_duration_seconds_sum"), 12.203);
  // Buckets are cumulative: 1 ms, 2.5 ms, 5 ms ... 10 s, +Inf.
  EXPECT_TRUE(has_line(text, R"(tcpreap_scan_duration_seconds_bucket{le="0.001"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_scan_duration_seconds_bucket{le="0.0025"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_scan_duration_seconds_bucket{le="0.005"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_scan_duration_seconds_bucket{le="0.1"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_scan_duration_seconds_bucket{le="0.25"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_scan_duration_seconds_bucket{le="10"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_scan_duration_seconds_bucket{le="+Inf"} 3)")) << text;
  int buckets = 0;
  for (const auto& l : lines_of(text)) buckets += l.rfind("tcpreap_scan_duration_seconds_bucket{", 0) == 0;
  EXPECT_EQ(buckets, 14);
  // Wall-clock seconds since the epoch, with the fraction.
  const double at = value_of(text, "tcpreap_last_scan_success_timestamp_seconds");
  EXPECT_GE(at, before - 0.001);
  EXPECT_LE(at, after + 0.001);
}

// Each failure counts once in tcpreap_scan_errors_total (the name the
// alert rules use) and once under its cause; scan_error_cause_test.cpp
// checks which errors make which cause.
TEST(DaemonMetrics, ScanFailuresCountByCause) {
  auto m = make();
  m.scan_failed(0.1, Error(ENOBUFS, "dumping IPv4 TCP sockets: receiving netlink reply"));
  m.scan_failed(0.1, Error(ENOBUFS, "dumping IPv6 TCP sockets: receiving netlink reply"));
  m.scan_failed(0.1, Error(EMFILE, "opening netlink socket (bus 4)"));
  m.scan_failed(0.1, Error(0, "truncated netlink message: 7 bytes left at offset 20"));
  const auto text = m.text();
  EXPECT_TRUE(has_line(text, "# TYPE tcpreap_scan_errors_by_cause_total counter")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_scan_errors_total 4")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_scans_total 4")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_scan_errors_by_cause_total{cause="buffer-overrun"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_scan_errors_by_cause_total{cause="descriptors"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_scan_errors_by_cause_total{cause="protocol"} 1)")) << text;
  for (const char* cause : {"permission", "interrupted", "other"})
    EXPECT_TRUE(has_line(text, std::string(R"(tcpreap_scan_errors_by_cause_total{cause=")") + cause + "\"} 0"))
        << cause << "\n" << text;
  int series = 0;
  for (const auto& l : lines_of(text)) series += l.rfind("tcpreap_scan_errors_by_cause_total{", 0) == 0;
  EXPECT_EQ(series, 6) << "a closed set of causes";
}

TEST(DaemonMetrics, SockDestroySupportIsAGauge) {
  auto m = make();
  m.set_sock_destroy_supported(true);
  EXPECT_TRUE(has_line(m.text(), "tcpreap_sock_destroy_supported 1"));
  m.set_sock_destroy_supported(false);
  EXPECT_TRUE(has_line(m.text(), "tcpreap_sock_destroy_supported 0"));
}

TEST(DaemonMetrics, AFailedScanLeavesTheLastSuccessAlone) {
  auto m = make();
  m.scan_succeeded(0.01, 7);
  const double at = value_of(m.text(), "tcpreap_last_scan_success_timestamp_seconds");
  m.scan_failed(0.01, Error(ENOBUFS, "receiving netlink reply"));
  const auto text = m.text();
  EXPECT_TRUE(has_line(text, "tcpreap_sockets_scanned 7")) << text;
  EXPECT_EQ(value_of(text, "tcpreap_last_scan_success_timestamp_seconds"), at);
}

TEST(DaemonMetrics, ReapedCountsByPolicyMethodAndReason) {
  auto m = make();
  m.reaped("web", "destroy", "unanswered");
  m.reaped("web", "destroy", "unanswered");
  m.reaped("web", "rst", "unanswered");
  m.reaped("db", "destroy", "zero-window");
  const auto text = m.text();
  EXPECT_TRUE(has_line(text, "# TYPE tcpreap_reaped_connections_total counter")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_reaped_connections_total{method="destroy",policy="web",reason="unanswered"} 2)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_reaped_connections_total{method="rst",policy="web",reason="unanswered"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_reaped_connections_total{method="destroy",policy="db",reason="zero-window"} 1)"))
      << text;
  EXPECT_FALSE(has_sample_starting(text, "tcpreap_would_reap_connections_total")) << text;
}

TEST(DaemonMetrics, WouldReapIsNeverCountedAsReaped) {
  auto m = make();
  m.set_dry_run(true);
  m.would_reap("web", "unanswered");
  m.would_reap("web", "unanswered");
  m.would_reap("web", "retransmits");
  const auto text = m.text();
  EXPECT_TRUE(has_line(text, R"(tcpreap_would_reap_connections_total{policy="web",reason="unanswered"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_would_reap_connections_total{policy="web",reason="retransmits"} 1)")) << text;
  EXPECT_FALSE(has_sample_starting(text, "tcpreap_reaped_connections_total")) << text;
}

TEST(DaemonMetrics, ReapErrorsAndHeldBack) {
  auto m = make();
  m.reap_failed("rst", "no-answer");
  m.reap_failed("rst", "no-answer");
  m.reap_failed("destroy", "not-permitted");
  m.held_back("web", 5);
  m.held_back("web", 3);
  m.held_back("db", 0);
  const auto text = m.text();
  EXPECT_TRUE(has_line(text, R"(tcpreap_reap_errors_total{error="no-answer",method="rst"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_reap_errors_total{error="not-permitted",method="destroy"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_dead_connections_held_back_total{policy="web"} 8)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_dead_connections_held_back_total{policy="db"} 0)")) << text;
}

TEST(DaemonMetrics, SetConnectionsSetsAndRemovesPolicies) {
  auto m = make();
  m.set_connections({{"web", 4}, {"db", 2}}, {{"web", 1}, {"db", 0}});
  auto text = m.text();
  EXPECT_TRUE(has_line(text, "# TYPE tcpreap_suspect_connections gauge")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_suspect_connections{policy="web"} 4)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_suspect_connections{policy="db"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_verifying_connections{policy="web"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_verifying_connections{policy="db"} 0)")) << text;

  // A reload dropped "db" and added "api".
  m.set_connections({{"web", 3}, {"api", 1}}, {{"web", 0}, {"api", 0}});
  text = m.text();
  EXPECT_TRUE(has_line(text, R"(tcpreap_suspect_connections{policy="web"} 3)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_suspect_connections{policy="api"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_verifying_connections{policy="web"} 0)")) << text;
  EXPECT_FALSE(has_sample_starting(text, R"(tcpreap_suspect_connections{policy="db"})")) << text;
  EXPECT_FALSE(has_sample_starting(text, R"(tcpreap_verifying_connections{policy="db"})")) << text;

  // And back again: a fresh series.
  m.set_connections({{"db", 6}}, {});
  text = m.text();
  EXPECT_TRUE(has_line(text, R"(tcpreap_suspect_connections{policy="db"} 6)")) << text;
  EXPECT_FALSE(has_sample_starting(text, R"(tcpreap_suspect_connections{policy="web"})")) << text;
  EXPECT_FALSE(has_sample_starting(text, "tcpreap_verifying_connections{")) << text;
}

TEST(DaemonMetrics, ProbeTotalsAdvanceByTheDifference) {
  auto m = make();
  m.set_probe_totals({10, 4, 5, 1, 0});
  auto text = m.text();
  EXPECT_TRUE(has_line(text, "tcpreap_probes_sent_total 10")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_probes_answered_total 4")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_probes_unanswered_total 5")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_probes_peer_reset_total 1")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_probe_errors_total 0")) << text;

  m.set_probe_totals({10, 4, 5, 1, 0});  // nothing new
  m.set_probe_totals({13, 6, 5, 1, 2});
  text = m.text();
  EXPECT_TRUE(has_line(text, "tcpreap_probes_sent_total 13")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_probes_answered_total 6")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_probes_unanswered_total 5")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_probes_peer_reset_total 1")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_probe_errors_total 2")) << text;

  // The source started again from zero: what it counted since is added.
  m.set_probe_totals({2, 1, 0, 0, 0});
  text = m.text();
  EXPECT_TRUE(has_line(text, "tcpreap_probes_sent_total 15")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_probes_answered_total 7")) << text;
  EXPECT_TRUE(has_line(text, "tcpreap_probes_unanswered_total 5")) << text;
  m.set_probe_totals({3, 1, 0, 0, 0});
  EXPECT_TRUE(has_line(m.text(), "tcpreap_probes_sent_total 16"));
}

TEST(DaemonMetrics, ConfigLoadedAtStartIsNoReload) {
  auto m = make();
  const double before = now_seconds();
  m.config_loaded(true);
  const auto text = m.text();
  EXPECT_TRUE(has_line(text, "tcpreap_config_last_reload_successful 1")) << text;
  EXPECT_GE(value_of(text, "tcpreap_config_last_reload_success_timestamp_seconds"), before - 0.001);
  EXPECT_TRUE(has_line(text, R"(tcpreap_config_reloads_total{result="success"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_config_reloads_total{result="failure"} 0)")) << text;
}

TEST(DaemonMetrics, ReloadsCountByResult) {
  auto m = make();
  m.config_loaded(true);
  const double loaded_at = value_of(m.text(), "tcpreap_config_last_reload_success_timestamp_seconds");

  m.config_reloaded(false);
  auto text = m.text();
  EXPECT_TRUE(has_line(text, "tcpreap_config_last_reload_successful 0")) << text;
  EXPECT_EQ(value_of(text, "tcpreap_config_last_reload_success_timestamp_seconds"), loaded_at);
  EXPECT_TRUE(has_line(text, R"(tcpreap_config_reloads_total{result="failure"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_config_reloads_total{result="success"} 0)")) << text;

  m.config_reloaded(true);
  m.config_reloaded(true);
  text = m.text();
  EXPECT_TRUE(has_line(text, "tcpreap_config_last_reload_successful 1")) << text;
  EXPECT_GE(value_of(text, "tcpreap_config_last_reload_success_timestamp_seconds"), loaded_at);
  EXPECT_TRUE(has_line(text, R"(tcpreap_config_reloads_total{result="failure"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_config_reloads_total{result="success"} 2)")) << text;
}

TEST(DaemonMetrics, MovesKeepTheCounts) {
  auto m = make();
  m.scan_failed(0.1, Error(ENOBUFS, "receiving netlink reply"));
  DaemonMetrics moved(std::move(m));
  moved.scan_failed(0.1, Error(ENOBUFS, "receiving netlink reply"));
  DaemonMetrics assigned("0", "0");
  assigned = std::move(moved);
  const auto text = assigned.text();
  EXPECT_TRUE(has_line(text, "tcpreap_scan_errors_total 2")) << text;
  EXPECT_TRUE(has_line(text, R"(tcpreap_build_info{revision="abc123",version="1.2.3"} 1)")) << text;
}

// --- The HTTP endpoint, on loopback only. ---

// A loopback port free a moment ago: bound to port 0, read back, closed.
uint16_t free_loopback_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(fd.valid()) << std::strerror(errno);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof sin), 0) << std::strerror(errno);
  socklen_t len = sizeof sin;
  EXPECT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sin), &len), 0) << std::strerror(errno);
  return ntohs(sin.sin_port);
}

// The whole HTTP/1.0 response to GET `path` from 127.0.0.1:`port`.
std::string http_get(uint16_t port, const std::string& path) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return "socket: " + std::string(std::strerror(errno));
  const timeval timeout{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0) {
    return "connect: " + std::string(std::strerror(errno));
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    return "send: " + std::string(std::strerror(errno));
  }
  std::string response;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0) return response + "\nrecv: " + std::strerror(errno);
    if (n == 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  return response;
}

TEST(DaemonMetricsListen, ServesTheMetricsOverHttp) {
  auto m = make();
  m.reaped("web", "destroy", "unanswered");
  const uint16_t port = free_loopback_port();
  const auto status = m.listen("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(status.ok()) << status.error().message();
  const auto response = http_get(port, "/metrics");
  EXPECT_EQ(response.rfind("HTTP/1.", 0), 0u) << response;
  EXPECT_NE(response.find(" 200 "), std::string::npos) << response;
  EXPECT_NE(response.find("\ntcpreap_build_info{"), std::string::npos) << response;
  EXPECT_NE(response.find(R"(tcpreap_reaped_connections_total{method="destroy",policy="web",reason="unanswered"} 1)"),
            std::string::npos)
      << response;

  // Only once.
  const auto again = m.listen("127.0.0.1:" + std::to_string(free_loopback_port()));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message().find("already"), std::string::npos) << again.error().message();
}

TEST(DaemonMetricsListen, AnAddressInUseIsAnErrorNotAThrow) {
  UniqueFd taken(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(taken.valid());
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(taken.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof sin), 0);
  ASSERT_EQ(::listen(taken.get(), 1), 0);
  socklen_t len = sizeof sin;
  ASSERT_EQ(::getsockname(taken.get(), reinterpret_cast<sockaddr*>(&sin), &len), 0);
  const std::string address = "127.0.0.1:" + std::to_string(ntohs(sin.sin_port));

  auto m = make();
  const auto status = m.listen(address);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().errnum(), EADDRINUSE) << status.error().message();
  EXPECT_NE(status.error().message().find(address), std::string::npos) << status.error().message();
  // Still usable, and free to try elsewhere.
  m.scan_failed(1, Error(ENOBUFS, "receiving netlink reply"));
  EXPECT_TRUE(has_line(m.text(), "tcpreap_scans_total 1"));
  const uint16_t port = free_loopback_port();
  const auto retry = m.listen("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(retry.ok()) << retry.error().message();
  EXPECT_NE(http_get(port, "/metrics").find("tcpreap_scans_total 1"), std::string::npos);
}

// One rule for metrics.listen (net/listen_address.h): the daemon refuses
// exactly what the config refuses, localhost and IPv6 among them, with the
// message the config's diagnostic gives.
TEST(DaemonMetricsListen, RefusesWhatTheConfigRefuses) {
  auto m = make();
  for (const char* address : {"", "9100", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                              "127.0.0.1:+80", "127.0.0.1:80x", "example.org:9100", ":9100", "127.1:9100",
                              "300.0.0.1:9100", "localhost:9100", "[::1]:10126", "::1:10126"}) {
    const auto status = m.listen(address);
    ASSERT_FALSE(status.ok()) << "'" << address << "' was accepted";
    EXPECT_EQ(status.error().message(), "cannot serve metrics: " + parse_listen_address(address).error().message());
  }
}

}  // namespace
}  // namespace tcpreap
