// packaging/kubernetes/tcpreap.yaml, read as the API server would see it
// (no cluster here): the DaemonSet runs in the node's network namespace
// with NET_ADMIN and NET_RAW only, has resource bounds, is scraped on the
// port its config listens on, and reads the config the ConfigMap holds -
// which the daemon's own loader accepts.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/config_loader.h"

#ifndef TCPREAP_SOURCE_DIR
#error "TCPREAP_SOURCE_DIR must be defined"
#endif

namespace tcpreap {
namespace {

const std::string kManifest = std::string(TCPREAP_SOURCE_DIR) + "/packaging/kubernetes/tcpreap.yaml";
const std::string kShippedConfig = std::string(TCPREAP_SOURCE_DIR) + "/config/tcpreap.yaml";

// A scalar's text, or nothing when the node is absent or not a scalar.
std::optional<std::string> scalar(const YAML::Node& n) {
  if (!n || !n.IsScalar()) return std::nullopt;
  return n.Scalar();
}

// The node at `path` under `n`, or an undefined node when a step is missing
// (yaml-cpp throws when a missing key is indexed further).
YAML::Node at(const YAML::Node& n, std::initializer_list<const char*> path) {
  YAML::Node current = n;
  for (const char* key : path) {
    if (!current || !current.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& map = current;
    const YAML::Node next = map[key];
    if (!next) return YAML::Node(YAML::NodeType::Undefined);
    current.reset(next);
  }
  return current;
}

bool is_true(const YAML::Node& n) { return scalar(n) == "true"; }

// A sequence of scalars as a set; duplicates and non-scalars make it fail.
std::optional<std::multiset<std::string>> scalar_set(const YAML::Node& n) {
  if (!n || !n.IsSequence()) return std::nullopt;
  std::multiset<std::string> out;
  for (const auto& item : n) {
    auto s = scalar(item);
    if (!s) return std::nullopt;
    out.insert(*s);
  }
  return out;
}

// A Kubernetes quantity ("20m", "0.5", "32Mi", "1G") in base units, or
// nothing for a form this test does not know.
std::optional<double> quantity(const YAML::Node& n) {
  const auto text = scalar(n);
  if (!text || text->empty()) return std::nullopt;
  static const std::pair<const char*, double> kSuffixes[] = {
      {"Ki", 1024.0}, {"Mi", 1024.0 * 1024}, {"Gi", 1024.0 * 1024 * 1024}, {"k", 1e3}, {"M", 1e6},
      {"G", 1e9},     {"m", 1e-3},
  };
  std::string number = *text;
  double scale = 1;
  for (const auto& [suffix, factor] : kSuffixes) {
    const std::string s = suffix;
    if (number.size() > s.size() && number.compare(number.size() - s.size(), s.size(), s) == 0) {
      number.resize(number.size() - s.size());
      scale = factor;
      break;
    }
  }
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(number, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != number.size() || !std::isfinite(value) || value < 0) return std::nullopt;
  return value * scale;
}

// HOST:PORT split at the last colon.
std::pair<std::string, int> host_and_port(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return {listen, 0};
  try {
    return {listen.substr(0, colon), std::stoi(listen.substr(colon + 1))};
  } catch (const std::exception&) {
    return {listen.substr(0, colon), 0};
  }
}

class KubernetesManifest : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      docs_ = YAML::LoadAllFromFile(kManifest);
    } catch (const YAML::Exception& e) {
      FAIL() << kManifest << ": " << e.what();
    }
    for (const auto& d : docs_) {
      if (!d || d.IsNull()) continue;  // an empty document between two "---"
      ASSERT_TRUE(d.IsMap()) << "every document is an object";
      ASSERT_TRUE(scalar(d["apiVersion"]) && scalar(d["kind"]) && scalar(at(d, {"metadata", "name"})))
          << "every object has apiVersion, kind and metadata.name";
    }
    const auto daemonsets = all("DaemonSet");
    ASSERT_EQ(daemonsets.size(), 1u) << "one DaemonSet";
    ds_.reset(daemonsets.front());
    ASSERT_EQ(scalar(ds_["apiVersion"]), "apps/v1");
    pod_.reset(at(ds_, {"spec", "template", "spec"}));
    ASSERT_TRUE(pod_.IsMap()) << "spec.template.spec";
    ASSERT_TRUE(pod_["containers"].IsSequence() && pod_["containers"].size() > 0) << "containers";
    for (const char* list : {"initContainers", "containers"}) {
      if (pod_[list]) {
        for (const auto& c : pod_[list]) containers_.push_back(c);
      }
    }
  }

  std::vector<YAML::Node> all(const std::string& kind) const {
    std::vector<YAML::Node> out;
    for (const auto& d : docs_) {
      if (d && d.IsMap() && scalar(d["kind"]) == kind) out.push_back(d);
    }
    return out;
  }

  // The object of `kind` named `name` in the DaemonSet's namespace.
  std::optional<YAML::Node> in_namespace(const std::string& kind, const std::string& name) const {
    for (const auto& d : all(kind)) {
      if (scalar(at(d, {"metadata", "name"})) == name &&
          scalar(at(d, {"metadata", "namespace"})) == scalar(at(ds_, {"metadata", "namespace"})))
        return d;
    }
    return std::nullopt;
  }

  // tcpreapd: the first container (the only one).
  YAML::Node main_container() const { return pod_["containers"][0]; }

  // The ConfigMap's config text, loaded by the daemon's loader.
  std::optional<Config> configmap_config() const {
    const auto cm = in_namespace("ConfigMap", "tcpreap-config");
    if (!cm) {
      ADD_FAILURE() << "no ConfigMap tcpreap-config in the DaemonSet's namespace";
      return std::nullopt;
    }
    const auto text = scalar(at(*cm, {"data", "tcpreap.yaml"}));
    if (!text) {
      ADD_FAILURE() << "the ConfigMap has no data key tcpreap.yaml";
      return std::nullopt;
    }
    ConfigLoad load = load_config_text(*text, "tcpreap-config/tcpreap.yaml");
    for (const auto& e : load.errors) ADD_FAILURE() << e.to_string();
    return load.config;
  }

  std::vector<YAML::Node> docs_;
  YAML::Node ds_;
  YAML::Node pod_;
  std::vector<YAML::Node> containers_;  // init containers too
};

TEST_F(KubernetesManifest, SeesTheNodesSocketsAndNothingElseOfTheHost) {
  EXPECT_TRUE(is_true(pod_["hostNetwork"])) << "the sockets to reap are in the node's network namespace";
  EXPECT_FALSE(is_true(pod_["hostPID"])) << "no host processes: only the owner lookup in log lines needs them";
  EXPECT_FALSE(is_true(pod_["hostIPC"]));
  EXPECT_EQ(scalar(pod_["dnsPolicy"]), "ClusterFirstWithHostNet");
}

TEST_F(KubernetesManifest, EveryContainerHasNetAdminAndNetRawOnly) {
  const bool pod_seccomp = scalar(at(pod_, {"securityContext", "seccompProfile", "type"})) == "RuntimeDefault";
  for (const auto& c : containers_) {
    const std::string name = scalar(c["name"]).value_or("?");
    const YAML::Node sc = at(c, {"securityContext"});
    ASSERT_TRUE(sc.IsMap()) << name << ": securityContext";
    EXPECT_EQ(scalar_set(at(sc, {"capabilities", "drop"})), (std::multiset<std::string>{"ALL"})) << name;
    EXPECT_EQ(scalar_set(at(sc, {"capabilities", "add"})), (std::multiset<std::string>{"NET_ADMIN", "NET_RAW"}))
        << name;
    EXPECT_FALSE(is_true(sc["privileged"])) << name;
    // Not root: the image's binary carries the two as file capabilities,
    // which no_new_privs (allowPrivilegeEscalation: false) would void; the
    // daemon sets no_new_privs itself once started.
    EXPECT_EQ(scalar(sc["runAsNonRoot"]), "true") << name;
    const auto uid = scalar(sc["runAsUser"]);
    ASSERT_TRUE(uid) << name << ": runAsUser";
    EXPECT_NE(*uid, "0") << name;
    EXPECT_EQ(scalar(sc["allowPrivilegeEscalation"]), "true") << name;
    EXPECT_EQ(scalar(sc["readOnlyRootFilesystem"]), "true") << name;
    const auto seccomp = scalar(at(sc, {"seccompProfile", "type"}));
    EXPECT_TRUE(seccomp ? *seccomp == "RuntimeDefault" : pod_seccomp) << name << ": seccomp RuntimeDefault";
  }
}

TEST_F(KubernetesManifest, EveryContainerHasResourceRequestsAndLimits) {
  for (const auto& c : containers_) {
    const std::string name = scalar(c["name"]).value_or("?");
    for (const char* resource : {"cpu", "memory"}) {
      const auto request = quantity(at(c, {"resources", "requests", resource}));
      const auto limit = quantity(at(c, {"resources", "limits", resource}));
      ASSERT_TRUE(request) << name << ": resources.requests." << resource;
      ASSERT_TRUE(limit) << name << ": resources.limits." << resource;
      EXPECT_GT(*request, 0) << name << ": " << resource;
      EXPECT_LE(*request, *limit) << name << ": " << resource << " request over the limit";
    }
  }
}

TEST_F(KubernetesManifest, IsScrapedOnThePortItsConfigListensOn) {
  const auto config = configmap_config();
  ASSERT_TRUE(config);
  const auto [host, port] = host_and_port(config->metrics_listen);
  ASSERT_GT(port, 0) << config->metrics_listen;

  const YAML::Node annotations = at(ds_, {"spec", "template", "metadata", "annotations"});
  EXPECT_EQ(scalar(annotations["prometheus.io/scrape"]), "true");
  EXPECT_EQ(scalar(annotations["prometheus.io/port"]), std::to_string(port));
  EXPECT_EQ(scalar(annotations["prometheus.io/path"]).value_or("/metrics"), "/metrics");

  // packaging/prometheus/prometheus.yml keeps the container port named
  // "metrics"; the liveness probe asks the exporter.
  const YAML::Node c = main_container();
  bool declared = false;
  for (const auto& p : c["ports"]) {
    if (scalar(p["name"]) == "metrics") declared = scalar(p["containerPort"]) == std::to_string(port);
  }
  EXPECT_TRUE(declared) << "a container port named metrics, " << port;
  EXPECT_EQ(scalar(at(c, {"livenessProbe", "httpGet", "port"})), std::to_string(port));
  EXPECT_EQ(scalar(at(c, {"livenessProbe", "httpGet", "path"})), "/metrics");
}

TEST_F(KubernetesManifest, TheConfigMapConfigLoadsAndCanBeScraped) {
  const auto config = configmap_config();
  ASSERT_TRUE(config);
  // With hostNetwork, 127.0.0.1 is the node's loopback: Prometheus could
  // never reach it.
  const auto [host, port] = host_and_port(config->metrics_listen);
  EXPECT_NE(host.rfind("127.", 0), 0u) << config->metrics_listen << " cannot be scraped from off the node";
  EXPECT_NE(host, "localhost");
}

TEST_F(KubernetesManifest, TheConfigMapCarriesTheShippedDefaultPolicies) {
  const auto config = configmap_config();
  ASSERT_TRUE(config);
  ConfigLoad shipped = load_config_file(kShippedConfig);
  ASSERT_TRUE(shipped.config) << kShippedConfig;
  const Config& want = *shipped.config;
  EXPECT_EQ(config->scan_interval, want.scan_interval);
  EXPECT_EQ(config->dry_run, want.dry_run);
  EXPECT_EQ(config->method, want.method);
  EXPECT_EQ(config->max_per_scan, want.max_per_scan);
  EXPECT_EQ(config->protect, want.protect);
  ASSERT_EQ(config->policies.size(), want.policies.size());
  for (size_t i = 0; i < want.policies.size(); ++i) {
    const Policy& got = config->policies[i];
    const Policy& p = want.policies[i];
    EXPECT_EQ(got.name, p.name);
    EXPECT_EQ(got.match, p.match) << p.name;
    EXPECT_EQ(got.dead_when, p.dead_when) << p.name;
    EXPECT_EQ(got.confirm, p.confirm) << p.name;
    EXPECT_EQ(got.per_peer_limit, p.per_peer_limit) << p.name;
    EXPECT_EQ(got.verify, p.verify) << p.name;
    EXPECT_EQ(got.max_per_scan, p.max_per_scan) << p.name;
  }
}

TEST_F(KubernetesManifest, TheDaemonReadsTheConfigMapMountedReadOnly) {
  const auto cm = in_namespace("ConfigMap", "tcpreap-config");
  ASSERT_TRUE(cm) << "the ConfigMap is in the manifest, in the DaemonSet's namespace";

  // The volume of the ConfigMap, mounted at /etc/tcpreap, read-only, as a
  // directory (a subPath mount never sees a ConfigMap change).
  std::optional<std::string> volume;
  for (const auto& v : pod_["volumes"]) {
    if (scalar(at(v, {"configMap", "name"})) == "tcpreap-config") {
      volume = scalar(v["name"]);
      EXPECT_FALSE(at(v, {"configMap", "items"})) << "every key of the ConfigMap becomes a file of its own name";
    }
  }
  ASSERT_TRUE(volume) << "a volume from ConfigMap tcpreap-config";
  const YAML::Node c = main_container();
  std::optional<YAML::Node> mount;
  for (const auto& m : c["volumeMounts"]) {
    if (scalar(m["name"]) == volume) mount = static_cast<const YAML::Node&>(m);
  }
  ASSERT_TRUE(mount) << "the config volume is mounted";
  EXPECT_EQ(scalar((*mount)["mountPath"]), "/etc/tcpreap");
  EXPECT_TRUE(is_true((*mount)["readOnly"]));
  EXPECT_FALSE((*mount)["subPath"]) << "a subPath mount never sees a ConfigMap change";

  // The program and its --config: the file the ConfigMap's key becomes.
  ASSERT_EQ(scalar_set(c["command"]), (std::multiset<std::string>{"/usr/sbin/tcpreapd"}));
  std::vector<std::string> args;
  for (const auto& a : c["args"]) args.push_back(scalar(a).value_or(""));
  std::string config_path = kDefaultConfigPath;
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--config" || args[i] == "-c") && i + 1 < args.size()) config_path = args[i + 1];
    if (args[i].rfind("--config=", 0) == 0) config_path = args[i].substr(9);
  }
  EXPECT_EQ(config_path, "/etc/tcpreap/tcpreap.yaml");
  EXPECT_TRUE(scalar(at(*cm, {"data", "tcpreap.yaml"}))) << "the ConfigMap's key tcpreap.yaml becomes " << config_path;
}

}  // namespace
}  // namespace tcpreap
