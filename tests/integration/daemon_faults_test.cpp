// tcpreapd survives what goes wrong around it, on the real kernel:
//  - out of file descriptors (its RLIMIT_NOFILE lowered while it runs to
//    exactly what it holds): it says so, its metrics are still scraped,
//    its turns go on reaping, and it is whole again once descriptors are
//    free;
//  - a reload storm (SIGHUP every 50 ms for 60 s, the file swapping
//    between a valid and a broken config) while connections churn and
//    peers die: it never stops, every reload is counted once as what it
//    was, nothing live is reaped and the dead are;
//  - a kernel (or seccomp profile) that refuses the probes' raw and
//    AF_PACKET sockets with EPERM or EAFNOSUPPORT: probes count as errors,
//    nothing is reaped on silence, and the log says why once;
//  - an exception in a turn (std::bad_alloc, its address space capped):
//    exit status 1 and a line saying where.
// Deadlines here only stop a broken run; nothing asserts how fast it was.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "support/busy_connection.h"
#include "support/daemon_hosts.h"
#include "support/http_get.h"
#include "support/netns.h"
#include "support/scan.h"
#include "support/support_error.h"
#include "support/tcp.h"
#include "support/temp_file.h"

#ifndef TCPREAPD_BIN
#error "TCPREAPD_BIN (the path of the built tcpreapd) must be defined"
#endif
#ifndef REFUSE_RAW_SOCKETS_BIN
#error "REFUSE_RAW_SOCKETS_BIN (the path of tests/support/refuse_raw_sockets) must be defined"
#endif

namespace tcpreap::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Conn = PeerConn;

// A field of /proc/PID/status in kB ("VmRSS", "VmSize").
long status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) != 0) continue;
    return std::stol(line.substr(field.size() + 1));
  }
  throw SupportError("no " + field + " in /proc/" + std::to_string(pid) + "/status");
}

// utime + stime of the whole process, in clock ticks.
unsigned long long cpu_ticks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "(comm) "
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoull(f);
    if (i == 15) {
      stime = std::stoull(f);
      break;
    }
  }
  return utime + stime;
}

// The descriptor numbers the process holds.
std::set<int> open_fds(pid_t pid) {
  std::set<int> fds;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    fds.insert(std::stoi(e.path().filename().string()));
  return fds;
}

// The lowest descriptor number free in the process: a soft RLIMIT_NOFILE of
// exactly this leaves it none to open.
int lowest_free_fd(pid_t pid) {
  const std::set<int> fds = open_fds(pid);
  int n = 0;
  while (fds.count(n) != 0) ++n;
  return n;
}

// Waits until the daemon's descriptor table stops shrinking: the scrapes of
// wait_up() closed (civetweb closes its end a moment after the client). A
// limit set from lowest_free_fd() before that would leave a descriptor free.
void settle_descriptors(pid_t pid) {
  for (size_t last = 0, now = open_fds(pid).size(); now != last; last = now, now = open_fds(pid).size())
    std::this_thread::sleep_for(std::chrono::seconds(1));
}

rlimit nofile_of(pid_t pid) {
  rlimit r{};
  if (::prlimit(pid, RLIMIT_NOFILE, nullptr, &r) != 0) throw_errno("prlimit(RLIMIT_NOFILE) of the daemon", errno);
  return r;
}

// Its soft limit only: raising it back needs no privilege (the hard limit
// would need CAP_SYS_RESOURCE, which this machine's root lacks).
void set_nofile_soft(pid_t pid, rlim_t soft) {
  rlimit r = nofile_of(pid);
  r.rlim_cur = soft;
  if (::prlimit(pid, RLIMIT_NOFILE, &r, nullptr) != 0) throw_errno("prlimit(RLIMIT_NOFILE) of the daemon", errno);
}

size_t count_lines(const std::string& output, const std::string& part) {
  size_t n = 0;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);)
    if (line.find(part) != std::string::npos) ++n;
  return n;
}

// The file at `path` replaced whole by `text`: readers see the old or the
// new one, never half of either.
void replace_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".new";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) throw SupportError("writing " + tmp);
  }
  std::filesystem::permissions(tmp, std::filesystem::perms(0644));
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw_errno("rename " + tmp, errno);
}

class DaemonFaultsTest : public DaemonHostsTest {
 protected:
  DaemonFaultsTest() : DaemonHostsTest(TCPREAPD_BIN) {}

  // The config with a policy on port 0 that reaps after 2 s of silence,
  // verified by a probe when `verify`.
  std::string silent_policy(uint16_t mport, bool verify, const std::string& silent_for = "2s") {
    return config_head(mport) +
           "policies:\n"
           "  - name: stale\n"
           "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
           "    dead_when: { silent_for: " + silent_for + " }\n" +
           (verify ? "    verify: { probes: 1, interval: 1s }\n" : "");
  }

  std::string scrape_patiently(uint16_t port) {
    ScopedNetns in(hosts_->server());
    return http_get("127.0.0.1", port, "/metrics", 20s);
  }
};

TEST_F(DaemonFaultsTest, OutOfFileDescriptorsItSaysSoKeepsServingAndRecovers) {
  Conn dead = connect(false, 0);
  const uint16_t mport = free_metrics_port();
  const TempFile cfg(silent_policy(mport, false));
  // Root, as the test: prlimit(2) on another process needs the same ids.
  auto d = start(cfg.path(), {"--user", "root", "--verbose"});
  wait_up(*d, mport);
  const pid_t pid = d->pid();
  const rlimit before = nofile_of(pid);
  const double scan_errors = metric(mport, "tcpreap_scan_errors_total");

  // Not one descriptor left.
  settle_descriptors(pid);
  const int full = lowest_free_fd(pid);
  std::printf("tcpreapd holds %zu descriptors; soft RLIMIT_NOFILE %llu -> %d\n", open_fds(pid).size(),
              static_cast<unsigned long long>(before.rlim_cur), full);
  set_nofile_soft(pid, static_cast<rlim_t>(full));
  const size_t turns = count_lines(d->output(), ": turn ");
  kill_peers({&dead});

  // A scrape now: civetweb cannot accept it until a descriptor is free.
  const unsigned long long cpu0 = cpu_ticks(pid);
  const auto t0 = Clock::now();
  std::string text;
  try {
    text = scrape_patiently(mport);
  } catch (const SupportError& e) {
    std::printf("CPU while the scrape waited: %llu ticks in %.1f s\n", cpu_ticks(pid) - cpu0,
                std::chrono::duration<double>(Clock::now() - t0).count());
    FAIL() << "no scrape out of descriptors: " << e.what() << "\n" << d->output();
  }
  std::printf("CPU until the scrape was answered: %llu ticks in %.1f s\n", cpu_ticks(pid) - cpu0,
              std::chrono::duration<double>(Clock::now() - t0).count());
  EXPECT_EQ(metric_value(text, "tcpreap_scan_errors_total"), scan_errors) << text;

  // Turns go on, and reap: SOCK_DESTROY needs no new descriptor.
  ASSERT_TRUE(eventually(*d, [&] { return !present(dead); })) << d->output();
  EXPECT_EQ(next_recv(dead.server.get()), ECONNABORTED);
  ASSERT_TRUE(eventually(*d, [&] { return count_lines(d->output(), ": turn ") >= turns + 3; })) << d->output();
  // A reload reads the file.
  d->signal(SIGHUP);
  ASSERT_TRUE(eventually(*d, [&] {
    return counter(mport, "tcpreap_config_reloads_total", {{"result", "success"}}) >= 1;
  })) << d->output();
  // Said once, with the limit.
  EXPECT_EQ(count_lines(d->output(), "out of file descriptors"), 1u) << d->output();
  EXPECT_NE(d->output().find("RLIMIT_NOFILE " + std::to_string(full)), std::string::npos) << d->output();

  // Descriptors free again: the reserve is taken back, and it says so.
  set_nofile_soft(pid, before.rlim_cur);
  ASSERT_TRUE(eventually(*d, [&] { return d->output().find("file descriptors available again") != std::string::npos; }))
      << d->output();
  ASSERT_TRUE(more_scans(*d, mport, 2)) << d->output();
  EXPECT_EQ(metric(mport, "tcpreap_scan_errors_total"), scan_errors);
  EXPECT_EQ(count_lines(d->output(), "out of file descriptors"), 1u) << d->output();
  expect_clean_stop(*d);
}

// The reserve is let go at a turn's check; between turns, the last free
// descriptor can be taken (here by a metrics client civetweb accepts and
// holds while it waits for the request), and then a reload cannot open the
// config. With no turn due for an hour, only the reload itself can make room.
TEST_F(DaemonFaultsTest, AReloadOutOfDescriptorsBetweenTurnsLetsTheReserveGoItself) {
  const uint16_t mport = free_metrics_port();
  const TempFile cfg("scan: { interval: 1h }\n"
                     "metrics: { listen: \"127.0.0.1:" + std::to_string(mport) + "\" }\n"
                     "policies:\n"
                     "  - name: stale\n"
                     "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                     "    dead_when: { silent_for: 1h }\n");
  auto d = start(cfg.path(), {"--user", "root", "--verbose"});
  wait_up(*d, mport);
  ASSERT_TRUE(eventually(*d, [&] { return count_lines(d->output(), ": turn 1:") == 1; })) << d->output();
  const pid_t pid = d->pid();
  const rlimit before = nofile_of(pid);

  settle_descriptors(pid);

  // Exactly one descriptor free, and a client takes it.
  const int full = lowest_free_fd(pid);
  set_nofile_soft(pid, static_cast<rlim_t>(full + 1));
  UniqueFd client;
  {
    ScopedNetns in(hosts_->server());
    client = tcp_connect("127.0.0.1", mport);
  }
  ASSERT_TRUE(eventually(*d, [&] { return lowest_free_fd(pid) > full; })) << "civetweb never accepted";

  d->signal(SIGHUP);
  ASSERT_TRUE(eventually(*d, [&] {
    return d->output().find("reloaded ") != std::string::npos || d->output().find("reload failed") != std::string::npos;
  })) << d->output();
  EXPECT_EQ(count_lines(d->output(), "reload failed"), 0u) << d->output();
  EXPECT_EQ(count_lines(d->output(), "reloaded "), 1u) << d->output();
  EXPECT_EQ(count_lines(d->output(), "out of file descriptors (RLIMIT_NOFILE " + std::to_string(full + 1) + ")"), 1u)
      << d->output();
  EXPECT_EQ(count_lines(d->output(), ": turn "), 1u) << "a turn ran, so this proved nothing:\n" << d->output();

  client.reset();
  set_nofile_soft(pid, before.rlim_cur);
  expect_clean_stop(*d);
}

TEST_F(DaemonFaultsTest, ReloadStormNeverStopsItNorReapsTheLive) {
  Conn live = connect(false, 0), dead4 = connect(false, 0), dead6 = connect(true, 0);
  UniqueFd busy_client;
  {
    ScopedNetns in(hosts_->server());
    busy_client = tcp_connect("127.0.0.1", port_[0]);
  }
  UniqueFd busy_server = tcp_accept(listener4_[0].get());
  BusyConnection busy(std::move(busy_client), std::move(busy_server), 10ms);
  kill_peers({&dead4, &dead6});

  const uint16_t mport = free_metrics_port();
  const std::string valid = silent_policy(mport, true);
  const std::string broken = silent_policy(mport, true, "2 fortnights");
  const TempFile cfg(valid);
  std::filesystem::permissions(cfg.path(), std::filesystem::perms(0644));
  auto d = start(cfg.path());
  wait_up(*d, mport);
  const long rss_before = status_kb(d->pid(), "VmRSS");

  constexpr auto kStorm = 60s;
  constexpr auto kEvery = 50ms;
  const auto end = Clock::now() + kStorm;
  std::optional<Conn> late_dead;
  int signals = 0, churned = 0;
  for (bool broken_next = true; Clock::now() < end && d->running(); broken_next = !broken_next) {
    replace_file(cfg.path(), broken_next ? broken : valid);
    d->signal(SIGHUP);
    ++signals;
    // Churn: a connection in the policy's scope, opened and gone.
    if (signals % 4 == 0) {
      Conn c = connect(false, 0);
      ++churned;
    }
    // Halfway, a peer dies mid-storm.
    if (!late_dead && Clock::now() > end - kStorm / 2) {
      late_dead.emplace(connect(false, 0));
      kill_peers({&*late_dead});
    }
    std::this_thread::sleep_for(kEvery);
  }
  ASSERT_TRUE(d->running()) << "it stopped during the storm:\n" << d->output();

  // The storm's end: the valid file, once more, and every reload said.
  replace_file(cfg.path(), valid);
  d->signal(SIGHUP);
  const MetricLabels success{{"result", "success"}}, failure{{"result", "failure"}};
  auto settled = [&] {
    const std::string out = d->output();
    const std::string text = scrape(mport);
    const size_t last_ok = out.rfind("tcpreapd: reloaded "), last_failed = out.rfind("tcpreapd: reload failed");
    return find_metric(text, "tcpreap_config_reloads_total", success).value_or(0) ==
               static_cast<double>(count_lines(out, "tcpreapd: reloaded ")) &&
           find_metric(text, "tcpreap_config_reloads_total", failure).value_or(0) ==
               static_cast<double>(count_lines(out, "tcpreapd: reload failed")) &&
           last_ok != std::string::npos && (last_failed == std::string::npos || last_ok > last_failed) &&
           metric_value(text, "tcpreap_config_last_reload_successful") == 1;
  };
  ASSERT_TRUE(eventually(*d, settled)) << scrape(mport) << d->output();

  const std::string out = d->output();
  const size_t ok = count_lines(out, "tcpreapd: reloaded "), failed = count_lines(out, "tcpreapd: reload failed");
  std::printf("%d SIGHUPs (signals that come together are one reload): %zu reloaded, %zu failed; %d connections "
              "churned; VmRSS %ld kB before, %ld kB after\n",
              signals + 1, ok, failed, churned, rss_before, status_kb(d->pid(), "VmRSS"));
  EXPECT_GE(ok, 2u);
  EXPECT_GE(failed, 1u);

  // The dead are reaped, the live are not.
  ASSERT_TRUE(eventually(*d, [&] { return !present(dead4) && !present(dead6) && !present(*late_dead); }))
      << d->output();
  EXPECT_EQ(next_recv(dead4.server.get()), ECONNABORTED);
  EXPECT_EQ(next_recv(late_dead->server.get()), ECONNABORTED);
  EXPECT_TRUE(present(live)) << "a live idle connection was reaped\n" << d->output();
  expect_untouched(live);
  busy.stop();
  EXPECT_EQ(busy.error(), "");
  expect_clean_stop(*d);
}

struct Refusal {
  const char* name;
  int errnum;
};

class RawSocketsRefusedTest : public DaemonFaultsTest, public ::testing::WithParamInterface<Refusal> {};

TEST_P(RawSocketsRefusedTest, ProbesFailNothingIsReapedOnSilenceAndTheLogSaysWhyOnce) {
  const Refusal refusal = GetParam();
  Conn dead = connect(false, 0);
  kill_peers({&dead});
  const uint16_t mport = free_metrics_port();
  const TempFile cfg(silent_policy(mport, true));
  auto d = start(cfg.path(), {}, {}, {REFUSE_RAW_SOCKETS_BIN, refusal.name});
  const std::string first = wait_up(*d, mport);
  EXPECT_EQ(metric_value(first, "tcpreap_rst_fallback_available"), 0) << first;

  ASSERT_TRUE(eventually(*d, [&] { return metric(mport, "tcpreap_probe_errors_total") >= 3; }))
      << scrape(mport) << d->output();
  ASSERT_TRUE(more_scans(*d, mport, 3)) << d->output();
  EXPECT_TRUE(present(dead)) << "reaped on silence without a probe\n" << d->output();
  EXPECT_EQ(next_recv(dead.server.get(), 0), EAGAIN);
  const std::string text = scrape(mport);
  EXPECT_EQ(find_metric(text, "tcpreap_reaped_connections_total",
                        {{"policy", "stale"}, {"method", "destroy"}, {"reason", "silent"}})
                .value_or(0),
            0)
      << text;
  EXPECT_EQ(metric_value(text, "tcpreap_probes_sent_total"), 0) << text;

  const std::string out = d->output();
  EXPECT_EQ(count_lines(out, std::strerror(refusal.errnum)), 1u)
      << "the reason, " << std::strerror(refusal.errnum) << ", not said exactly once:\n" << out;
  EXPECT_EQ(count_lines(out, "liveness probes unavailable"), 1u) << out;
  expect_clean_stop(*d);
}

INSTANTIATE_TEST_SUITE_P(Errno, RawSocketsRefusedTest,
                         ::testing::Values(Refusal{"EPERM", EPERM}, Refusal{"EAFNOSUPPORT", EAFNOSUPPORT}),
                         [](const ::testing::TestParamInfo<Refusal>& p) { return std::string(p.param.name); });

TEST_F(DaemonFaultsTest, AnExceptionInATurnEndsItWithStatusOneAndALine) {
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer's shadow memory takes terabytes of address space: a
  // daemon built with it cannot live under an RLIMIT_AS cap at all. The
  // plain build (make test runs both) runs this case.
  GTEST_SKIP() << "RLIMIT_AS cannot cap an AddressSanitizer build";
#endif
  const uint16_t mport = free_metrics_port();
  UniqueFd listener;
  uint16_t port = 0;
  {
    ScopedNetns in(hosts_->server());
    listener = tcp_listen("127.0.0.1");
    port = local_endpoint(listener.get()).port;
  }
  const TempFile cfg(config_head(mport) +
                     "policies:\n"
                     "  - name: many\n"
                     "    match: { local_ports: [" + std::to_string(port) + "] }\n"
                     "    dead_when: { unacked_for: 5m }\n");
  // One malloc arena: the threads' arenas (64 MiB of address space each,
  // reserved up front) would otherwise feed the turn whatever the cap.
  auto d = start(cfg.path(), {"--user", "root"}, {{"MALLOC_ARENA_MAX", "1"}});
  wait_up(*d, mport);
  // Its address space capped at what it has: a turn that needs more memory
  // gets std::bad_alloc. Nothing scrapes from now on (a scrape would
  // allocate in civetweb's threads).
  const pid_t pid = d->pid();
  rlimit as{static_cast<rlim_t>(status_kb(pid, "VmSize")) * 1024, RLIM_INFINITY};
  ASSERT_EQ(::prlimit(pid, RLIMIT_AS, &as, nullptr), 0) << std::strerror(errno);

  // Ever more sockets in scope, until a turn runs out.
  std::vector<UniqueFd> held;
  {
    ScopedNetns in(hosts_->server());
    for (int batch = 0; batch < 8 && d->running(); ++batch) {
      for (int i = 0; i < 1000; ++i) {
        held.push_back(tcp_connect("127.0.0.1", port));
        held.push_back(tcp_accept(listener.get()));
      }
      d->wait_exit(2s);
    }
  }
  const auto status = d->wait_exit(kDeadline);
  ASSERT_TRUE(status.has_value()) << "still running with " << held.size() << " sockets in scope:\n" << d->output();
  EXPECT_EQ(*status, 1) << d->output();
  EXPECT_EQ(count_lines(d->output(), "internal error in a scan turn: std::bad_alloc; exiting with status 1"), 1u)
      << d->output();
}

}  // namespace
}  // namespace tcpreap::test
