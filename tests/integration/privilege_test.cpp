// tcpreapd with no more privilege than it needs, on the real kernel:
//  - as an unprivileged user holding only CAP_NET_ADMIN and CAP_NET_RAW
//    (what tcpreapd.service grants), it probes and reaps;
//  - started as root, it becomes nobody (--user) keeping those two, and
//    still probes and reaps; --user root keeps root with the two;
//  - started by a non-root user from a binary with file capabilities (the
//    container image), it holds the two;
//  - without CAP_NET_RAW it still reaps with SOCK_DESTROY, says the RST
//    fallback and the probes are unavailable, and a verifying policy then
//    reaps nothing on silence.
// The user is nobody (65534), set with setpriv(1) from util-linux, which
// execs the daemon in place (its PID is the daemon's).

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/daemon_hosts.h"
#include "support/scan.h"
#include "support/support_error.h"
#include "support/temp_file.h"

#ifndef TCPREAPD_BIN
#error "TCPREAPD_BIN (the path of the built tcpreapd) must be defined"
#endif

namespace tcpreap::test {
namespace {

using Conn = PeerConn;

constexpr int kNobody = 65534;
constexpr uint64_t kNetAdmin = uint64_t{1} << 12, kNetRaw = uint64_t{1} << 13;

// A copy of the daemon that nobody may execute: the build tree may sit
// under a directory only root can enter. Removed with the fixture.
class BinaryCopy {
 public:
  BinaryCopy() : path_("/tmp/tcpreapd-privilege-test-" + std::to_string(::getpid())) {
    std::filesystem::copy_file(TCPREAPD_BIN, path_, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(path_, std::filesystem::perms(0755));
  }
  ~BinaryCopy() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The fields of /proc/PID/status that say who a process is.
struct Identity {
  uint64_t eff = 0, prm = 0, inh = 0, bnd = 0, amb = 0;
  int uid = -1;
  int no_new_privs = -1;
};

Identity identity_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in) throw SupportError("reading /proc/" + std::to_string(pid) + "/status");
  Identity id;
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string key;
    f >> key;
    if (key == "Uid:") f >> id.uid;
    else if (key == "NoNewPrivs:") f >> id.no_new_privs;
    else if (key == "CapEff:") f >> std::hex >> id.eff;
    else if (key == "CapPrm:") f >> std::hex >> id.prm;
    else if (key == "CapInh:") f >> std::hex >> id.inh;
    else if (key == "CapBnd:") f >> std::hex >> id.bnd;
    else if (key == "CapAmb:") f >> std::hex >> id.amb;
  }
  return id;
}

// setpriv: become nobody with exactly `caps` (e.g. "+net_admin,+net_raw")
// as ambient capabilities, the bounding set cut to them - as the unit does.
std::vector<std::string> as_nobody_with(const std::string& caps) {
  const std::string n = std::to_string(kNobody);
  return {"setpriv", "--reuid=" + n, "--regid=" + n, "--clear-groups", "--inh-caps=-all," + caps,
          "--ambient-caps=-all," + caps, "--bounding-set=-all," + caps};
}

const std::string kOnePolicy =
    "policies:\n"
    "  - name: any\n"
    "    match: { states: [established] }\n"
    "    dead_when: { unacked_for: 5m }\n";

class PrivilegeTest : public DaemonHostsTest {
 protected:
  PrivilegeTest() : DaemonHostsTest(binary_copy().path()) {}

  // The config, readable by nobody whatever the umask.
  std::unique_ptr<TempFile> config(const std::string& text) {
    auto f = std::make_unique<TempFile>(text);
    std::filesystem::permissions(f->path(), std::filesystem::perms(0644));
    return f;
  }

  static const BinaryCopy& binary_copy() {
    static const BinaryCopy copy;
    return copy;
  }
};

TEST_F(PrivilegeTest, AnUnprivilegedUserWithTheTwoCapabilitiesProbesAndReaps) {
  Conn live = connect(false), dead4 = connect(false), dead6 = connect(true);
  kill_peers({&dead4, &dead6});
  const uint16_t mport = free_metrics_port();
  auto cfg = config(config_head(mport) +
                    "policies:\n"
                    "  - name: stale\n"
                    "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                    "    dead_when: { silent_for: 2s }\n"
                    "    verify: { probes: 1, interval: 1s }\n");
  auto d = start(cfg->path(), {}, {}, as_nobody_with("+net_admin,+net_raw"));
  const std::string first = wait_up(*d, mport);

  const Identity id = identity_of(d->pid());
  EXPECT_EQ(id.uid, kNobody);
  EXPECT_EQ(id.eff, kNetAdmin | kNetRaw);
  EXPECT_EQ(id.prm, kNetAdmin | kNetRaw);
  EXPECT_EQ(id.bnd, kNetAdmin | kNetRaw);
  EXPECT_EQ(id.no_new_privs, 1);
  EXPECT_EQ(metric_value(first, "tcpreap_capability", {{"capability", "CAP_NET_ADMIN"}}), 1) << first;
  EXPECT_EQ(metric_value(first, "tcpreap_capability", {{"capability", "CAP_NET_RAW"}}), 1) << first;
  EXPECT_EQ(metric_value(first, "tcpreap_rst_fallback_available"), 1) << first;

  ASSERT_TRUE(eventually(*d, [&] { return !present(dead4) && !present(dead6); }))
      << "the dead connections are still there:\n" << d->output();
  EXPECT_EQ(next_recv(dead4.server.get()), ECONNABORTED);
  EXPECT_EQ(next_recv(dead6.server.get()), ECONNABORTED);
  ASSERT_TRUE(eventually(*d, [&] {
    return counter(mport, "tcpreap_reaped_connections_total",
                   {{"policy", "stale"}, {"method", "destroy"}, {"reason", "silent"}}) >= 2;
  })) << scrape(mport) << d->output();
  // The live peer answered its probe: probes left and came back.
  EXPECT_GE(metric(mport, "tcpreap_probes_answered_total"), 1);
  EXPECT_TRUE(present(live)) << "a live idle connection was reaped\n" << d->output();
  expect_untouched(live);
  EXPECT_NE(d->output().find("CAP_NET_ADMIN and CAP_NET_RAW held"), std::string::npos) << d->output();
  expect_clean_stop(*d);
}

TEST_F(PrivilegeTest, StartedAsRootItBecomesNobodyWithTheTwoAndStillProbesAndReaps) {
  Conn live = connect(false), live6 = connect(true), dead4 = connect(false), dead6 = connect(true);
  kill_peers({&dead4, &dead6});
  const uint16_t mport = free_metrics_port();
  auto cfg = config(config_head(mport) +
                    "policies:\n"
                    "  - name: stale\n"
                    "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                    "    dead_when: { silent_for: 2s }\n"
                    "    verify: { probes: 1, interval: 1s }\n");
  auto d = start(cfg->path());  // as root, no --user: the default, nobody
  wait_up(*d, mport);
  const Identity id = identity_of(d->pid());
  EXPECT_EQ(id.uid, kNobody);
  EXPECT_EQ(id.eff, kNetAdmin | kNetRaw);
  EXPECT_EQ(id.prm, kNetAdmin | kNetRaw);
  EXPECT_EQ(id.bnd, kNetAdmin | kNetRaw);
  EXPECT_EQ(id.inh, 0u);
  EXPECT_EQ(id.amb, 0u);
  EXPECT_EQ(id.no_new_privs, 1);

  ASSERT_TRUE(eventually(*d, [&] { return !present(dead4) && !present(dead6); }))
      << "the dead connections are still there:\n" << d->output();
  EXPECT_EQ(next_recv(dead4.server.get()), ECONNABORTED);
  EXPECT_EQ(next_recv(dead6.server.get()), ECONNABORTED);
  // Both live peers were probed and answered.
  ASSERT_TRUE(eventually(*d, [&] { return metric(mport, "tcpreap_probes_answered_total") >= 2; }))
      << scrape(mport) << d->output();
  EXPECT_TRUE(present(live) && present(live6)) << "a live idle connection was reaped\n" << d->output();
  expect_untouched(live);
  expect_untouched(live6);
  std::smatch m;
  const std::string out = d->output();
  EXPECT_TRUE(std::regex_search(
      out, m, std::regex("CAP_NET_ADMIN and CAP_NET_RAW held; [0-9]+ others dropped; switched to user nobody")))
      << out;
  expect_clean_stop(*d);
}

TEST_F(PrivilegeTest, UserRootKeepsRootWithOnlyTheTwoCapabilities) {
  const uint16_t mport = free_metrics_port();
  auto cfg = config(config_head(mport) + kOnePolicy);
  auto d = start(cfg->path(), {"--user", "root"});
  wait_up(*d, mport);
  const Identity id = identity_of(d->pid());
  EXPECT_EQ(id.uid, 0);
  EXPECT_EQ(id.eff, kNetAdmin | kNetRaw);
  EXPECT_EQ(id.bnd, kNetAdmin | kNetRaw);
  EXPECT_NE(d->output().find("is root: staying root"), std::string::npos) << d->output();
  expect_clean_stop(*d);
}

TEST_F(PrivilegeTest, AnUnknownUserIsAClearFailureToStart) {
  const uint16_t mport = free_metrics_port();
  auto cfg = config(config_head(mport) + kOnePolicy);
  auto d = start(cfg->path(), {"--user", "no-such-user-tcpreap"});
  const auto status = d->wait_exit(kDeadline);
  ASSERT_TRUE(status.has_value()) << d->output();
  EXPECT_EQ(*status, 1) << d->output();
  EXPECT_NE(d->output().find("no user 'no-such-user-tcpreap'"), std::string::npos) << d->output();
}

// The container image's way (packaging/Dockerfile): file capabilities on
// the binary let a process that never was root hold the two, as long as
// no_new_privs is off at exec and the bounding set has them. The fixture's
// binary is a copy of its own carrying them.
class FileCapabilitiesTest : public PrivilegeTest {
 protected:
  static void SetUpTestSuite() {
    const std::string path = binary_copy().path() + "-filecaps";
    std::filesystem::copy_file(binary_copy().path(), path, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(path, std::filesystem::perms(0755));
    setcap_status_ = std::system(("setcap cap_net_admin,cap_net_raw=ep " + path).c_str());
  }
  static void TearDownTestSuite() { std::filesystem::remove(binary_copy().path() + "-filecaps"); }
  static inline int setcap_status_ = -1;
};

TEST_F(FileCapabilitiesTest, GiveANonRootStartTheTwo) {
  ASSERT_EQ(setcap_status_, 0) << "setcap (libcap2-bin) failed";
  Conn dead = connect(false);
  kill_peers({&dead});
  const uint16_t mport = free_metrics_port();
  auto cfg = config(config_head(mport) +
                    "policies:\n"
                    "  - name: stale\n"
                    "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                    "    dead_when: { silent_for: 2s }\n");
  const std::string n = std::to_string(kNobody);
  // No ambient or inheritable capabilities, no no_new_privs: only the
  // file's, within the bounding set a container would have. The shell runs
  // the copy with file capabilities in place of the fixture's binary (its
  // first argument).
  const std::string bin = binary_copy().path() + "-filecaps";
  auto d = start(cfg->path(), {}, {},
                 {"setpriv", "--reuid=" + n, "--regid=" + n, "--clear-groups", "--inh-caps=-all",
                  "--bounding-set=-all,+net_admin,+net_raw", "sh", "-c", "shift; exec " + bin + " \"$@\"", "sh"});
  const Identity id = [&] {
    // wait_up insists on the fixture's binary; this one is its copy.
    EXPECT_TRUE(eventually(*d, [&] {
      try {
        return !scrape(mport).empty();
      } catch (const std::exception&) {
        return false;
      }
    })) << d->output();
    return identity_of(d->pid());
  }();
  EXPECT_EQ(id.uid, kNobody);
  EXPECT_EQ(id.eff, kNetAdmin | kNetRaw);
  EXPECT_EQ(id.no_new_privs, 1);  // set by the daemon itself, after exec
  EXPECT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(d->pid()) + "/exe").string(), bin);
  ASSERT_TRUE(eventually(*d, [&] { return !present(dead); })) << d->output();
  EXPECT_EQ(next_recv(dead.server.get()), ECONNABORTED);
  expect_clean_stop(*d);
}

TEST_F(PrivilegeTest, WithoutNetRawItReapsWithSockDestroyAndSaysWhatIsUnavailable) {
  // Port 0: a plain policy (reap.method auto). Port 1: a verifying one,
  // which without probes must never reap on silence.
  Conn dead = connect(false, 0), unverified = connect(false, 1);
  kill_peers({&dead, &unverified});
  const uint16_t mport = free_metrics_port();
  auto cfg = config("scan: { interval: 1s }\n"
                    "metrics: { listen: \"127.0.0.1:" + std::to_string(mport) + "\" }\n"
                    "policies:\n"
                    "  - name: plain\n"
                    "    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n"
                    "    dead_when: { silent_for: 2s }\n"
                    "  - name: verified\n"
                    "    match: { local_ports: [" + std::to_string(port_[1]) + "] }\n"
                    "    dead_when: { silent_for: 2s }\n"
                    "    verify: { probes: 1, interval: 1s }\n");
  auto d = start(cfg->path(), {}, {}, as_nobody_with("+net_admin"));
  const std::string first = wait_up(*d, mport);
  EXPECT_EQ(identity_of(d->pid()).eff, kNetAdmin);
  EXPECT_EQ(metric_value(first, "tcpreap_capability", {{"capability", "CAP_NET_ADMIN"}}), 1) << first;
  EXPECT_EQ(metric_value(first, "tcpreap_capability", {{"capability", "CAP_NET_RAW"}}), 0) << first;
  EXPECT_EQ(metric_value(first, "tcpreap_rst_fallback_available"), 0) << first;

  ASSERT_TRUE(eventually(*d, [&] { return !present(dead); })) << d->output();
  EXPECT_EQ(next_recv(dead.server.get()), ECONNABORTED);  // SOCK_DESTROY, not an RST
  ASSERT_TRUE(eventually(*d, [&] {
    return counter(mport, "tcpreap_reaped_connections_total",
                   {{"policy", "plain"}, {"method", "destroy"}, {"reason", "silent"}}) == 1;
  })) << scrape(mport) << d->output();
  // The verifying policy tried to probe, could not, and kept its socket.
  ASSERT_TRUE(eventually(*d, [&] { return metric(mport, "tcpreap_probe_errors_total") >= 2; }))
      << scrape(mport) << d->output();
  ASSERT_TRUE(more_scans(*d, mport, 2)) << d->output();
  EXPECT_TRUE(present(unverified)) << "reaped on silence without a probe\n" << d->output();
  EXPECT_EQ(counter(mport, "tcpreap_reaped_connections_total",
                    {{"policy", "verified"}, {"method", "destroy"}, {"reason", "silent"}}), 0);

  const std::string out = d->output();
  EXPECT_NE(out.find("CAP_NET_ADMIN held, CAP_NET_RAW missing"), std::string::npos) << out;
  EXPECT_NE(out.find("RST fallback unavailable (CAP_NET_RAW missing)"), std::string::npos) << out;
  EXPECT_NE(out.find("liveness probes unavailable"), std::string::npos) << out;
  expect_clean_stop(*d);
}

TEST_F(PrivilegeTest, RstOnlyWithoutNetRawRefusesToStart) {
  const uint16_t mport = free_metrics_port();
  auto cfg = config("metrics: { listen: \"127.0.0.1:" + std::to_string(mport) + "\" }\n"
                    "reap: { method: rst }\n" + kOnePolicy);
  auto d = start(cfg->path(), {}, {}, as_nobody_with("+net_admin"));
  const auto status = d->wait_exit(kDeadline);
  ASSERT_TRUE(status.has_value()) << d->output();
  EXPECT_EQ(*status, 1) << d->output();
  EXPECT_NE(d->output().find("RST injection unavailable"), std::string::npos) << d->output();
}

}  // namespace
}  // namespace tcpreap::test
