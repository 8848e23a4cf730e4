// Debian's Prometheus server (the `prometheus` package) scraping tcpreapd
// with the files of packaging/prometheus/, both in the server namespace of
// two test hosts, on its loopback. promtool (prometheus_rules_test.sh)
// checks those files' syntax and the rules' logic on made-up series; this
// test checks them on the real daemon and the real server, through the
// server's HTTP API:
//  - the shipped tcpreap job scrapes the daemon: after a dead connection is
//    reaped, /api/v1/query returns tcpreap_reaped_connections_total = 1 for
//    its policy;
//  - the shipped rules load, every rule evaluates with health "ok", and none
//    of them fires on a healthy daemon;
//  - TcpreapConfigReloadFailing fires after a reload (SIGHUP, as
//    `systemctl reload` sends) of a broken config, and resolves after a
//    reload of a good one.
// What the test rewrites in the shipped files, and why, is said at
// test_scrape_config() and test_rules(). Deadlines here only stop a broken
// run; nothing asserts how fast it was.

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/child_process.h"
#include "support/command.h"
#include "support/daemon_hosts.h"
#include "support/http_get.h"
#include "support/netns.h"
#include "support/support_error.h"
#include "support/temp_file.h"

#ifndef TCPREAPD_BIN
#error "TCPREAPD_BIN (the path of the built tcpreapd) must be defined"
#endif
#ifndef TCPREAP_SOURCE_DIR
#error "TCPREAP_SOURCE_DIR must be defined"
#endif

namespace tcpreap::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kShippedDir = std::string(TCPREAP_SOURCE_DIR) + "/packaging/prometheus";

// Bounds one wait of a broken run. Prometheus scrapes for the first time
// about 5 s after it starts (its scrape manager takes targets on a 5 s
// tick); a healthy run waits a few seconds at most for anything else.
constexpr auto kPrometheusDeadline = 90s;
constexpr auto kPollEvery = 250ms;

// What every `for:` of the shipped rules (5m, 15m) becomes here: a few
// evaluations (one a second) of a condition before its alert fires.
constexpr const char* kTestFor = "2s";
constexpr double kTestForSeconds = 2;

// The daemon's one policy (the `policy` label of its series), and the
// alert this test makes fire and resolve.
constexpr const char* kPolicy = "stale";
constexpr const char* kAlert = "TcpreapConfigReloadFailing";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw SupportError("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw SupportError("cannot write " + path);
}

// packaging/prometheus/prometheus.yml as this test runs it. Rewritten, and
// nothing else:
//  - global scrape_interval and evaluation_interval, 30s -> 1s: the daemon
//    here scans every second, and a test must not wait out 30 s periods;
//  - the tcpreap job's targets (zk*.example.org:10126) -> the daemon under
//    test, `target`;
//  - the tcpreap-kubernetes job is dropped: kubernetes_sd_configs needs a
//    cluster's API server (and Debian builds Prometheus without it;
//    prometheus_rules_test.sh checks that job's relabeling with promtool).
// rule_files stays as shipped: the test's rules are written beside this
// file under the shipped name. A job that is neither of the two fails the
// test: whoever adds one says here how it runs without its targets.
std::string test_scrape_config(const std::string& shipped, const std::string& target) {
  YAML::Node root = YAML::LoadFile(shipped);
  if (!root["global"] || !root["global"].IsMap()) throw SupportError(shipped + ": no global section");
  root["global"]["scrape_interval"] = "1s";
  root["global"]["evaluation_interval"] = "1s";

  YAML::Node jobs(YAML::NodeType::Sequence);
  int tcpreap_jobs = 0;
  for (YAML::Node job : root["scrape_configs"]) {
    const std::string name = job["job_name"].as<std::string>();
    if (job["kubernetes_sd_configs"]) continue;
    if (name != "tcpreap")
      throw SupportError(shipped + ": job " + name + " is new to this test: say in test_scrape_config how it runs");
    YAML::Node statics = job["static_configs"];
    if (!statics || !statics.IsSequence() || statics.size() != 1 || !statics[0]["targets"])
      throw SupportError(shipped + ": the tcpreap job has no single static_configs entry with targets");
    statics[0]["targets"] = std::vector<std::string>{target};
    jobs.push_back(job);
    ++tcpreap_jobs;
  }
  if (tcpreap_jobs != 1) throw SupportError(shipped + ": expected one job named tcpreap");
  root["scrape_configs"] = jobs;
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

struct ShippedRule {
  std::string name;
  bool has_for = false;
};

struct TestRules {
  std::string text;
  std::vector<ShippedRule> rules;  // in the file's order
};

// packaging/prometheus/tcpreap-rules.yml as this test loads it: each rule's
// `for:` becomes kTestFor, so that an alert fires within seconds of its
// condition; every other byte is the shipped file's. The line edit must
// hit exactly the rules that have a `for:` (as yaml-cpp reads the file).
TestRules test_rules(const std::string& shipped) {
  TestRules out;
  const std::string text = read_text(shipped);
  const YAML::Node doc = YAML::Load(text);
  size_t with_for = 0;
  for (const YAML::Node& group : doc["groups"])
    for (const YAML::Node& rule : group["rules"]) {
      const YAML::Node name = rule["alert"] ? rule["alert"] : rule["record"];
      out.rules.push_back({name.as<std::string>(), static_cast<bool>(rule["for"])});
      with_for += out.rules.back().has_for ? 1 : 0;
    }

  static const std::regex kForLine(R"(^(\s*)for:\s*\S+\s*$)");
  std::istringstream lines(text);
  size_t edited = 0;
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, kForLine)) {
      line = m[1].str() + "for: " + kTestFor;
      ++edited;
    }
    out.text += line + "\n";
  }
  if (edited != with_for || with_for == 0)
    throw SupportError(shipped + ": " + std::to_string(edited) + " `for:` lines for " + std::to_string(with_for) +
                       " rules with a for: the line edit no longer fits the file");
  return out;
}

// A directory of its own in /tmp, removed with everything in it when the
// object goes.
class TempDir {
 public:
  TempDir() {
    std::string t = "/tmp/tcpreap-prometheus-" + std::to_string(::getpid()) + "-XXXXXX";
    if (::mkdtemp(t.data()) == nullptr) throw_errno("mkdtemp " + t, errno);
    path_ = t;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string url_encode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

using Labels = std::map<std::string, std::string>;

// The API's answers are JSON, which is YAML 1.2 flow: yaml-cpp reads them,
// as grafana_dashboard_test reads the dashboard.
YAML::Node member(const YAML::Node& object, const char* key) {
  if (!object.IsMap() || !object[key]) throw SupportError(std::string("no member '") + key + "' in the API's answer");
  return object[key];
}
std::string text_of(const YAML::Node& n) {
  if (!n.IsScalar()) throw SupportError("a string was expected in the API's answer");
  return n.Scalar();
}

Labels labels_of(const YAML::Node& object) {
  Labels out;
  for (const auto& kv : object) out[kv.first.Scalar()] = text_of(kv.second);
  return out;
}

std::string describe(const Labels& labels) {
  std::string s = "{";
  for (const auto& [k, v] : labels) s += (s.size() > 1 ? "," : "") + k + "=\"" + v + "\"";
  return s + "}";
}

// One series of an instant query's answer.
struct Sample {
  Labels labels;  // __name__ left out
  double value = 0;
};

// One alert of /api/v1/alerts: those pending or firing.
struct Alert {
  Labels labels;
  Labels annotations;
  std::string state;
};

// Debian's prometheus in network namespace `netns`, serving its API on
// 127.0.0.1:port there, with the config `dir`/prometheus.yml and its TSDB
// under `dir`/data. The TSDB is thrown away with `dir`; a short retention
// keeps Prometheus from planning for its default 15 days. If stop() was not
// called, the ChildProcess's destructor SIGKILLs it.
class PrometheusServer {
 public:
  PrometheusServer(const std::string& netns, const std::string& bin, const std::string& dir, uint16_t port)
      : netns_(netns),
        port_(port),
        process_({"ip", "netns", "exec", netns, bin, "--config.file=" + dir + "/prometheus.yml",
                  "--storage.tsdb.path=" + dir + "/data", "--storage.tsdb.retention.time=1h",
                  "--web.listen-address=127.0.0.1:" + std::to_string(port)}) {}

  ChildProcess& process() { return process_; }

  // GET `path`: its body (200 only), else SupportError.
  std::string get(const std::string& path) {
    ScopedNetns in(netns_);
    return http_get("127.0.0.1", port_, path, 10s);
  }

  // /-/ready says 200 once the TSDB is open and the rules are loaded.
  bool ready() {
    try {
      get("/-/ready");
      return true;
    } catch (const SupportError&) {
      return false;
    }
  }

  // An API call's "data", once its "status" is "success".
  YAML::Node api(const std::string& path) {
    const std::string body = get(path);
    YAML::Node answer;
    try {
      answer = YAML::Load(body);
    } catch (const YAML::Exception& e) {
      throw SupportError(path + " answered what is not JSON (" + e.what() + "): " + body);
    }
    if (text_of(member(answer, "status")) != "success") throw SupportError(path + " answered " + body);
    return member(answer, "data");
  }

  std::vector<Sample> query(const std::string& promql) {
    const YAML::Node data = api("/api/v1/query?query=" + url_encode(promql));
    if (text_of(member(data, "resultType")) != "vector") throw SupportError(promql + ": not an instant vector");
    std::vector<Sample> out;
    for (const YAML::Node& series : member(data, "result")) {
      Sample s;
      s.labels = labels_of(member(series, "metric"));
      s.labels.erase("__name__");
      const YAML::Node value = member(series, "value");  // [time, "value"]
      if (!value.IsSequence() || value.size() != 2) throw SupportError(promql + ": a sample is not [time, value]");
      s.value = std::stod(text_of(value[1]));
      out.push_back(std::move(s));
    }
    return out;
  }

  std::vector<Alert> alerts() {
    std::vector<Alert> out;
    const YAML::Node data = api("/api/v1/alerts");
    for (const YAML::Node& a : member(data, "alerts"))
      out.push_back({labels_of(member(a, "labels")), labels_of(member(a, "annotations")), text_of(member(a, "state"))});
    return out;
  }

  // SIGTERM: Prometheus closes its TSDB and exits 0.
  std::optional<int> stop() {
    process_.signal(SIGTERM);
    return process_.wait_exit(std::chrono::duration_cast<std::chrono::milliseconds>(kPrometheusDeadline));
  }

 private:
  std::string netns_;
  uint16_t port_;
  ChildProcess process_;
};

std::optional<Alert> find_alert(const std::vector<Alert>& alerts, const std::string& name) {
  for (const auto& a : alerts)
    if (a.labels.count("alertname") && a.labels.at("alertname") == name) return a;
  return std::nullopt;
}

std::string describe(const std::vector<Alert>& alerts) {
  std::string s;
  for (const auto& a : alerts) s += "\n  " + a.state + " " + describe(a.labels);
  return s.empty() ? " none" : s;
}

class PrometheusServerTest : public DaemonHostsTest {
 protected:
  PrometheusServerTest() : DaemonHostsTest(TCPREAPD_BIN) {}

  // Polls `done` until it holds; false after kPrometheusDeadline, or as
  // soon as the daemon or Prometheus has ended. A SupportError from `done`
  // (Prometheus not answering yet) counts as "not yet"; the last one is
  // kept for logs().
  bool until(const std::function<bool()>& done) {
    const auto deadline = Clock::now() + kPrometheusDeadline;
    for (;;) {
      try {
        if (done()) return true;
      } catch (const SupportError& e) {
        last_error_ = e.what();
      }
      if (Clock::now() >= deadline || !daemon_->running() || !prometheus_->process().running()) return false;
      std::this_thread::sleep_for(kPollEvery);
    }
  }

  // For failure messages: both programs' output (Prometheus's tail).
  std::string logs() {
    std::string prom = prometheus_ ? prometheus_->process().output() : "";
    if (prom.size() > 6000) prom = "..." + prom.substr(prom.size() - 6000);
    return "\nlast error: " + last_error_ + "\n--- tcpreapd:\n" + (daemon_ ? daemon_->output() : "") +
           "\n--- prometheus:\n" + prom;
  }

  // The value of the only series `promql` answers, or nothing when it
  // answers none (or more than one).
  std::optional<double> only_value(const std::string& promql) {
    const auto samples = prometheus_->query(promql);
    if (samples.size() != 1) return std::nullopt;
    return samples[0].value;
  }

  // Declared in the order they must go: Prometheus before its directory.
  std::unique_ptr<ChildProcess> daemon_;
  std::optional<TempDir> dir_;
  std::optional<PrometheusServer> prometheus_;
  std::string last_error_;
};

TEST_F(PrometheusServerTest, ScrapesTheDaemonLoadsTheRulesAndAlertsOnAFailedReload) {
  const std::string prometheus_bin = find_program("prometheus");
  ASSERT_FALSE(prometheus_bin.empty()) << "no prometheus server here (apt-get install prometheus; make test-deps)";

  // The daemon: connections on port_[0] silent for 2 s are dead.
  const uint16_t mport = free_metrics_port();
  const std::string target = "127.0.0.1:" + std::to_string(mport);
  const std::string head = config_head(mport) + "policies:\n  - name: " + kPolicy +
                           "\n    match: { local_ports: [" + std::to_string(port_[0]) + "] }\n";
  const std::string good = head + "    dead_when: { silent_for: 2s }\n";
  const std::string broken = head + "    dead_when: { silent_for: 2 fortnights }\n";
  const TempFile cfg(good);
  daemon_ = start(cfg.path());
  wait_up(*daemon_, mport);

  // Prometheus, on a port picked while the daemon holds its own.
  const uint16_t pport = free_metrics_port();
  dir_.emplace();
  const TestRules rules = test_rules(kShippedDir + "/tcpreap-rules.yml");
  const std::string scrape_config = test_scrape_config(kShippedDir + "/prometheus.yml", target);
  std::printf("prometheus.yml as run here:\n%s", scrape_config.c_str());
  write_text(dir_->path() + "/prometheus.yml", scrape_config);
  write_text(dir_->path() + "/tcpreap-rules.yml", rules.text);
  prometheus_.emplace(hosts_->server(), prometheus_bin, dir_->path(), pport);
  ASSERT_TRUE(until([&] { return prometheus_->ready(); })) << "Prometheus never became ready" << logs();

  // The shipped job scrapes the daemon; the policy's series are there, at 0.
  const Labels job{{"job", "tcpreap"}, {"instance", target}};
  ASSERT_TRUE(until([&] {
    const auto samples = prometheus_->query("up");
    return samples.size() == 1 && samples[0].labels == job && samples[0].value == 1;
  })) << "no successful scrape of the tcpreap job" << logs();
  const std::string reaped_query = std::string("tcpreap_reaped_connections_total{policy=\"") + kPolicy + "\"}";
  EXPECT_EQ(only_value("sum(" + reaped_query + ")"), 0) << logs();

  // A reap: the client host drops everything of one connection, which the
  // daemon then finds silent and destroys.
  PeerConn dead = connect(false, 0);
  kill_peers({&dead});
  ASSERT_TRUE(eventually(*daemon_, [&] { return !present(dead); })) << "not reaped" << logs();
  ASSERT_TRUE(until([&] { return only_value("sum(" + reaped_query + ")").value_or(0) >= 1; }))
      << "Prometheus never saw the reap" << logs();
  {
    const auto samples = prometheus_->query(reaped_query);
    ASSERT_FALSE(samples.empty());
    double total = 0;
    for (const auto& s : samples) {
      EXPECT_EQ(s.labels.at("job"), "tcpreap") << describe(s.labels);
      EXPECT_EQ(s.labels.at("instance"), target) << describe(s.labels);
      const bool reaped_one = s.labels.at("method") == "destroy" && s.labels.at("reason") == "silent";
      EXPECT_EQ(s.value, reaped_one ? 1 : 0) << describe(s.labels);
      total += s.value;
    }
    EXPECT_EQ(total, 1) << logs();
  }

  // Every shipped rule is loaded, in one group, and has been evaluated
  // ("unknown" until its first evaluation) without an error.
  ASSERT_TRUE(until([&] {
    const YAML::Node data = prometheus_->api("/api/v1/rules");
    for (const YAML::Node& group : member(data, "groups"))
      for (const YAML::Node& rule : member(group, "rules"))
        if (text_of(member(rule, "health")) == "unknown") return false;
    return true;
  })) << "the rules were never evaluated" << logs();
  {
    const std::string body = prometheus_->get("/api/v1/rules");
    const YAML::Node data = member(YAML::Load(body), "data");
    const YAML::Node groups = member(data, "groups");
    ASSERT_EQ(groups.size(), 1u) << body;
    EXPECT_EQ(text_of(member(groups[0], "name")), "tcpreap") << body;
    const YAML::Node loaded = member(groups[0], "rules");
    ASSERT_EQ(loaded.size(), rules.rules.size()) << body;
    for (size_t i = 0; i < loaded.size(); ++i) {
      const YAML::Node rule = loaded[i];
      EXPECT_EQ(text_of(member(rule, "name")), rules.rules[i].name) << body;
      EXPECT_EQ(text_of(member(rule, "health")), "ok") << rules.rules[i].name << ": " << body;
      const YAML::Node error = rule["lastError"];
      EXPECT_EQ(error && error.IsScalar() ? error.Scalar() : "", "") << rules.rules[i].name;
      if (rules.rules[i].has_for) {
        EXPECT_EQ(member(rule, "duration").as<double>(), kTestForSeconds) << body;
      }
    }
  }

  // A healthy daemon raises no alert, pending or firing. TcpreapDown is
  // left out: one scrape that times out (1 s here) on a loaded machine is
  // what it watches for, and no fault of the daemon's.
  {
    auto active = prometheus_->alerts();
    std::erase_if(active, [](const Alert& a) { return a.labels.at("alertname") == "TcpreapDown"; });
    EXPECT_TRUE(active.empty()) << "alerts on a healthy daemon:" << describe(active) << logs();
  }

  // A reload of a broken file reaches the daemon: it keeps running on its
  // last good config and says so in tcpreap_config_last_reload_successful.
  write_text(cfg.path(), broken);
  daemon_->signal(SIGHUP);
  ASSERT_TRUE(until([&] { return only_value("tcpreap_config_last_reload_successful") == 0; }))
      << "Prometheus never saw the failed reload" << logs();
  std::optional<Alert> firing;
  ASSERT_TRUE(until([&] {
    firing = find_alert(prometheus_->alerts(), kAlert);
    return firing && firing->state == "firing";
  })) << kAlert << " never fired; alerts:" << describe(prometheus_->alerts()) << logs();
  EXPECT_EQ(firing->labels, (Labels{{"alertname", kAlert}, {"severity", "warning"}, {"job", "tcpreap"},
                                    {"instance", target}}));
  EXPECT_NE(firing->annotations["summary"].find("tcpreap on " + target + " "), std::string::npos)
      << firing->annotations["summary"];
  for (const auto& [name, text] : firing->annotations)
    EXPECT_EQ(text.find("{{"), std::string::npos) << name << " is not rendered: " << text;
  EXPECT_TRUE(daemon_->running());

  // A reload of the good file: the alert goes.
  write_text(cfg.path(), good);
  daemon_->signal(SIGHUP);
  ASSERT_TRUE(until([&] { return only_value("tcpreap_config_last_reload_successful") == 1; }))
      << "Prometheus never saw the good reload" << logs();
  ASSERT_TRUE(until([&] { return !find_alert(prometheus_->alerts(), kAlert).has_value(); }))
      << kAlert << " did not resolve; alerts:" << describe(prometheus_->alerts()) << logs();

  const auto status = prometheus_->stop();
  ASSERT_TRUE(status.has_value()) << "Prometheus still running after SIGTERM" << logs();
  EXPECT_EQ(*status, 0) << logs();
  expect_clean_stop(*daemon_);
}

}  // namespace
}  // namespace tcpreap::test
