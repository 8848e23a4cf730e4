// packaging/grafana/tcpreap.json, read as Grafana would import it (JSON
// is YAML 1.2 flow, so yaml-cpp reads it; Grafana itself is not in Debian):
// it parses, has its stable uid and title, a `datasource` variable that
// every panel and query uses, rows, and PromQL that names only metrics the
// daemon exports, in PromQL that promtool accepts - and every family the
// daemon exports is on some panel. The exported families come from
// DaemonMetrics::text(), the scrape's text.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "metrics/daemon_metrics.h"

#ifndef TCPREAP_SOURCE_DIR
#error "TCPREAP_SOURCE_DIR must be defined"
#endif

namespace tcpreap {
namespace {

const std::string kDashboard = std::string(TCPREAP_SOURCE_DIR) + "/packaging/grafana/tcpreap.json";
const std::string kDatasource = "${datasource}";

std::string scalar(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : std::string(); }

// Every family a scrape shows, name -> type, with every method called once
// so that each labelled family has a series.
std::map<std::string, std::string> exported_families() {
  DaemonMetrics m("0.0.0", "test");
  m.declare_policy("p", {"silent"});
  m.declare_probes("p");
  m.reaped("p", "destroy", "silent");
  m.would_reap("p", "silent");
  m.reap_failed("rst", "no-answer");
  m.held_back("p", 1);
  m.probes_deferred("p", 1);
  m.set_connections({{"p", 1}}, {{"p", 1}});
  m.set_probe_totals({1, 1, 0, 0, 0});
  m.scan_succeeded(0.01, 10);
  m.scan_failed(0.01, Error(ENOBUFS, "receiving netlink reply"));
  m.config_loaded(true);
  m.config_reloaded(true);
  m.set_dry_run(false);
  m.set_privileges(true, true, true);
  m.set_sock_destroy_supported(true);
  std::map<std::string, std::string> out;
  std::istringstream in(m.text());
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::istringstream words(line.substr(7));
    std::string name, type;
    words >> name >> type;
    out[name] = type;
  }
  return out;
}

// PromQL words that are not metric names: aggregations (they may be
// followed by `by (...)` rather than by their parenthesis), binary
// operators and modifiers.
const std::set<std::string> kKeywords = {
    "sum",    "min",         "max",          "avg",   "group",   "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk",       "quantile",     "limitk", "limit_ratio", "and", "or",    "unless", "bool",
    "offset", "atan2",       "by",           "without", "on",     "ignoring", "group_left", "group_right", "inf",
    "nan"};
// Those followed by a list of label names.
const std::set<std::string> kLabelLists = {"by", "without", "on", "ignoring", "group_left", "group_right"};

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool ident_char(char c) { return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

// Skips from `open` (at s[i]) to just past its matching `close`, stepping
// over quoted strings.
size_t skip_group(const std::string& s, size_t i, char open, char close) {
  int depth = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"' || c == '\'') {
      for (++i; i < s.size() && s[i] != c; ++i)
        if (s[i] == '\\') ++i;
    } else if (c == open) {
      ++depth;
    } else if (c == close && --depth == 0) {
      return i + 1;
    }
  }
  return i;
}

// The metric names an expression selects: identifiers outside label
// matchers, ranges, strings and label lists, that are neither a function
// (followed by '(') nor a keyword nor a Grafana variable ($name, ${name}).
std::vector<std::string> metric_names(const std::string& expr) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < expr.size()) {
    const char c = expr[i];
    if (c == '"' || c == '\'') {
      for (++i; i < expr.size() && expr[i] != c; ++i)
        if (expr[i] == '\\') ++i;
      ++i;
    } else if (c == '{') {
      i = skip_group(expr, i, '{', '}');
    } else if (c == '[') {
      i = skip_group(expr, i, '[', ']');
    } else if (c == '$') {
      ++i;
      if (i < expr.size() && expr[i] == '{') i = skip_group(expr, i, '{', '}');
      while (i < expr.size() && ident_char(expr[i])) ++i;
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      while (i < expr.size() && (ident_char(expr[i]) || expr[i] == '.')) ++i;  // 0.99, 1e3, 5m
    } else if (ident_start(c)) {
      const size_t start = i;
      while (i < expr.size() && ident_char(expr[i])) ++i;
      const std::string word = expr.substr(start, i - start);
      size_t next = i;
      while (next < expr.size() && std::isspace(static_cast<unsigned char>(expr[next]))) ++next;
      const bool call = next < expr.size() && expr[next] == '(';
      if (kLabelLists.count(word) && call) {
        i = skip_group(expr, next, '(', ')');
      } else if (!call && !kKeywords.count(word)) {
        out.push_back(word);
      }
    } else {
      ++i;
    }
  }
  return out;
}

// The family a series name belongs to: itself, or a histogram's.
std::string family_of(const std::string& name, const std::map<std::string, std::string>& families) {
  if (families.count(name)) return name;
  for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      const std::string base = name.substr(0, name.size() - suffix.size());
      auto it = families.find(base);
      if (it != families.end() && it->second == "histogram") return base;
    }
  }
  return "";
}

void collect_panels(const YAML::Node& list, std::vector<YAML::Node>& out) {
  if (!list || !list.IsSequence()) return;
  for (const auto& p : list) {
    out.push_back(p);
    collect_panels(p["panels"], out);  // a collapsed row holds its panels
  }
}

class GrafanaDashboard : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      dashboard_ = YAML::LoadFile(kDashboard);
    } catch (const YAML::Exception& e) {
      FAIL() << kDashboard << ": " << e.what();
    }
    ASSERT_TRUE(dashboard_.IsMap()) << kDashboard << " is no JSON object";
    collect_panels(dashboard_["panels"], panels_);
  }

  YAML::Node dashboard_;
  std::vector<YAML::Node> panels_;
};

TEST_F(GrafanaDashboard, HasItsStableIdentityAndASchemaGrafana9And10Read) {
  EXPECT_EQ(scalar(dashboard_["uid"]), "tcpreap");
  EXPECT_EQ(scalar(dashboard_["title"]), "tcpreap");
  // 36 is Grafana 9.0's, 38 Grafana 10.0's: both import it.
  const int schema = dashboard_["schemaVersion"].as<int>(0);
  EXPECT_GE(schema, 36);
  EXPECT_LE(schema, 38);
  // An id is the exporting server's own: an import must not carry one.
  EXPECT_TRUE(!dashboard_["id"] || dashboard_["id"].IsNull()) << "id: " << scalar(dashboard_["id"]);
}

TEST_F(GrafanaDashboard, HasADatasourceVariableOfTypePrometheus) {
  int found = 0;
  for (const auto& v : dashboard_["templating"]["list"]) {
    if (scalar(v["name"]) != "datasource") continue;
    ++found;
    EXPECT_EQ(scalar(v["type"]), "datasource");
    EXPECT_EQ(scalar(v["query"]), "prometheus");
  }
  EXPECT_EQ(found, 1);
  // Every other variable that queries, queries through it.
  for (const auto& v : dashboard_["templating"]["list"]) {
    if (scalar(v["type"]) != "query") continue;
    EXPECT_EQ(scalar(v["datasource"]["uid"]), kDatasource) << scalar(v["name"]);
  }
}

TEST_F(GrafanaDashboard, EveryPanelAndQueryUsesTheDatasourceVariable) {
  std::set<int> ids;
  int rows = 0, queries = 0;
  ASSERT_FALSE(panels_.empty());
  EXPECT_EQ(scalar(panels_.front()["type"]), "row") << "every panel is in a row";
  for (const auto& p : panels_) {
    const std::string title = scalar(p["title"]);
    EXPECT_FALSE(title.empty()) << "a panel without a title";
    EXPECT_TRUE(ids.insert(p["id"].as<int>(-1)).second) << "id " << scalar(p["id"]) << " twice (" << title << ")";
    const YAML::Node pos = p["gridPos"];
    ASSERT_TRUE(pos && pos.IsMap()) << title;
    EXPECT_GT(pos["w"].as<int>(0), 0) << title;
    EXPECT_GT(pos["h"].as<int>(0), 0) << title;
    EXPECT_LE(pos["x"].as<int>(99) + pos["w"].as<int>(99), 24) << title;
    if (scalar(p["type"]) == "row") {
      ++rows;
      continue;
    }
    EXPECT_EQ(scalar(p["datasource"]["type"]), "prometheus") << title;
    EXPECT_EQ(scalar(p["datasource"]["uid"]), kDatasource) << title;
    ASSERT_TRUE(p["targets"] && p["targets"].IsSequence() && p["targets"].size() > 0) << title << ": no query";
    for (const auto& t : p["targets"]) {
      ++queries;
      EXPECT_EQ(scalar(t["datasource"]["uid"]), kDatasource) << title;
      EXPECT_FALSE(scalar(t["expr"]).empty()) << title;
    }
  }
  EXPECT_GE(rows, 5);
  EXPECT_GE(queries, 30);
}

// A query for a metric the daemon does not export draws nothing, silently;
// a family on no panel is one nobody sees.
TEST_F(GrafanaDashboard, QueriesNameOnlyExportedMetricsAndEveryFamilyIsShown) {
  const auto families = exported_families();
  ASSERT_GE(families.size(), 30u) << "too few families in DaemonMetrics::text()";
  std::set<std::string> shown;
  auto check = [&](const std::string& expr, const std::string& where) {
    const auto names = metric_names(expr);
    EXPECT_FALSE(names.empty()) << where << ": no metric in " << expr;
    for (const auto& name : names) {
      const std::string family = family_of(name, families);
      EXPECT_FALSE(family.empty()) << where << ": " << name << " is not exported by tcpreapd (" << expr << ")";
      if (!family.empty()) shown.insert(family);
    }
  };
  for (const auto& p : panels_)
    for (const auto& t : p["targets"]) check(scalar(t["expr"]), "panel '" + scalar(p["title"]) + "'");
  for (const auto& v : dashboard_["templating"]["list"]) {
    if (scalar(v["type"]) != "query") continue;
    // A string (Grafana 9), or {query: ...} (Grafana 10 writes it so).
    std::string query = v["query"].IsMap() ? scalar(v["query"]["query"]) : scalar(v["query"]);
    // label_values(SELECTOR, LABEL): the label is no metric.
    const std::string fn = "label_values(";
    if (query.rfind(fn, 0) == 0 && query.rfind(',') != std::string::npos)
      query = query.substr(fn.size(), query.rfind(',') - fn.size());
    check(query, "variable " + scalar(v["name"]));
  }
  for (const auto& [family, type] : families)
    EXPECT_TRUE(shown.count(family)) << family << " (" << type << ") is on no panel";
}

// Every query is PromQL Prometheus accepts: each, with Grafana's variables
// given values, becomes a recording rule that promtool (Debian's
// prometheus package) parses.
TEST_F(GrafanaDashboard, EveryQueryIsValidPromql) {
  if (std::system("command -v promtool > /dev/null") != 0)
    FAIL() << "promtool not found (apt-get install prometheus)";
  const std::vector<std::pair<std::string, std::string>> values = {
      {"$__rate_interval", "5m"}, {"$__interval", "1m"}, {"$__range", "1h"}, {"$instance", ".*"}};
  YAML::Emitter rules;
  rules << YAML::BeginMap << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  rules << YAML::Key << "name" << YAML::Value << "dashboard" << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
  int n = 0;
  for (const auto& p : panels_) {
    for (const auto& t : p["targets"]) {
      std::string expr = scalar(t["expr"]);
      for (const auto& [name, value] : values)
        for (size_t at; (at = expr.find(name)) != std::string::npos;) expr.replace(at, name.size(), value);
      EXPECT_EQ(expr.find('$'), std::string::npos) << "a variable this test gives no value: " << expr;
      rules << YAML::BeginMap << YAML::Key << "record" << YAML::Value << "dashboard:query" + std::to_string(++n)
            << YAML::Key << "expr" << YAML::Value << YAML::DoubleQuoted << expr << YAML::EndMap;
    }
  }
  rules << YAML::EndSeq << YAML::EndMap << YAML::EndSeq << YAML::EndMap;
  char dir[] = "/tmp/grafana_dashboard_test.XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/queries.yml";
  std::ofstream(path) << rules.c_str() << "\n";
  const std::string command = "promtool check rules " + path + " 2>&1";
  std::string output;
  FILE* p = ::popen(command.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) output += buf;
  const int status = ::pclose(p);
  std::remove(path.c_str());
  ::rmdir(dir);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("SUCCESS: " + std::to_string(n) + " rules found"), std::string::npos) << output;
}

// The expression reader itself, on the shapes the dashboard uses.
TEST(PromqlMetricNames, FindsSelectorsAndSkipsEverythingElse) {
  using V = std::vector<std::string>;
  EXPECT_EQ(metric_names(R"(sum by (policy, reason) (increase(a_total{instance=~"$instance"}[$__rate_interval])))"),
            V{"a_total"});
  EXPECT_EQ(metric_names(R"(histogram_quantile(0.99, sum by (le) (rate(h_bucket{x="a{b}"}[5m]))))"), V{"h_bucket"});
  EXPECT_EQ(metric_names("time() - ts_seconds{instance=~\"$instance\"}"), V{"ts_seconds"});
  EXPECT_EQ(metric_names("sum(rate(s_sum[1m])) / sum(rate(s_count[1m]))"), (V{"s_sum", "s_count"}));
  EXPECT_EQ(metric_names("a > bool 1 and on (instance) b offset 5m"), (V{"a", "b"}));
  EXPECT_EQ(metric_names("label_values(tcpreap_build_info, instance)"), (V{"tcpreap_build_info", "instance"}));
  EXPECT_EQ(metric_names("max without (le) (x) unless ignoring(a) group_left(b) y * ${factor}"), (V{"x", "y"}));
}

}  // namespace
}  // namespace tcpreap
