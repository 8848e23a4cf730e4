#include "config/config_loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <sstream>

#include "config/alias_expansion.h"
#include "config/config_summary.h"
#include "config/duration.h"
#include "config/edit_distance.h"
#include "config/yaml_prescreen.h"

namespace tcpreap {

namespace {

// The limits a value must respect, beyond its type.
// A scan walks every socket of the host: more often than 10 times a second
// is a busy loop, not a reaper.
constexpr Duration kMinScanInterval{100};
// Longer than a year is a typo; it also keeps every duration far from the
// overflow of the microsecond clocks the daemon adds them to.
constexpr Duration kMaxDuration = std::chrono::hours(24 * 365);
// Every socket is matched against the policies in turn, and the loader
// compares each pair for reachability: a thousand is more than any host needs.
constexpr size_t kMaxPolicies = 1000;
// Policy names go into metric labels and log lines.
constexpr size_t kMaxPolicyNameLength = 64;
// Scalars quoted in messages are cut to this many bytes.
constexpr size_t kMaxQuotedLength = 40;
// A verification probe is an out-of-window segment, and a peer answers at
// most one of those per net.ipv4.tcp_invalid_ratelimit (500 ms by default;
// tcp_oow_rate_limited()): a live peer could leave probes closer together
// unanswered. 1 s leaves a margin over the default.
constexpr Duration kMinVerifyInterval = std::chrono::seconds(1);
// A dead connection stays up probes x interval longer for its verification;
// an hour between probes is far more than any peer takes to answer.
constexpr Duration kMaxVerifyInterval = std::chrono::hours(1);
// A live peer answers the first probe that reaches it; each further probe
// only rides out one more lost packet, and adds an interval to the wait.
constexpr uint32_t kMaxVerifyProbes = 10;
// A turn's probes are all in flight at once, each a spoofed SYN, a probe and
// a flow for the capture to watch: a hundred times the default (1000) is
// more than any host verifies in one turn, and a bound for a typo.
constexpr uint32_t kMaxVerifyProbesPerScan = 100'000;

// A 1-based place in the file; line 0 for none.
struct Pos {
  int line = 0;
  int column = 0;
};

Pos pos_of(const YAML::Mark& m) {
  if (m.is_null() || m.line < 0 || m.column < 0) return {};
  return {m.line + 1, m.column + 1};  // yaml-cpp counts from 0
}

// Where a node was written. yaml-cpp marks an empty value (`key:` and
// nothing) at the next token, so empty values point at `fallback`: their key.
Pos pos_of(const YAML::Node& n, Pos fallback) {
  if (n.IsNull()) return fallback;
  const Pos p = pos_of(n.Mark());
  return p.line == 0 ? fallback : p;
}

std::string at_line(Pos p) { return "line " + std::to_string(p.line) + ":" + std::to_string(p.column); }

// Control characters would break a one-line message.
std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if ((static_cast<unsigned char>(c) < 0x20) || c == 0x7f) c = '?';
  return out;
}

// 'text' for a message: printable, and cut (on a UTF-8 boundary) if long.
std::string quoted(std::string_view s) {
  if (s.size() <= kMaxQuotedLength) return "'" + printable(s) + "'";
  size_t cut = kMaxQuotedLength;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
  return "'" + printable(s.substr(0, cut)) + "...'";
}

// What was found where something else was expected.
std::string got(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return quoted(n.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string join_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// A value and where it came from: `path` names it in messages
// ("policies[0].match.local_ports[1]").
struct Value {
  YAML::Node node;
  std::string path;
  Pos pos;
};

// A key a map accepts. An alias (`local_port`) stands for its canonical key
// (`local_ports`); messages list only the canonical ones.
struct KeySpec {
  std::string_view name;
  std::string_view canonical;  // empty: the key is canonical
  std::string_view canonical_name() const { return canonical.empty() ? name : canonical; }
};

constexpr KeySpec kTopKeys[] = {{"scan", {}}, {"reap", {}}, {"metrics", {}}, {"policies", {}}};
constexpr KeySpec kScanKeys[] = {{"interval", {}}};
constexpr KeySpec kReapKeys[] = {
    {"dry_run", {}}, {"method", {}}, {"max_per_scan", {}}, {"max_per_minute", {}}, {"protect", {}}};
constexpr KeySpec kMetricsKeys[] = {{"listen", {}}};
constexpr KeySpec kPolicyKeys[] = {{"name", {}},         {"match", {}},          {"dead_when", {}}, {"confirm", {}},
                                   {"max_per_scan", {}}, {"per_peer_limit", {}}, {"verify", {}}};
constexpr KeySpec kMatchKeys[] = {
    {"local_ports", {}},
    {"remote_ports", {}},
    {"ports", {}},
    {"local", {}},
    {"remote", {}},
    {"states", {}},
    {"local_port", "local_ports"},
    {"remote_port", "remote_ports"},
    {"port", "ports"},
};
constexpr KeySpec kDeadWhenKeys[] = {{"silent_for", {}}, {"unacked_for", {}}, {"in_state_for", {}}};
constexpr KeySpec kPerPeerKeys[] = {{"max", {}}, {"min_silent", {}}};
constexpr KeySpec kVerifyKeys[] = {{"probes", {}}, {"interval", {}}, {"max_per_scan", {}}};

// The known keys of one map, by canonical name, first occurrence only.
class Fields {
 public:
  void add(std::string_view canonical, Value v, Pos key) { fields_.push_back(Field{canonical, std::move(v), key}); }
  const Value* get(std::string_view canonical) const {
    const Field* f = find(canonical);
    return f ? &f->value : nullptr;
  }
  // Where the key itself was written: a block map's value starts on the
  // line below it. Line 0 when the key is absent.
  Pos key_pos(std::string_view canonical) const {
    const Field* f = find(canonical);
    return f ? f->key : Pos{};
  }
  bool empty() const { return fields_.empty(); }

 private:
  struct Field {
    std::string_view name;
    Value value;
    Pos key;
  };
  const Field* find(std::string_view canonical) const {
    for (const Field& f : fields_)
      if (f.name == canonical) return &f;
    return nullptr;
  }
  std::vector<Field> fields_;
};

// What the walk learnt about one policy, for the checks across policies.
struct PolicySeen {
  std::optional<std::string> name;
  std::optional<Match> match;
  Pos pos;
};

// Notes where each document's content starts; a document of nothing (a
// trailing `---`) has none.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> content;  // of the last document handled

  void OnDocumentStart(const YAML::Mark&) override { content.reset(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { note(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { note(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& m) {
    if (!content) content = m;
  }
};

class Loader {
 public:
  explicit Loader(std::string_view file) : file_(file) {}

  ConfigLoad load(std::string_view yaml) {
    config_.source = file_;
    if (yaml.size() > kMaxConfigBytes) {
      error(Pos{}, "the file is larger than 1 MiB; a config is a page of YAML (is it the right file?)");
    } else if (auto control = control_character(yaml)) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", control->byte);
      error(Pos{control->mark.line, control->mark.column}, std::string("control character ") + hex + " in the file; a config is text");
    } else if (auto deep = nesting_too_deep(yaml)) {
      error(Pos{deep->line, deep->column}, "nested deeper than " + std::to_string(kMaxConfigNesting) + " levels");
    } else if (auto alias = alias_problem(yaml)) {
      error(Pos{alias->mark.line, alias->mark.column}, alias->message);
    } else {
      // yaml-cpp throws: while parsing, and on any misuse of a node. Either
      // way its exception ends here, with what was found before it.
      try {
        const std::string text(yaml);
        const YAML::Node root = YAML::Load(text);
        // Is there a second document? Asked of the parser directly, at most
        // twice: LoadAll would read every document, however many a broken
        // stream seems to hold.
        std::istringstream in(text);
        YAML::Parser parser(in);
        DocumentStarts starts;
        if (parser.HandleNextDocument(starts) && parser.HandleNextDocument(starts) && starts.content)
          error(pos_of(*starts.content), "a second YAML document; the config is one document");
        read_document(root);
      } catch (const YAML::ParserException& e) {
        error(pos_of(e.mark), "invalid YAML: " + e.msg);
      } catch (const YAML::Exception& e) {
        error(pos_of(e.mark), "cannot read the YAML: " + e.msg);
      } catch (const std::exception& e) {
        error(Pos{}, std::string("cannot read the YAML: ") + e.what());
      }
    }
    ConfigLoad out;
    if (errors_.empty()) {
      out.config = std::move(config_);
      return out;
    }
    std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigDiagnostic& a, const ConfigDiagnostic& b) {
      return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    out.errors = std::move(errors_);
    return out;
  }

 private:
  void error(Pos p, const std::string& message) {
    errors_.push_back(ConfigDiagnostic{file_, p.line, p.column, printable(message)});
  }
  void error(const Value& v, const std::string& message) { error(v.pos, v.path + ": " + message); }
  void type_error(const Value& v, std::string_view expected) {
    error(v, "expected " + std::string(expected) + ", got " + got(v.node));
  }

  void read_document(const YAML::Node& root) {
    if (root.IsNull()) {
      error(Pos{}, "the config is empty; 'policies' is required");
      return;
    }
    const Pos root_pos = pos_of(root, {1, 1});
    if (!root.IsMap()) {
      error(root_pos, "expected a map of scan, reap, metrics and policies, got " + got(root));
      return;
    }
    const Fields top = fields(Value{root, "", root_pos}, kTopKeys, "at the top level");
    if (const Value* f = top.get("scan")) read_scan(*f);
    if (const Value* f = top.get("reap")) read_reap(*f);
    if (const Value* f = top.get("metrics")) read_metrics(*f);
    if (const Value* f = top.get("policies"))
      read_policies(*f);
    else
      error(root_pos, "missing 'policies' (at least one policy is required)");
  }

  // The known keys of a map; reports unknown and repeated keys. `where`
  // ends the unknown-key message: "in scan", "at the top level".
  Fields fields(const Value& map, std::span<const KeySpec> keys, const std::string& where) {
    Fields out;
    std::map<std::string_view, std::pair<std::string, Pos>> first;  // canonical -> as written, where
    for (auto it = map.node.begin(); it != map.node.end(); ++it) {
      const YAML::Node key = it->first;
      const Pos key_pos = pos_of(key, map.pos);
      if (!key.IsScalar()) {
        error(key_pos, map.path + (map.path.empty() ? "" : ": ") + "expected a key name, got " + got(key));
        continue;
      }
      const std::string& name = key.Scalar();
      const KeySpec* spec = nullptr;
      for (const KeySpec& k : keys)
        if (k.name == name) spec = &k;
      if (spec == nullptr) {
        unknown_key(name, key_pos, keys, where);
        continue;
      }
      const std::string_view canonical = spec->canonical_name();
      if (auto seen = first.find(canonical); seen != first.end()) {
        const auto& [written, at] = seen->second;
        if (written == name)
          error(key_pos, "duplicate key " + quoted(name) + " (first at " + at_line(at) + ")");
        else
          error(key_pos, "duplicate key " + quoted(name) + " (" + quoted(written) + " is the same key, first at " +
                             at_line(at) + ")");
        continue;
      }
      first.emplace(canonical, std::pair(name, key_pos));
      const YAML::Node value = it->second;
      out.add(canonical, Value{value, join_path(map.path, name), pos_of(value, key_pos)}, key_pos);
    }
    return out;
  }

  void unknown_key(const std::string& name, Pos at, std::span<const KeySpec> keys, const std::string& where) {
    std::vector<std::string_view> names;
    for (const KeySpec& k : keys) names.push_back(k.name);
    std::string message = "unknown key " + quoted(name) + " " + where;
    if (auto near = nearest_within_reach(name, names)) {
      message += " (did you mean '" + std::string(*near) + "'?)";
    } else {
      std::string known;
      for (const KeySpec& k : keys)
        if (k.canonical.empty()) known += (known.empty() ? "" : ", ") + std::string(k.name);
      message += " (known: " + known + ")";
    }
    error(at, message);
  }

  // A section: a map, or empty (`scan:` with its keys commented out).
  std::optional<Fields> section(const Value& v, std::span<const KeySpec> keys) {
    if (v.node.IsNull()) return Fields{};
    if (!v.node.IsMap()) {
      type_error(v, "a map");
      return std::nullopt;
    }
    return fields(v, keys, "in " + v.path);
  }

  void read_scan(const Value& v) {
    const auto f = section(v, kScanKeys);
    if (!f) return;
    if (const Value* interval = f->get("interval")) {
      if (auto d = duration(*interval, kMinScanInterval)) config_.scan_interval = *d;
    }
  }

  void read_reap(const Value& v) {
    const auto f = section(v, kReapKeys);
    if (!f) return;
    if (const Value* dry = f->get("dry_run")) {
      if (auto b = boolean(*dry)) config_.dry_run = *b;
    }
    if (const Value* method = f->get("method")) {
      if (auto m = reap_method(*method)) config_.method = *m;
    }
    if (const Value* max = f->get("max_per_scan")) {
      if (auto n = count(*max)) config_.max_per_scan = *n;
    }
    if (const Value* max = f->get("max_per_minute")) {
      if (auto n = count(*max)) config_.max_per_minute = *n;
    }
    if (const Value* protect = f->get("protect")) read_protect(*protect);
  }

  void read_protect(const Value& v) {
    if (v.node.IsNull()) return;  // every rule commented out
    if (!v.node.IsSequence()) {
      type_error(v, "a list of match blocks (- { local_port: 22 })");
      return;
    }
    size_t i = 0;
    for (auto it = v.node.begin(); it != v.node.end(); ++it, ++i) {
      const YAML::Node item = *it;
      const Value rule{item, v.path + "[" + std::to_string(i) + "]", pos_of(item, v.pos)};
      if (auto m = match(rule, /*protect=*/true)) config_.protect.push_back(std::move(*m));
    }
  }

  void read_metrics(const Value& v) {
    const auto f = section(v, kMetricsKeys);
    if (!f) return;
    if (const Value* listen = f->get("listen")) {
      if (auto address = listen_address(*listen)) config_.metrics_listen = *address;
    }
  }

  void read_policies(const Value& v) {
    if (!v.node.IsSequence()) {
      type_error(v, "a list of policies");
      return;
    }
    if (v.node.size() == 0) {
      error(v, "[] holds no policy; at least one is required");
      return;
    }
    if (v.node.size() > kMaxPolicies) {
      error(v, std::to_string(v.node.size()) + " policies; at most " + std::to_string(kMaxPolicies));
      return;
    }
    std::vector<PolicySeen> seen;
    size_t i = 0;
    for (auto it = v.node.begin(); it != v.node.end(); ++it, ++i) {
      const YAML::Node item = *it;
      seen.push_back(PolicySeen{{}, {}, pos_of(item, v.pos)});
      const Value pv{item, v.path + "[" + std::to_string(i) + "]", seen.back().pos};
      if (auto p = policy(pv, seen.back())) config_.policies.push_back(std::move(*p));
    }
    // Names are unique; a policy no socket can reach is a mistake (a
    // repeated one has its error already).
    std::map<std::string, Pos> names;  // name -> where first given
    for (PolicySeen& p : seen) {
      if (!p.name) continue;
      auto [first, inserted] = names.emplace(*p.name, p.pos);
      if (!inserted) {
        error(p.pos, "duplicate policy name " + quoted(*p.name) + " (first at " + at_line(first->second) + ")");
        p.name.reset();
      }
    }
    for (size_t b = 0; b < seen.size(); ++b) {
      if (!seen[b].name || !seen[b].match) continue;
      for (size_t a = 0; a < b; ++a) {
        if (!seen[a].name || !seen[a].match) continue;
        if (seen[b].match->is_covered_by(*seen[a].match)) {
          error(seen[b].pos, "policy " + quoted(*seen[b].name) + " can never decide: policy " + quoted(*seen[a].name) +
                                 " (line " + std::to_string(seen[a].pos.line) + ") matches every socket it does");
          break;
        }
      }
    }
  }

  std::optional<Policy> policy(const Value& v, PolicySeen& seen) {
    if (!v.node.IsMap()) {
      type_error(v, "a policy (a map with name, match and dead_when)");
      return std::nullopt;
    }
    const size_t errors_before = errors_.size();
    const Fields f = fields(v, kPolicyKeys, "in " + v.path);
    Policy p;
    p.mark = SourceMark{v.pos.line, v.pos.column};
    for (const char* required : {"name", "match", "dead_when"})
      if (!f.get(required)) error(v, std::string("missing '") + required + "'");
    if (const Value* name = f.get("name")) {
      if (auto n = policy_name(*name)) p.name = seen.name.emplace(std::move(*n));
    }
    if (const Value* m = f.get("match")) {
      if (m->node.IsNull())
        type_error(*m, "a match block (write match: {} to match every socket in state established)");
      else if (auto mm = match(*m, /*protect=*/false))
        p.match = seen.match.emplace(std::move(*mm));
    }
    bool dead_when_read = false;  // without errors
    if (const Value* d = f.get("dead_when")) {
      if (auto dw = dead_when(*d, seen.match ? &seen.match->states : nullptr)) {
        p.dead_when = std::move(*dw);
        dead_when_read = true;
      }
    }
    if (const Value* c = f.get("confirm")) {
      if (auto n = count(*c)) p.confirm = *n;
    }
    if (const Value* c = f.get("max_per_scan")) {
      if (auto n = count(*c)) p.max_per_scan = *n;
    }
    if (const Value* l = f.get("per_peer_limit")) {
      if (auto pl = per_peer_limit(*l)) p.per_peer_limit = *pl;
    }
    if (const Value* vr = f.get("verify")) {
      if (auto vf = verify(*vr)) p.verify = *vf;
      // Only silence is verified. A per_peer_limit with errors still is
      // silence to verify; a dead_when with errors (or none) says nothing.
      if (vr->node.IsMap() && !f.get("per_peer_limit") && dead_when_read && !p.dead_when.silent_for)
        error(f.key_pos("verify"), vr->path +
                                       ": only silence is verified (dead_when.silent_for or per_peer_limit), and "
                                       "this policy has neither; unacked data is already probed by the kernel's "
                                       "own retransmissions, and a state timeout needs no answer from the peer");
    }
    if (errors_.size() != errors_before) return std::nullopt;
    return p;
  }

  std::optional<std::string> policy_name(const Value& v) {
    auto text = scalar(v, "a policy name");
    if (!text) return std::nullopt;
    const std::string& s = *text;
    auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    bool ok = !s.empty() && lower_or_digit(s[0]);
    for (char c : s) ok = ok && (lower_or_digit(c) || c == '_' || c == '.' || c == '-');
    if (!ok) {
      error(v, quoted(s) +
                   " is not a valid policy name: use lowercase letters, digits, '_', '.' and '-', "
                   "starting with a letter or digit");
      return std::nullopt;
    }
    if (s.size() > kMaxPolicyNameLength) {
      error(v, "the name is " + std::to_string(s.size()) + " characters long; at most " +
                   std::to_string(kMaxPolicyNameLength));
      return std::nullopt;
    }
    return s;
  }

  // A match block. Protect rules default to every state, policies to
  // established; a protect rule must narrow something.
  std::optional<Match> match(const Value& v, bool protect) {
    if (!v.node.IsMap()) {
      type_error(v, "a match block (a map such as { local_port: 22 })");
      return std::nullopt;
    }
    const size_t errors_before = errors_.size();
    const Fields f = fields(v, kMatchKeys, "in " + v.path);
    Match m;
    m.local_ports = ports(f.get("local_ports"));
    m.remote_ports = ports(f.get("remote_ports"));
    m.ports = ports(f.get("ports"));
    m.local = prefixes(f.get("local"));
    m.remote = prefixes(f.get("remote"));
    m.states = protect ? StateSet::all() : StateSet::of(TcpState::kEstablished);
    if (const Value* s = f.get("states")) {
      if (auto states = state_list(*s)) m.states = *states;
    }
    if (errors_.size() != errors_before) return std::nullopt;
    if (protect && m.local_ports.empty() && m.remote_ports.empty() && m.ports.empty() && m.local.empty() &&
        m.remote.empty() && m.states == StateSet::all()) {
      error(v, "an empty protect rule would protect every socket");
      return std::nullopt;
    }
    return m;
  }

  // The items of a match list: a sequence, or one scalar standing alone.
  std::optional<std::vector<Value>> items(const Value& v, std::string_view item) {
    std::vector<Value> out;
    if (v.node.IsScalar()) {
      out.push_back(v);
      return out;
    }
    if (!v.node.IsSequence()) {
      type_error(v, std::string(item) + " or a list of them");
      return std::nullopt;
    }
    if (v.node.size() == 0) {
      error(v, "[] matches nothing");
      return std::nullopt;
    }
    size_t i = 0;
    for (auto it = v.node.begin(); it != v.node.end(); ++it, ++i)
      out.push_back(Value{*it, v.path + "[" + std::to_string(i) + "]", pos_of(*it, v.pos)});
    return out;
  }

  std::vector<PortRange> ports(const Value* f) {
    std::vector<PortRange> out;
    if (!f) return out;
    constexpr std::string_view kWhat = "a port or port range (2181, \"30000-32767\")";
    auto list = items(*f, kWhat);
    if (!list) return out;
    for (const Value& item : *list) {
      auto text = scalar(item, kWhat);
      if (!text) continue;
      auto r = PortRange::parse(*text);
      if (r)
        out.push_back(*r);
      else
        error(item, r.error().message());
    }
    return out;
  }

  std::vector<Cidr> prefixes(const Value* f) {
    std::vector<Cidr> out;
    if (!f) return out;
    constexpr std::string_view kWhat = "an address prefix (10.0.0.0/8, \"fd00::/8\")";
    auto list = items(*f, kWhat);
    if (!list) return out;
    for (const Value& item : *list) {
      auto text = scalar(item, kWhat);
      if (!text) continue;
      auto c = Cidr::parse(*text);
      if (c)
        out.push_back(*c);
      else
        error(item, c.error().message());
    }
    return out;
  }

  std::optional<StateSet> state_list(const Value& v) {
    constexpr std::string_view kWhat = "a TCP state (established, close-wait, ...)";
    auto list = items(v, kWhat);
    if (!list) return std::nullopt;
    StateSet states;
    bool ok = true;
    for (const Value& item : *list) {
      auto text = scalar(item, kWhat);
      if (!text) {
        ok = false;
        continue;
      }
      auto s = StateSet::parse_list(*text);
      if (s) {
        states = states | *s;
      } else {
        error(item, s.error().message());
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return states;
  }

  // `match_states`: the policy's states, to check in_state_for against;
  // null when the match had errors of its own.
  std::optional<DeadWhen> dead_when(const Value& v, const StateSet* match_states) {
    if (v.node.IsNull() || (v.node.IsMap() && v.node.size() == 0)) {
      error(v, "needs at least one condition (silent_for, unacked_for or in_state_for)");
      return std::nullopt;
    }
    if (!v.node.IsMap()) {
      type_error(v, "a map of conditions (silent_for, unacked_for, in_state_for)");
      return std::nullopt;
    }
    const size_t errors_before = errors_.size();
    const Fields f = fields(v, kDeadWhenKeys, "in " + v.path);
    DeadWhen d;
    if (const Value* s = f.get("silent_for")) d.silent_for = duration(*s, Duration(1));
    if (const Value* u = f.get("unacked_for")) d.unacked_for = duration(*u, Duration(1));
    if (const Value* s = f.get("in_state_for")) d.in_state_for = in_state_for(*s, match_states);
    if (errors_.size() != errors_before) return std::nullopt;
    if (!d.silent_for && !d.unacked_for && d.in_state_for.empty()) {
      // Only unknown keys can get here, and they are errors already.
      error(v, "needs at least one condition (silent_for, unacked_for or in_state_for)");
      return std::nullopt;
    }
    return d;
  }

  std::vector<StateTimeout> in_state_for(const Value& v, const StateSet* match_states) {
    std::vector<StateTimeout> out;
    if (!v.node.IsMap()) {
      type_error(v, "a map of state: duration ({ close-wait: 5m })");
      return out;
    }
    if (v.node.size() == 0) {
      error(v, "{} names no state");
      return out;
    }
    std::map<uint8_t, std::pair<std::string, Pos>> first;  // state -> as written, where
    for (auto it = v.node.begin(); it != v.node.end(); ++it) {
      const YAML::Node key = it->first;
      const Pos key_pos = pos_of(key, v.pos);
      const Value key_value{key, v.path, key_pos};
      auto name = scalar(key_value, "a TCP state name");
      if (!name) continue;
      auto set = StateSet::parse_list(*name);
      if (!set) {
        error(key_value, set.error().message());
        continue;
      }
      const uint32_t mask = set->mask();
      if ((mask & (mask - 1)) != 0) {
        error(key_value, quoted(*name) + " names several states; give each its own duration");
        continue;
      }
      const auto state = static_cast<uint8_t>(std::countr_zero(mask));
      if (auto seen = first.find(state); seen != first.end()) {
        const auto& [written, at] = seen->second;
        if (written == *name)
          error(key_pos, "duplicate key " + quoted(*name) + " (first at " + at_line(at) + ")");
        else
          error(key_pos, "duplicate key " + quoted(*name) + " (" + quoted(written) + " is the same state, first at " +
                             at_line(at) + ")");
        continue;
      }
      first.emplace(state, std::pair(*name, key_pos));
      if (match_states && !match_states->contains(state)) {
        std::string names;
        for (const std::string& n : match_states->names()) names += (names.empty() ? "" : ", ") + n;
        error(key_value, "state " + quoted(*name) + " is not among the match's states (" + names + ")");
      }
      const YAML::Node value = it->second;
      const Value after{value, v.path + "." + *name, pos_of(value, key_pos)};
      if (auto d = duration(after, Duration(1))) out.push_back(StateTimeout{state, *d});
    }
    return out;
  }

  std::optional<PerPeerLimit> per_peer_limit(const Value& v) {
    if (!v.node.IsMap()) {
      type_error(v, "a map with max and min_silent");
      return std::nullopt;
    }
    const size_t errors_before = errors_.size();
    const Fields f = fields(v, kPerPeerKeys, "in " + v.path);
    PerPeerLimit l;
    for (const char* required : {"max", "min_silent"})
      if (!f.get(required)) error(v, std::string("missing '") + required + "'");
    if (const Value* m = f.get("max")) {
      if (auto n = count(*m)) l.max = *n;
    }
    if (const Value* s = f.get("min_silent")) {
      if (auto d = duration(*s, Duration(1))) l.min_silent = *d;
    }
    if (errors_.size() != errors_before) return std::nullopt;
    return l;
  }

  // `verify: {}` is every default.
  std::optional<Verify> verify(const Value& v) {
    if (!v.node.IsMap()) {
      type_error(v, "a map with probes and interval (write verify: {} for the defaults)");
      return std::nullopt;
    }
    const size_t errors_before = errors_.size();
    const Fields f = fields(v, kVerifyKeys, "in " + v.path);
    Verify out;
    if (const Value* p = f.get("probes")) {
      if (auto n = count(*p, kMaxVerifyProbes)) out.probes = *n;
    }
    if (const Value* i = f.get("interval")) {
      if (auto d = duration(*i, kMinVerifyInterval, kMaxVerifyInterval,
                            "a peer answers at most one probe per 500ms, its net.ipv4.tcp_invalid_ratelimit"))
        out.interval = *d;
    }
    if (const Value* m = f.get("max_per_scan")) {
      if (auto n = count(*m, kMaxVerifyProbesPerScan)) out.max_per_scan = *n;
    }
    if (errors_.size() != errors_before) return std::nullopt;
    return out;
  }

  // The text of a scalar, or "expected <what>, got ...". Quoted or not is
  // all one: "5" is 5, "true" is true.
  std::optional<std::string> scalar(const Value& v, std::string_view what) {
    if (v.node.IsScalar()) return v.node.Scalar();
    type_error(v, what);
    return std::nullopt;
  }

  // A duration in [min, max]; `why_min`, if given, says why the minimum.
  std::optional<Duration> duration(const Value& v, Duration min, Duration max = kMaxDuration,
                                   std::string_view why_min = {}) {
    auto text = scalar(v, "a duration (500ms, 30s, 5m, 1h30m)");
    if (!text) return std::nullopt;
    auto d = parse_duration(*text);
    if (!d) {
      error(v, d.error().message());
      return std::nullopt;
    }
    if (*d > max) {
      error(v, quoted(*text) + " is too long (at most " + format_duration(max) + ")");
      return std::nullopt;
    }
    if (*d < min) {
      if (min == Duration(1))
        error(v, "must be more than 0, got " + quoted(*text));
      else
        error(v, quoted(*text) + " is too short (at least " + format_duration(min) +
                     (why_min.empty() ? "" : ": " + std::string(why_min)) + ")");
      return std::nullopt;
    }
    return *d;
  }

  // A whole number from 1 to `max` (at most 2^32-1).
  std::optional<uint32_t> count(const Value& v, uint32_t max = std::numeric_limits<uint32_t>::max()) {
    auto text = scalar(v, "a whole number");
    if (!text) return std::nullopt;
    const std::string& s = *text;
    const bool negative = !s.empty() && s[0] == '-';
    const std::string_view digits = std::string_view(s).substr(negative ? 1 : 0);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      type_error(v, "a whole number");
      return std::nullopt;
    }
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    (void)end;
    if (max < std::numeric_limits<uint32_t>::max() &&
        (negative || n == 0 || ec == std::errc::result_out_of_range || n > max)) {
      error(v, "must be from 1 to " + std::to_string(max) + ", got " + (s.size() <= kMaxQuotedLength ? s : quoted(s)));
      return std::nullopt;
    }
    if (negative || (n == 0 && ec != std::errc::result_out_of_range)) {
      error(v, "must be at least 1, got " + s);
      return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range || n > std::numeric_limits<uint32_t>::max()) {
      error(v, quoted(s) + " is too large (at most " + std::to_string(std::numeric_limits<uint32_t>::max()) + ")");
      return std::nullopt;
    }
    return static_cast<uint32_t>(n);
  }

  // Only `true` and `false`: YAML 1.1's yes/no/on/off read differently in
  // different parsers, and a reaper's dry_run must not be one of them.
  std::optional<bool> boolean(const Value& v) {
    auto text = scalar(v, "true or false");
    if (!text) return std::nullopt;
    if (*text == "true") return true;
    if (*text == "false") return false;
    std::string lower = *text;
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    for (const char* yaml11 : {"yes", "no", "on", "off", "y", "n", "true", "false"}) {
      if (lower == yaml11) {
        error(v, "write true or false, not " + quoted(*text));
        return std::nullopt;
      }
    }
    type_error(v, "true or false");
    return std::nullopt;
  }

  std::optional<ReapMethod> reap_method(const Value& v) {
    auto text = scalar(v, "a reap method (auto, destroy or rst)");
    if (!text) return std::nullopt;
    if (auto m = parse_reap_method(*text)) return m;
    error(v, "unknown method " + quoted(*text) + " (known: auto, destroy, rst)");
    return std::nullopt;
  }

  // "address:port", IPv4 only: the exporter (civetweb in prometheus-cpp
  // 1.0.1) cannot bind IPv6. Returned in normal form ("127.0.0.1:10126").
  std::optional<std::string> listen_address(const Value& v) {
    auto text = scalar(v, "an IPv4 address:port (127.0.0.1:10126)");
    if (!text) return std::nullopt;
    const std::string& s = *text;
    const size_t colon = s.rfind(':');
    if (colon == std::string::npos) {
      error(v, quoted(s) + " has no port (write it as address:port, e.g. 127.0.0.1:10126)");
      return std::nullopt;
    }
    const std::string_view host = std::string_view(s).substr(0, colon);
    const std::string_view port = std::string_view(s).substr(colon + 1);
    if (host.find(':') != std::string_view::npos || host.starts_with('[')) {
      error(v, quoted(s) + ": the metrics exporter cannot listen on IPv6; use an IPv4 address such as 127.0.0.1");
      return std::nullopt;
    }
    auto address = IpAddress::parse(host);
    if (!address) {
      error(v, address.error().message() + " (write address:port, e.g. 127.0.0.1:10126)");
      return std::nullopt;
    }
    unsigned n = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || n < 1 || n > 65535) {
      error(v, quoted(s) + ": the port must be 1-65535");
      return std::nullopt;
    }
    return address->to_string() + ":" + std::to_string(n);
  }

  std::string file_;
  Config config_;
  std::vector<ConfigDiagnostic> errors_;
};

}  // namespace

std::string ConfigDiagnostic::to_string() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

ConfigLoad load_config_text(std::string_view yaml, std::string_view file_name) { return Loader(file_name).load(yaml); }


}  // namespace tcpreap
