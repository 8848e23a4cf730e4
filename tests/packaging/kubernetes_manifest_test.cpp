// packaging/kubernetes/tcpreap.yaml and its variant for every network
// namespace, tcpreap-all-namespaces.yaml, read as the API server would see
// them (no cluster here). Each DaemonSet runs in the node's network
// namespace, not as root, with the capabilities it needs and no others
// (NET_ADMIN and NET_RAW; the variant SYS_ADMIN and SYS_PTRACE besides), has
// resource bounds, is scraped on the port its config listens on, and reads
// the config the ConfigMap holds - which the daemon's own loader accepts.
// The variant adds hostPID and the node's /run/netns, read-only and
// receiving later mounts, and its config scans every namespace; the two
// replace each other when applied.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <initializer_list>
#include <optional>
#include <ostream>
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

const std::string kManifestDir = std::string(TCPREAP_SOURCE_DIR) + "/packaging/kubernetes/";
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

// One manifest and what sets it apart.
struct Variant {
  const char* file;                     // in packaging/kubernetes/
  bool all_namespaces;                  // namespaces: {scan: all}, hostPID, /run/netns
  std::multiset<std::string> add_caps;  // securityContext.capabilities.add
};

const Variant kNodeOnly{"tcpreap.yaml", false, {"NET_ADMIN", "NET_RAW"}};
const Variant kAllNamespaces{"tcpreap-all-namespaces.yaml", true, {"NET_ADMIN", "NET_RAW", "SYS_ADMIN", "SYS_PTRACE"}};

// gtest names a failing instance by its file.
void PrintTo(const Variant& v, std::ostream* os) { *os << v.file; }

std::string variant_name(const ::testing::TestParamInfo<Variant>& info) {
  return info.param.all_namespaces ? "AllNamespaces" : "NodeOnly";
}

// The documents of one manifest file, with its DaemonSet and pod spec.
class ManifestFile {
 public:
  explicit ManifestFile(const std::string& file) : path_(kManifestDir + file) {}

  // Reads and checks the shape; false (with failures added) when it is not
  // a manifest of one DaemonSet.
  bool load() {
    try {
      docs_ = YAML::LoadAllFromFile(path_);
    } catch (const YAML::Exception& e) {
      ADD_FAILURE() << path_ << ": " << e.what();
      return false;
    }
    for (const auto& d : docs_) {
      if (!d || d.IsNull()) continue;  // an empty document between two "---"
      if (!d.IsMap() || !scalar(d["apiVersion"]) || !scalar(d["kind"]) || !scalar(at(d, {"metadata", "name"}))) {
        ADD_FAILURE() << path_ << ": every document is an object with apiVersion, kind and metadata.name";
        return false;
      }
    }
    const auto daemonsets = all("DaemonSet");
    if (daemonsets.size() != 1u) {
      ADD_FAILURE() << path_ << ": " << daemonsets.size() << " DaemonSets, not one";
      return false;
    }
    ds_.reset(daemonsets.front());
    EXPECT_EQ(scalar(ds_["apiVersion"]), "apps/v1") << path_;
    pod_.reset(at(ds_, {"spec", "template", "spec"}));
    if (!pod_.IsMap() || !pod_["containers"].IsSequence() || pod_["containers"].size() == 0) {
      ADD_FAILURE() << path_ << ": no spec.template.spec.containers";
      return false;
    }
    for (const char* list : {"initContainers", "containers"}) {
      if (pod_[list]) {
        for (const auto& c : pod_[list]) containers_.push_back(c);
      }
    }
    return true;
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

  // The ConfigMap's config text.
  std::optional<std::string> configmap_text() const {
    const auto cm = in_namespace("ConfigMap", "tcpreap-config");
    if (!cm) {
      ADD_FAILURE() << path_ << ": no ConfigMap tcpreap-config in the DaemonSet's namespace";
      return std::nullopt;
    }
    const auto text = scalar(at(*cm, {"data", "tcpreap.yaml"}));
    if (!text) ADD_FAILURE() << path_ << ": the ConfigMap has no data key tcpreap.yaml";
    return text;
  }

  // The ConfigMap's config, loaded by the daemon's loader.
  std::optional<Config> configmap_config() const {
    const auto text = configmap_text();
    if (!text) return std::nullopt;
    ConfigLoad load = load_config_text(*text, "tcpreap-config/tcpreap.yaml");
    for (const auto& e : load.errors) ADD_FAILURE() << path_ << ": " << e.to_string();
    return load.config;
  }

  // The volume mount of the main container for the volume whose
  // definition `is_it` picks, and that volume's name.
  template <typename Pick>
  std::optional<std::pair<std::string, YAML::Node>> mount_of(Pick is_it) const {
    std::optional<std::string> volume;
    for (const auto& v : pod_["volumes"]) {
      if (is_it(v)) volume = scalar(v["name"]);
    }
    if (!volume) return std::nullopt;
    for (const auto& m : main_container()["volumeMounts"]) {
      if (scalar(m["name"]) == volume) return std::make_pair(*volume, static_cast<const YAML::Node&>(m));
    }
    return std::nullopt;
  }

  const std::string& path() const { return path_; }
  const YAML::Node& ds() const { return ds_; }
  const YAML::Node& pod() const { return pod_; }
  const std::vector<YAML::Node>& containers() const { return containers_; }

 private:
  std::string path_;
  std::vector<YAML::Node> docs_;
  YAML::Node ds_;
  YAML::Node pod_;
  std::vector<YAML::Node> containers_;  // init containers too
};

class KubernetesManifest : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override { ASSERT_TRUE(manifest_.load()); }

  std::vector<YAML::Node> all(const std::string& kind) const { return manifest_.all(kind); }
  std::optional<YAML::Node> in_namespace(const std::string& kind, const std::string& name) const {
    return manifest_.in_namespace(kind, name);
  }
  YAML::Node main_container() const { return manifest_.main_container(); }
  std::optional<Config> configmap_config() const { return manifest_.configmap_config(); }

  ManifestFile manifest_{GetParam().file};
  const YAML::Node& ds_ = manifest_.ds();
  const YAML::Node& pod_ = manifest_.pod();
  const std::vector<YAML::Node>& containers_ = manifest_.containers();
};

TEST_P(KubernetesManifest, SeesTheNodesSocketsAndOnlyWhatItsScanNeedsOfTheHost) {
  EXPECT_TRUE(is_true(pod_["hostNetwork"])) << "the sockets to reap are in the node's network namespace";
  // Without scan: all only the owner lookup in log lines would use host
  // processes; with it, namespaces bound nowhere are found through them.
  EXPECT_EQ(is_true(pod_["hostPID"]), GetParam().all_namespaces) << "hostPID";
  EXPECT_FALSE(is_true(pod_["hostIPC"]));
  EXPECT_EQ(scalar(pod_["dnsPolicy"]), "ClusterFirstWithHostNet");
  // The node's file system: nothing of it but /run/netns, and that only for
  // scan: all (TheVariantMountsTheNodesBoundNamespaces).
  for (const auto& v : pod_["volumes"]) {
    if (!v["hostPath"]) continue;
    EXPECT_TRUE(GetParam().all_namespaces) << "a hostPath volume: " << scalar(v["name"]).value_or("?");
    EXPECT_EQ(scalar(at(v, {"hostPath", "path"})), "/run/netns") << scalar(v["name"]).value_or("?");
  }
}

TEST_P(KubernetesManifest, EveryContainerHasTheCapabilitiesOfItsScanOnly) {
  const bool pod_seccomp = scalar(at(pod_, {"securityContext", "seccompProfile", "type"})) == "RuntimeDefault";
  for (const auto& c : containers_) {
    const std::string name = scalar(c["name"]).value_or("?");
    const YAML::Node sc = at(c, {"securityContext"});
    ASSERT_TRUE(sc.IsMap()) << name << ": securityContext";
    EXPECT_EQ(scalar_set(at(sc, {"capabilities", "drop"})), (std::multiset<std::string>{"ALL"})) << name;
    EXPECT_EQ(scalar_set(at(sc, {"capabilities", "add"})), GetParam().add_caps) << name;
    EXPECT_FALSE(is_true(sc["privileged"])) << name;
    // Not root: the image's binary carries them as file capabilities,
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

TEST_P(KubernetesManifest, EveryContainerHasResourceRequestsAndLimits) {
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

TEST_P(KubernetesManifest, IsScrapedOnThePortItsConfigListensOn) {
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

TEST_P(KubernetesManifest, TheConfigMapConfigLoadsAndCanBeScraped) {
  const auto config = configmap_config();
  ASSERT_TRUE(config);
  // With hostNetwork, 127.0.0.1 is the node's loopback: Prometheus could
  // never reach it.
  const auto [host, port] = host_and_port(config->metrics_listen);
  EXPECT_NE(host.rfind("127.", 0), 0u) << config->metrics_listen << " cannot be scraped from off the node";
  EXPECT_NE(host, "localhost");
}

TEST_P(KubernetesManifest, TheConfigMapCarriesTheShippedDefaultPolicies) {
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

TEST_P(KubernetesManifest, TheDaemonReadsTheConfigMapMountedReadOnly) {
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

TEST_P(KubernetesManifest, TheConfigMapScansTheNamespacesItsPodCanReach) {
  const auto text = manifest_.configmap_text();
  ASSERT_TRUE(text);
  // The daemon's loader takes it (namespaces: included)...
  ASSERT_TRUE(configmap_config());
  // ...and it says what the pod spec is made for: scan: all only where
  // hostPID, /run/netns and SYS_ADMIN/SYS_PTRACE let it enter the pods'
  // namespaces; the node-only manifest scans its own (no key: the default).
  const YAML::Node config = YAML::Load(*text);
  const auto scan = scalar(at(config, {"namespaces", "scan"}));
  if (GetParam().all_namespaces)
    EXPECT_EQ(scan, "all");
  else
    EXPECT_TRUE(!scan || *scan == "host") << "namespaces.scan: " << *scan;
}

TEST(KubernetesManifests, TheVariantMountsTheNodesBoundNamespaces) {
  ManifestFile manifest(kAllNamespaces.file);
  ASSERT_TRUE(manifest.load());
  const auto mount = manifest.mount_of([](const YAML::Node& v) { return scalar(at(v, {"hostPath", "path"})) == "/run/netns"; });
  ASSERT_TRUE(mount) << "a hostPath volume of /run/netns, mounted in the daemon's container";
  const auto& [volume, m] = *mount;
  EXPECT_EQ(scalar(m["mountPath"]), "/run/netns") << "where the daemon looks for bound namespaces";
  EXPECT_TRUE(is_true(m["readOnly"])) << "the daemon only opens them";
  // A pod started later binds its namespace after this mount was made: only
  // propagation from the host brings it in. Bidirectional would also send
  // the container's mounts out (and needs privileged).
  EXPECT_EQ(scalar(m["mountPropagation"]), "HostToContainer");
  EXPECT_FALSE(m["subPath"]) << "a subPath mount receives no propagation";
  for (const auto& v : manifest.pod()["volumes"]) {
    if (scalar(v["name"]) == volume) {
      // Absent on a node with no pod yet: made, not a failure to start.
      EXPECT_EQ(scalar(at(v, {"hostPath", "type"})), "DirectoryOrCreate");
    }
  }
}

// Applying one manifest replaces the other's objects: never two reapers on
// a node (and never two binds of the metrics port).
TEST(KubernetesManifests, TheVariantReplacesTheNodeOnlyDaemonSet) {
  ManifestFile node(kNodeOnly.file), every(kAllNamespaces.file);
  ASSERT_TRUE(node.load());
  ASSERT_TRUE(every.load());
  for (const char* field : {"name", "namespace"}) {
    EXPECT_EQ(scalar(at(every.ds(), {"metadata", field})), scalar(at(node.ds(), {"metadata", field}))) << field;
  }
  EXPECT_TRUE(every.in_namespace("ConfigMap", "tcpreap-config"));
  EXPECT_TRUE(node.in_namespace("ConfigMap", "tcpreap-config"));
}

INSTANTIATE_TEST_SUITE_P(Manifests, KubernetesManifest, ::testing::Values(kNodeOnly, kAllNamespaces), variant_name);

}  // namespace
}  // namespace tcpreap
