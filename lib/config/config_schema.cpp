#include "config/config_schema.h"

#include <bit>
#include <map>
#include <utility>
#include <vector>

#include "config/edit_distance.h"
#include "config/namespace_names.h"
#include "config/policy_checks.h"
#include "core/message_text.h"
#include "net/listen_address.h"
#include "netns/netns_name_match.h"

namespace tcpreap {

namespace {

using yaml::Fields;
using yaml::KeySpec;
using yaml::Pos;
using yaml::Value;

// The limits a value must respect, beyond its type.
// A scan walks every socket of the host: more often than 10 times a second
// is a busy loop, not a reaper.
constexpr Duration kMinScanInterval{100};
// Every socket is matched against the policies in turn, and the loader
// compares each pair for reachability: a thousand is more than any host needs.
constexpr size_t kMaxPolicies = 1000;
// Policy names go into metric labels and log lines.
constexpr size_t kMaxPolicyNameLength = 64;
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
// Each discovery of the namespaces walks every process (~5 us of CPU each,
// netns/netns_discovery.h): once a second is already 5% of a core on a host
// of 10 000 processes, and a namespace is no quicker to fill with dead
// connections than that.
constexpr Duration kMinDiscoverEvery = std::chrono::seconds(1);
// A new namespace's dead connections wait this long for their first scan:
// more than an hour is a typo (10h for 10s), not a schedule.
constexpr Duration kMaxDiscoverEvery = std::chrono::hours(1);

constexpr KeySpec kTopKeys[] = {{"scan", {}}, {"namespaces", {}}, {"reap", {}}, {"metrics", {}}, {"policies", {}}};
constexpr KeySpec kScanKeys[] = {{"interval", {}}};
constexpr KeySpec kNamespacesKeys[] = {{"scan", {}}, {"exclude", {}}, {"discover_every", {}}};
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
    {"namespaces", {}},
    {"local_port", "local_ports"},
    {"remote_port", "remote_ports"},
    {"port", "ports"},
};
constexpr KeySpec kDeadWhenKeys[] = {{"silent_for", {}}, {"unacked_for", {}}, {"in_state_for", {}}};
constexpr KeySpec kPerPeerKeys[] = {{"max", {}}, {"min_silent", {}}};
constexpr KeySpec kVerifyKeys[] = {{"probes", {}}, {"interval", {}}, {"max_per_scan", {}}};

// What one item of each match list is, for "expected ..." messages.
constexpr std::string_view kPortItem = "a port or port range (2181, \"30000-32767\")";
constexpr std::string_view kPrefixItem = "an address prefix (10.0.0.0/8, \"fd00::/8\")";
constexpr std::string_view kStateItem = "a TCP state (established, close-wait, ...)";
constexpr std::string_view kNamespaceItem = "a namespace name or glob (host, \"cni-*\", \"pod:*\")";

// One walk of one document: reads each section into `config_`.
class SchemaWalk {
 public:
  explicit SchemaWalk(yaml::YamlReader& reader) : reader_(reader) {}

  Config read(const YAML::Node& root) {
    if (root.IsNull()) {
      reader_.error(Pos{}, "the config is empty; 'policies' is required");
      return std::move(config_);
    }
    const Pos root_pos = yaml::pos_of(root, {1, 1});
    if (!root.IsMap()) {
      reader_.error(root_pos,
                    "expected a map of scan, namespaces, reap, metrics and policies, got " + yaml::got(root));
      return std::move(config_);
    }
    const Fields top = reader_.fields(Value{root, "", root_pos}, kTopKeys, "at the top level");
    if (const Value* f = top.get("scan")) read_scan(*f);
    // Before the policies: their namespaces are checked against the scope.
    if (const Value* f = top.get("namespaces")) read_namespaces(*f);
    if (const Value* f = top.get("reap")) read_reap(*f);
    if (const Value* f = top.get("metrics")) read_metrics(*f);
    if (const Value* f = top.get("policies"))
      read_policies(*f);
    else
      reader_.error(root_pos, "missing 'policies' (at least one policy is required)");
    return std::move(config_);
  }

 private:
  void read_scan(const Value& v) {
    const auto f = reader_.section(v, kScanKeys);
    if (!f) return;
    if (const Value* interval = f->get("interval")) {
      if (auto d = reader_.duration(*interval, kMinScanInterval)) config_.scan_interval = *d;
    }
  }

  void read_namespaces(const Value& v) {
    const auto f = reader_.section(v, kNamespacesKeys);
    if (!f) return;
    if (const Value* scan = f->get("scan")) {
      if (auto m = namespace_mode(*scan))
        config_.namespaces.scan = *m;
      else
        scope_known_ = false;
    }
    if (const Value* exclude = f->get("exclude")) read_exclude(*exclude);
    if (const Value* every = f->get("discover_every")) {
      if (auto d = reader_.duration(*every, kMinDiscoverEvery, kMaxDiscoverEvery))
        config_.namespaces.discover_every = *d;
    }
  }

  std::optional<NamespaceScope::Mode> namespace_mode(const Value& v) {
    auto text = reader_.scalar(v, "host or all");
    if (!text) return std::nullopt;
    if (auto m = parse_namespace_mode(*text)) return m;
    constexpr std::string_view kModes[] = {"host", "all"};
    std::string message = "unknown namespace scope " + quoted_text(*text);
    if (auto near = nearest_within_reach(*text, kModes))
      message += " (did you mean '" + std::string(*near) + "'?)";
    else
      message += " (known: host, all)";
    reader_.error(v, message);
    return std::nullopt;
  }

  // `exclude: []`, like an empty `exclude:`, excludes nothing: unlike a
  // match list, an empty exclusion is what a default looks like.
  void read_exclude(const Value& v) {
    if (v.node.IsNull() || (v.node.IsSequence() && v.node.size() == 0)) return;
    const bool host_only = scope_known_ && config_.namespaces.scan == NamespaceScope::Mode::kHost;
    for (auto& [glob, at] : namespace_globs(v)) {
      const std::string one[] = {glob};
      if (host_only && name_matches("host", one))
        reader_.error(at, quoted_text(glob) +
                              " excludes the host namespace, the only one scanned with namespaces.scan: host; "
                              "nothing would be scanned");
      config_.namespaces.exclude.push_back(std::move(glob));
    }
  }

  // The globs of a list of namespace names (a single one may stand alone),
  // each with where it was written. An empty one is reported and left out.
  std::vector<std::pair<std::string, Value>> namespace_globs(const Value& v) {
    std::vector<std::pair<std::string, Value>> out;
    auto values = reader_.items(v, kNamespaceItem);
    if (!values) return out;
    for (const Value& item : *values) {
      auto text = reader_.scalar(item, kNamespaceItem);
      if (!text) continue;
      if (text->empty()) {
        reader_.error(item, "an empty name matches no namespace");
        continue;
      }
      out.emplace_back(std::move(*text), item);
    }
    return out;
  }

  void read_reap(const Value& v) {
    const auto f = reader_.section(v, kReapKeys);
    if (!f) return;
    if (const Value* dry = f->get("dry_run")) {
      if (auto b = reader_.boolean(*dry)) config_.dry_run = *b;
    }
    if (const Value* method = f->get("method")) {
      if (auto m = reap_method(*method)) config_.method = *m;
    }
    if (const Value* max = f->get("max_per_scan")) {
      if (auto n = reader_.count(*max)) config_.max_per_scan = *n;
    }
    if (const Value* max = f->get("max_per_minute")) {
      if (auto n = reader_.count(*max)) config_.max_per_minute = *n;
    }
    if (const Value* protect = f->get("protect")) read_protect(*protect);
  }

  void read_protect(const Value& v) {
    if (v.node.IsNull()) return;  // every rule commented out
    if (!v.node.IsSequence()) {
      reader_.type_error(v, "a list of match blocks (- { local_port: 22 })");
      return;
    }
    size_t i = 0;
    for (auto it = v.node.begin(); it != v.node.end(); ++it, ++i) {
      if (auto m = match(v.item(*it, i), nullptr)) config_.protect.push_back(std::move(*m));
    }
  }

  void read_metrics(const Value& v) {
    const auto f = reader_.section(v, kMetricsKeys);
    if (!f) return;
    if (const Value* listen = f->get("listen")) {
      if (auto address = listen_address(*listen)) config_.metrics_listen = *address;
    }
  }

  void read_policies(const Value& v) {
    if (!v.node.IsSequence()) {
      reader_.type_error(v, "a list of policies");
      return;
    }
    if (v.node.size() == 0) {
      reader_.error(v, "[] holds no policy; at least one is required");
      return;
    }
    if (v.node.size() > kMaxPolicies) {
      reader_.error(v, std::to_string(v.node.size()) + " policies; at most " + std::to_string(kMaxPolicies));
      return;
    }
    std::vector<PolicySeen> seen;
    size_t i = 0;
    for (auto it = v.node.begin(); it != v.node.end(); ++it, ++i) {
      const Value pv = v.item(*it, i);
      seen.push_back(PolicySeen{{}, {}, {}, pv.pos});
      if (auto p = policy(pv, seen.back())) config_.policies.push_back(std::move(*p));
    }
    check_across_policies(seen, reader_);
  }

  std::optional<Policy> policy(const Value& v, PolicySeen& seen) {
    if (!v.node.IsMap()) {
      reader_.type_error(v, "a policy (a map with name, match and dead_when)");
      return std::nullopt;
    }
    const size_t errors_before = reader_.error_count();
    const Fields f = reader_.fields(v, kPolicyKeys, "in " + v.path);
    Policy p;
    p.mark = SourceMark{v.pos.line, v.pos.column};
    for (const char* required : {"name", "match", "dead_when"})
      if (!f.get(required)) reader_.error(v, std::string("missing '") + required + "'");
    if (const Value* name = f.get("name")) {
      if (auto n = policy_name(*name)) p.name = seen.name.emplace(std::move(*n));
    }
    if (const Value* m = f.get("match")) {
      if (m->node.IsNull())
        reader_.type_error(*m, "a match block (write match: {} to match every socket in state established)");
      else if (auto mm = match(*m, &p)) {
        p.match = seen.match.emplace(std::move(*mm));
        seen.namespaces = p.namespaces;
      }
    }
    bool dead_when_read = false;  // without errors
    if (const Value* d = f.get("dead_when")) {
      if (auto dw = dead_when(*d, seen.match ? &seen.match->states : nullptr)) {
        p.dead_when = std::move(*dw);
        dead_when_read = true;
      }
    }
    if (const Value* c = f.get("confirm")) {
      if (auto n = reader_.count(*c)) p.confirm = *n;
    }
    if (const Value* c = f.get("max_per_scan")) {
      if (auto n = reader_.count(*c)) p.max_per_scan = *n;
    }
    if (const Value* l = f.get("per_peer_limit")) {
      if (auto pl = per_peer_limit(*l)) p.per_peer_limit = *pl;
    }
    if (const Value* vr = f.get("verify")) {
      if (auto vf = verify(*vr)) p.verify = *vf;
      // Only silence is verified. A per_peer_limit with errors still is
      // silence to verify; a dead_when with errors (or none) says nothing.
      if (vr->node.IsMap() && !f.get("per_peer_limit") && dead_when_read && !p.dead_when.silent_for)
        reader_.error(f.key_pos("verify"),
                      vr->path +
                          ": only silence is verified (dead_when.silent_for or per_peer_limit), and "
                          "this policy has neither; unacked data is already probed by the kernel's "
                          "own retransmissions, and a state timeout needs no answer from the peer");
    }
    if (reader_.error_count() != errors_before) return std::nullopt;
    return p;
  }

  std::optional<std::string> policy_name(const Value& v) {
    auto text = reader_.scalar(v, "a policy name");
    if (!text) return std::nullopt;
    const std::string& s = *text;
    auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    bool ok = !s.empty() && lower_or_digit(s[0]);
    for (char c : s) ok = ok && (lower_or_digit(c) || c == '_' || c == '.' || c == '-');
    if (!ok) {
      reader_.error(v, quoted_text(s) +
                           " is not a valid policy name: use lowercase letters, digits, '_', '.' and '-', "
                           "starting with a letter or digit");
      return std::nullopt;
    }
    if (s.size() > kMaxPolicyNameLength) {
      reader_.error(v, "the name is " + std::to_string(s.size()) + " characters long; at most " +
                           std::to_string(kMaxPolicyNameLength));
      return std::nullopt;
    }
    return s;
  }

  // A match block: a policy's (its namespaces go into `policy`, whose name
  // is read already), or a protect rule's when `policy` is null. Protect
  // rules default to every state, policies to established; a protect rule
  // must narrow something, and names no namespace.
  std::optional<Match> match(const Value& v, Policy* policy) {
    const bool protect = policy == nullptr;
    if (!v.node.IsMap()) {
      reader_.type_error(v, "a match block (a map such as { local_port: 22 })");
      return std::nullopt;
    }
    const size_t errors_before = reader_.error_count();
    const Fields f = reader_.fields(v, kMatchKeys, "in " + v.path);
    Match m;
    m.local_ports = reader_.parsed_items(f.get("local_ports"), kPortItem, &PortRange::parse);
    m.remote_ports = reader_.parsed_items(f.get("remote_ports"), kPortItem, &PortRange::parse);
    m.ports = reader_.parsed_items(f.get("ports"), kPortItem, &PortRange::parse);
    m.local = reader_.parsed_items(f.get("local"), kPrefixItem, &Cidr::parse);
    m.remote = reader_.parsed_items(f.get("remote"), kPrefixItem, &Cidr::parse);
    m.states = protect ? StateSet::all() : StateSet::of(TcpState::kEstablished);
    if (const Value* s = f.get("states")) {
      // One item may name several states ("established,close-wait").
      m.states = StateSet();
      for (const StateSet& one : reader_.parsed_items(s, kStateItem, &StateSet::parse_list)) m.states = m.states | one;
    }
    if (const Value* ns = f.get("namespaces")) {
      if (protect)
        reader_.error(*ns, "protect applies in every namespace; a protect rule names no namespaces");
      else
        policy->namespaces = policy_namespaces(*ns, policy->name);
    }
    if (reader_.error_count() != errors_before) return std::nullopt;
    if (protect && m.local_ports.empty() && m.remote_ports.empty() && m.ports.empty() && m.local.empty() &&
        m.remote.empty() && m.states == StateSet::all()) {
      reader_.error(v, "an empty protect rule would protect every socket");
      return std::nullopt;
    }
    return m;
  }

  // A policy's `match.namespaces`; `name` is the policy's, empty when it
  // had errors. With namespaces.scan: host, they must be able to name the host.
  std::vector<std::string> policy_namespaces(const Value& v, const std::string& name) {
    std::vector<std::string> out;
    const size_t errors_before = reader_.error_count();
    for (auto& [glob, at] : namespace_globs(v)) out.push_back(std::move(glob));
    const bool host_only = scope_known_ && config_.namespaces.scan == NamespaceScope::Mode::kHost;
    if (host_only && reader_.error_count() == errors_before && !may_name_host(out))
      reader_.error(v, (name.empty() ? std::string("the policy") : "policy " + quoted_text(name)) +
                           " would never apply: only the host namespace is scanned (namespaces.scan: host), "
                           "and no name here matches 'host'");
    return out;
  }

  // `match_states`: the policy's states, to check in_state_for against;
  // null when the match had errors of its own.
  std::optional<DeadWhen> dead_when(const Value& v, const StateSet* match_states) {
    if (v.node.IsNull() || (v.node.IsMap() && v.node.size() == 0)) {
      reader_.error(v, "needs at least one condition (silent_for, unacked_for or in_state_for)");
      return std::nullopt;
    }
    if (!v.node.IsMap()) {
      reader_.type_error(v, "a map of conditions (silent_for, unacked_for, in_state_for)");
      return std::nullopt;
    }
    const size_t errors_before = reader_.error_count();
    const Fields f = reader_.fields(v, kDeadWhenKeys, "in " + v.path);
    DeadWhen d;
    if (const Value* s = f.get("silent_for")) d.silent_for = reader_.duration(*s, Duration(1));
    if (const Value* u = f.get("unacked_for")) d.unacked_for = reader_.duration(*u, Duration(1));
    if (const Value* s = f.get("in_state_for")) d.in_state_for = in_state_for(*s, match_states);
    if (reader_.error_count() != errors_before) return std::nullopt;
    if (!d.silent_for && !d.unacked_for && d.in_state_for.empty()) {
      // Only unknown keys can get here, and they are errors already.
      reader_.error(v, "needs at least one condition (silent_for, unacked_for or in_state_for)");
      return std::nullopt;
    }
    return d;
  }

  // A map keyed by state names, not by keys of the schema: its own
  // duplicate check, by state ("listen" and "listening" are one).
  std::vector<StateTimeout> in_state_for(const Value& v, const StateSet* match_states) {
    std::vector<StateTimeout> out;
    if (!v.node.IsMap()) {
      reader_.type_error(v, "a map of state: duration ({ close-wait: 5m })");
      return out;
    }
    if (v.node.size() == 0) {
      reader_.error(v, "{} names no state");
      return out;
    }
    std::map<uint8_t, std::pair<std::string, Pos>> first;  // state -> as written, where
    for (auto it = v.node.begin(); it != v.node.end(); ++it) {
      const YAML::Node key = it->first;
      const Pos key_pos = yaml::pos_of(key, v.pos);
      const Value key_value{key, v.path, key_pos};
      auto name = reader_.scalar(key_value, "a TCP state name");
      if (!name) continue;
      auto set = StateSet::parse_list(*name);
      if (!set) {
        reader_.error(key_value, set.error().message());
        continue;
      }
      const uint32_t mask = set->mask();
      if ((mask & (mask - 1)) != 0) {
        reader_.error(key_value, quoted_text(*name) + " names several states; give each its own duration");
        continue;
      }
      const auto state = static_cast<uint8_t>(std::countr_zero(mask));
      if (auto seen = first.find(state); seen != first.end()) {
        const auto& [written, at] = seen->second;
        if (written == *name)
          reader_.error(key_pos, "duplicate key " + quoted_text(*name) + " (first at " + yaml::at_line(at) + ")");
        else
          reader_.error(key_pos, "duplicate key " + quoted_text(*name) + " (" + quoted_text(written) +
                                     " is the same state, first at " + yaml::at_line(at) + ")");
        continue;
      }
      first.emplace(state, std::pair(*name, key_pos));
      if (match_states && !match_states->contains(state)) {
        std::string names;
        for (const std::string& n : match_states->names()) names += (names.empty() ? "" : ", ") + n;
        reader_.error(key_value, "state " + quoted_text(*name) + " is not among the match's states (" + names + ")");
      }
      if (auto d = reader_.duration(v.member(it->second, *name, key_pos), Duration(1)))
        out.push_back(StateTimeout{state, *d});
    }
    return out;
  }

  std::optional<PerPeerLimit> per_peer_limit(const Value& v) {
    if (!v.node.IsMap()) {
      reader_.type_error(v, "a map with max and min_silent");
      return std::nullopt;
    }
    const size_t errors_before = reader_.error_count();
    const Fields f = reader_.fields(v, kPerPeerKeys, "in " + v.path);
    PerPeerLimit l;
    for (const char* required : {"max", "min_silent"})
      if (!f.get(required)) reader_.error(v, std::string("missing '") + required + "'");
    if (const Value* m = f.get("max")) {
      if (auto n = reader_.count(*m)) l.max = *n;
    }
    if (const Value* s = f.get("min_silent")) {
      if (auto d = reader_.duration(*s, Duration(1))) l.min_silent = *d;
    }
    if (reader_.error_count() != errors_before) return std::nullopt;
    return l;
  }

  // `verify: {}` is every default.
  std::optional<Verify> verify(const Value& v) {
    if (!v.node.IsMap()) {
      reader_.type_error(v, "a map with probes and interval (write verify: {} for the defaults)");
      return std::nullopt;
    }
    const size_t errors_before = reader_.error_count();
    const Fields f = reader_.fields(v, kVerifyKeys, "in " + v.path);
    Verify out;
    if (const Value* p = f.get("probes")) {
      if (auto n = reader_.count(*p, kMaxVerifyProbes)) out.probes = *n;
    }
    if (const Value* i = f.get("interval")) {
      if (auto d = reader_.duration(*i, kMinVerifyInterval, kMaxVerifyInterval,
                                    "a peer answers at most one probe per 500ms, its net.ipv4.tcp_invalid_ratelimit"))
        out.interval = *d;
    }
    if (const Value* m = f.get("max_per_scan")) {
      if (auto n = reader_.count(*m, kMaxVerifyProbesPerScan)) out.max_per_scan = *n;
    }
    if (reader_.error_count() != errors_before) return std::nullopt;
    return out;
  }

  std::optional<ReapMethod> reap_method(const Value& v) {
    auto text = reader_.scalar(v, "a reap method (auto, destroy or rst)");
    if (!text) return std::nullopt;
    if (auto m = parse_reap_method(*text)) return m;
    reader_.error(v, "unknown method " + quoted_text(*text) + " (known: auto, destroy, rst)");
    return std::nullopt;
  }

  // In normal form ("127.0.0.1:10126"), by the rule the daemon binds with
  // (net/listen_address.h).
  std::optional<std::string> listen_address(const Value& v) {
    auto text = reader_.scalar(v, "an IPv4 address:port (127.0.0.1:10126)");
    if (!text) return std::nullopt;
    auto address = parse_listen_address(*text);
    if (!address) {
      reader_.error(v, address.error().message());
      return std::nullopt;
    }
    return address->to_string();
  }

  yaml::YamlReader& reader_;
  Config config_;
  // False when namespaces.scan had an error: what depends on it is not checked.
  bool scope_known_ = true;
};

}  // namespace

Config read_config(const YAML::Node& root, yaml::YamlReader& reader) { return SchemaWalk(reader).read(root); }

}  // namespace tcpreap
