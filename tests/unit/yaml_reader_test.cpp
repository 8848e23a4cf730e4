// The reading layer on its own, with made-up keys: what the config's schema
// builds on (config_loader_test covers the schema, diagnostics and all).

#include "config/yaml_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace tcpreap::yaml {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> messages(YamlReader& r) {
  std::vector<std::string> out;
  for (const ConfigDiagnostic& d : r.take_diagnostics()) out.push_back(d.to_string());
  return out;
}

// The document's root as a Value, read with `r`.
Value root_of(const YAML::Node& root) { return Value{root, "", pos_of(root, {1, 1})}; }

constexpr KeySpec kKeys[] = {{"interval", {}}, {"ports", {}}, {"port", "ports"}};

TEST(YamlReader, PlacesValuesAndEmptyOnesAtTheirKey) {
  const YAML::Node root = YAML::Load("a:\n  b: 5\n  c:\n  d: [1, 2]\n");
  const Value top = root_of(root);
  const Value a = top.member(root["a"], "a", {1, 1});
  EXPECT_EQ(a.path, "a");
  EXPECT_EQ(a.pos.line, 2) << "a block map starts on the line below its key";
  const Value b = a.member(root["a"]["b"], "b", {2, 3});
  EXPECT_EQ(b.path, "a.b");
  EXPECT_EQ((std::pair(b.pos.line, b.pos.column)), std::pair(2, 6));
  const Value c = a.member(root["a"]["c"], "c", {3, 3});
  EXPECT_EQ((std::pair(c.pos.line, c.pos.column)), std::pair(3, 3)) << "nothing written: the key's place";
  const Value d1 = a.member(root["a"]["d"], "d", {4, 3}).item(root["a"]["d"][1], 1);
  EXPECT_EQ(d1.path, "a.d[1]");
  EXPECT_EQ((std::pair(d1.pos.line, d1.pos.column)), std::pair(4, 10));
  EXPECT_EQ(at_line({4, 10}), "line 4:10");
  EXPECT_EQ(got(root["a"]["b"]), "'5'");
  EXPECT_EQ(got(root["a"]["d"]), "a list");
  EXPECT_EQ(got(root["a"]), "a map");
  EXPECT_EQ(got(root["a"]["c"]), "nothing");
}

TEST(YamlReader, FieldsKnowTheirKeysAliasesAndRepeats) {
  const YAML::Node root = YAML::Load("interval: 1s\nport: 22\nintervall: 2s\nports: 80\n[x]: 1\nzzz: 1\n");
  YamlReader r("t.yaml");
  const Fields f = r.fields(root_of(root), kKeys, "in t");
  ASSERT_NE(f.get("interval"), nullptr);
  EXPECT_EQ(f.get("interval")->node.Scalar(), "1s");
  ASSERT_NE(f.get("ports"), nullptr) << "an alias is read as its canonical key";
  EXPECT_EQ(f.get("ports")->node.Scalar(), "22");
  EXPECT_EQ(f.get("ports")->path, "port") << "named as written";
  EXPECT_EQ(f.get("port"), nullptr);
  EXPECT_EQ((std::pair(f.key_pos("ports").line, f.key_pos("ports").column)), std::pair(2, 1));
  EXPECT_EQ(f.key_pos("absent").line, 0);
  EXPECT_EQ(messages(r), (std::vector<std::string>{
                             "t.yaml:3:1: unknown key 'intervall' in t (did you mean 'interval'?)",
                             "t.yaml:4:1: duplicate key 'ports' ('port' is the same key, first at line 2:1)",
                             "t.yaml:5:1: expected a key name, got a list",
                             "t.yaml:6:1: unknown key 'zzz' in t (known: interval, ports)",
                         }));
}

TEST(YamlReader, ASectionMayBeEmptyButNotAScalar) {
  const YAML::Node root = YAML::Load("empty:\nscalar: 5\n");
  YamlReader r("t.yaml");
  const Value top = root_of(root);
  auto empty = r.section(top.member(root["empty"], "empty", {1, 1}), kKeys);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(r.section(top.member(root["scalar"], "scalar", {2, 1}), kKeys).has_value());
  EXPECT_EQ(messages(r), std::vector<std::string>{"t.yaml:2:9: scalar: expected a map, got '5'"});
}

Result<int> small_number(std::string_view text) {
  if (text.size() == 1 && text[0] >= '0' && text[0] <= '9') return text[0] - '0';
  return Error(0, "'" + std::string(text) + "' is not a digit");
}

TEST(YamlReader, ListsAreSequencesOrOneScalarAndKeepWhatParses) {
  const YAML::Node root = YAML::Load("one: 7\nmany: [1, x, [2], 3]\nnone: []\nmap: {a: 1}\n");
  YamlReader r("t.yaml");
  const Value top = root_of(root);
  auto field = [&](const char* name, int line) { return top.member(root[name], name, {line, 1}); };
  const Value one = field("one", 1), many = field("many", 2), none = field("none", 3), map = field("map", 4);
  EXPECT_EQ(r.parsed_items(&one, "a digit", &small_number), std::vector<int>{7});
  EXPECT_EQ(r.parsed_items(&many, "a digit", &small_number), (std::vector<int>{1, 3}));
  EXPECT_TRUE(r.parsed_items(&none, "a digit", &small_number).empty());
  EXPECT_TRUE(r.parsed_items(&map, "a digit", &small_number).empty());
  EXPECT_TRUE(r.parsed_items<int>(nullptr, "a digit", &small_number).empty()) << "no list: nothing, no error";
  EXPECT_EQ(messages(r), (std::vector<std::string>{
                             "t.yaml:2:11: many[1]: 'x' is not a digit",
                             "t.yaml:2:14: many[2]: expected a digit, got a list",
                             "t.yaml:3:7: none: [] matches nothing",
                             "t.yaml:4:6: map: expected a digit or a list of them, got a map",
                         }));
}

TEST(YamlReader, TypedScalarsSayWhatIsWrong) {
  const YAML::Node root = YAML::Load(
      "a: 0\nb: -3\nc: 4294967296\nd: 11\ne: \"12\"\nf: yes\ng: maybe\nh: 50ms\ni: 2y\nj: 2d\nk: 0s\nl: [1]\n");
  YamlReader r("t.yaml");
  const Value top = root_of(root);
  int line = 0;
  auto next = [&](const char* name) { return top.member(root[name], name, {++line, 1}); };
  EXPECT_FALSE(r.count(next("a")));
  EXPECT_FALSE(r.count(next("b")));
  EXPECT_FALSE(r.count(next("c")));
  EXPECT_FALSE(r.count(next("d"), 10));
  EXPECT_EQ(r.count(next("e")), 12u) << "quoted or not is all one";
  EXPECT_FALSE(r.boolean(next("f")));
  EXPECT_FALSE(r.boolean(next("g")));
  EXPECT_FALSE(r.duration(next("h"), 100ms, kMaxDuration, "because"));
  EXPECT_FALSE(r.duration(next("i"), Duration(1)));
  EXPECT_FALSE(r.duration(next("j"), Duration(1), 24h));
  EXPECT_FALSE(r.duration(next("k"), Duration(1)));
  EXPECT_FALSE(r.scalar(next("l"), "a word"));
  EXPECT_EQ(messages(r), (std::vector<std::string>{
                             "t.yaml:1:4: a: must be at least 1, got 0",
                             "t.yaml:2:4: b: must be at least 1, got -3",
                             "t.yaml:3:4: c: '4294967296' is too large (at most 4294967295)",
                             "t.yaml:4:4: d: must be from 1 to 10, got 11",
                             "t.yaml:6:4: f: write true or false, not 'yes'",
                             "t.yaml:7:4: g: expected true or false, got 'maybe'",
                             "t.yaml:8:4: h: '50ms' is too short (at least 100ms: because)",
                             "t.yaml:9:4: i: '2y' has an unknown unit 'y' (use d, h, m, s or ms)",
                             "t.yaml:10:4: j: '2d' is too long (at most 1d)",
                             "t.yaml:11:4: k: must be more than 0, got '0s'",
                             "t.yaml:12:4: l: expected a word, got a list",
                         }));
}

TEST(YamlReader, ReadsOneDocumentAndCatchesWhatYamlCppThrows) {
  {
    YamlReader r("t.yaml");
    int walks = 0;
    r.read_document("a: 1\n---\nb: 2\n", [&](const YAML::Node& root) {
      ++walks;
      EXPECT_EQ(root["a"].as<int>(), 1);
    });
    EXPECT_EQ(walks, 1) << "the first document is still read";
    EXPECT_EQ(messages(r), std::vector<std::string>{"t.yaml:3:1: a second YAML document; the config is one document"});
  }
  {
    YamlReader r("t.yaml");
    r.read_document("a: [1, 2\n", [&](const YAML::Node&) { ADD_FAILURE() << "walked invalid YAML"; });
    const auto m = messages(r);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].rfind("t.yaml:", 0), 0u) << m[0];
    EXPECT_NE(m[0].find(": invalid YAML: "), std::string::npos) << m[0];
  }
  {
    YamlReader r("t.yaml");
    r.read_document("a: {b: 1}\n", [&](const YAML::Node& root) { (void)root["a"].as<int>(); });
    const auto m = messages(r);
    ASSERT_EQ(m.size(), 1u) << "a throw in the walk ends as a diagnostic";
    EXPECT_NE(m[0].find("cannot read the YAML: "), std::string::npos) << m[0];
  }
  {
    YamlReader r("t.yaml");
    r.read_document("a: \x01\n", [&](const YAML::Node&) { ADD_FAILURE() << "walked text yaml-cpp must not see"; });
    EXPECT_EQ(messages(r),
              std::vector<std::string>{"t.yaml:1:4: control character 0x01 in the file; a config is text"});
  }
}

TEST(YamlReader, DiagnosticsComeInFileOrderTiesAsReported) {
  YamlReader r("t.yaml");
  r.error(Pos{3, 1}, "third");
  r.error(Pos{1, 5}, "first, reported first");
  r.error(Pos{}, "no place");
  r.error(Pos{1, 5}, "first, reported second");
  r.error(Pos{2, 1}, "with a\ncontrol character");
  EXPECT_EQ(r.error_count(), 5u);
  EXPECT_EQ(messages(r), (std::vector<std::string>{
                             "t.yaml: no place",
                             "t.yaml:1:5: first, reported first",
                             "t.yaml:1:5: first, reported second",
                             "t.yaml:2:1: with a?control character",
                             "t.yaml:3:1: third",
                         }));
}

}  // namespace
}  // namespace tcpreap::yaml
