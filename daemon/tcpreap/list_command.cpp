// `tcpreap list`: one scan, printed as a table, JSON lines, or a count.
// Every filter option goes to the kernel (state mask, dump families,
// inet_diag bytecode): sockets that do not match never reach this process.
// With --config, each socket also gets the verdict the policies give it:
// the operator's dry run, touching nothing.

#include "tcpreap/list_command.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config_loader.h"
#include "decide/decided_scan.h"
#include "diag/socket_scanner.h"
#include "netns/dump_families.h"
#include "program/command_config.h"
#include "program/command_line.h"
#include "program/exit_codes.h"
#include "program/program_messages.h"
#include "report/decision_report.h"
#include "report/socket_json.h"
#include "report/socket_table.h"
#include "tcpreap/command_capabilities.h"
#include "tcpreap/namespace_options.h"

namespace tcpreap {

namespace {

constexpr const char* kUsage =
    "Usage: tcpreap list [OPTIONS]\n"
    "\n"
    "Lists the TCP sockets of this network namespace with the figures tcpreap\n"
    "decides on: time since anything was received, unacknowledged segments,\n"
    "consecutive retransmissions, backoff, probes, RTO, queues.\n"
    "\n"
    "Network namespaces (each socket then shows its namespace's name):\n"
    "  -A, --all-namespaces  every network namespace on the host (with --config,\n"
    "                        but those its namespaces.exclude names)\n"
    "      --netns NAME      only that one: its name as -A shows it (host, an\n"
    "                        ip netns name, a container ID, pod:UID, pid:PID),\n"
    "                        its identity net:[INODE], or a path to its file\n"
    "                        (/proc/PID/ns/net, /run/netns/NAME)\n"
    "Output:\n"
    "      --json            one JSON object per line, every field\n"
    "      --count           only the number of matching sockets\n"
    "Filters (all of them must hold; a list holds when one of its items does):\n"
    "  -s, --state LIST      states as ss(8) names them: established, syn-sent,\n"
    "                        syn-recv, fin-wait-1, fin-wait-2, time-wait, closed,\n"
    "                        close-wait, last-ack, listening, closing; groups all,\n"
    "                        connected (default), synchronized\n"
    "      --sport LIST      local ports or ranges: 2181,30000-32767\n"
    "      --dport LIST      remote ports or ranges\n"
    "      --port LIST       ports or ranges at either end\n"
    "      --src LIST        local address prefixes: 10.0.0.0/8,fd00::/8\n"
    "      --dst LIST        remote address prefixes\n"
    "  -4, --ipv4            IPv4 sockets only\n"
    "  -6, --ipv6            IPv6 sockets only (with -4: both, the default)\n"
    "Verdicts (what tcpreap would do right now, touching nothing):\n"
    "  -c, --config FILE     add each socket's policy, verdict and why\n"
    "      --only-matched    only sockets some policy matches\n"
    "      --only-dead       only sockets the policies find dead\n"
    "      --confirm-scans N scan N times, scan.interval apart, before judging\n"
    "                        (default 1: one scan stands for a policy's confirm)\n"
    "  -h, --help            this help\n"
    "\n"
    "Repeating a filter option extends its list. Exit status: 0 listed,\n"
    "1 the kernel refused (the error says why), 2 bad arguments, 3 listed,\n"
    "but some namespaces of -A could not be entered or scanned (said on\n"
    "stderr), 78 invalid config.\n";

enum class Output { kTable, kJson, kCount };

struct ListOptions {
  Output output = Output::kTable;
  SocketFilter filter;
  bool states_given = false;
  std::optional<std::string> config_path;
  bool only_matched = false;
  bool only_dead = false;
  uint32_t confirm_scans = 1;
  NamespaceChoice namespaces;
};

enum LongOnly : int {
  kJson = 256, kCount, kSport, kDport, kPort, kSrc, kDst, kOnlyMatched, kOnlyDead, kConfirmScans, kNetns
};

// Adds the conditions parsed from `text` to `group`; an error names the option.
template <typename Parse>
Status add_conditions(AnyOf& group, const char* option, const char* text, Parse make) {
  std::string_view rest = text;
  while (true) {
    auto comma = rest.find(',');
    auto added = make(rest.substr(0, comma), group);
    if (!added) return added.error().wrap(option);
    if (comma == std::string_view::npos) return Ok{};
    rest.remove_prefix(comma + 1);
  }
}

Status add_ports(AnyOf& group, const char* option, const char* text, std::initializer_list<Condition::Kind> kinds) {
  return add_conditions(group, option, text, [&](std::string_view item, AnyOf& g) -> Status {
    auto range = PortRange::parse(item);
    if (!range) return range.error();
    for (auto kind : kinds) g.push_back(Condition{kind, *range, {}});
    return Ok{};
  });
}

Status add_prefixes(AnyOf& group, const char* option, const char* text, Condition::Kind kind) {
  return add_conditions(group, option, text, [&](std::string_view item, AnyOf& g) -> Status {
    auto cidr = Cidr::parse(item);
    if (!cidr) return cidr.error();
    g.push_back(Condition{kind, {}, *cidr});
    return Ok{};
  });
}

// Parses argv into options; returns an exit code when the command is done
// (help, or an error already printed).
std::optional<int> parse(int argc, char** argv, const ProgramMessages& say, ListOptions& opts) {
  static const option kLong[] = {
      {"json", no_argument, nullptr, kJson},
      {"count", no_argument, nullptr, kCount},
      {"state", required_argument, nullptr, 's'},
      {"sport", required_argument, nullptr, kSport},
      {"dport", required_argument, nullptr, kDport},
      {"port", required_argument, nullptr, kPort},
      {"src", required_argument, nullptr, kSrc},
      {"dst", required_argument, nullptr, kDst},
      {"ipv4", no_argument, nullptr, '4'},
      {"ipv6", no_argument, nullptr, '6'},
      {"config", required_argument, nullptr, 'c'},
      {"only-matched", no_argument, nullptr, kOnlyMatched},
      {"only-dead", no_argument, nullptr, kOnlyDead},
      {"confirm-scans", required_argument, nullptr, kConfirmScans},
      {"all-namespaces", no_argument, nullptr, 'A'},
      {"netns", required_argument, nullptr, kNetns},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  AnyOf sport, dport, port, src, dst;
  bool v4 = false, v6 = false, json = false, count = false;
  std::optional<StateSet> states;
  CommandLine command_line(say, kUsage, argc, argv, ":s:46c:Ah", kLong);
  auto on_option = [&](int code, const char* value) -> std::optional<int> {
    Status st = Ok{};
    switch (code) {
      case kJson: json = true; break;
      case kCount: count = true; break;
      case 's': {
        auto s = StateSet::parse_list(value);
        if (!s) return say.usage_error("--state: " + s.error().message());
        states = states ? *states | *s : *s;
        break;
      }
      case kSport: st = add_ports(sport, "--sport", value, {Condition::Kind::kLocalPort}); break;
      case kDport: st = add_ports(dport, "--dport", value, {Condition::Kind::kRemotePort}); break;
      case kPort:
        st = add_ports(port, "--port", value, {Condition::Kind::kLocalPort, Condition::Kind::kRemotePort});
        break;
      case kSrc: st = add_prefixes(src, "--src", value, Condition::Kind::kLocalPrefix); break;
      case kDst: st = add_prefixes(dst, "--dst", value, Condition::Kind::kRemotePrefix); break;
      case '4': v4 = true; break;
      case '6': v6 = true; break;
      case 'c': opts.config_path = value; break;
      case kOnlyMatched: opts.only_matched = true; break;
      case kOnlyDead: opts.only_dead = true; break;
      case kConfirmScans: {
        auto n = parse_scan_count(value);
        if (!n) return say.usage_error(std::string("--confirm-scans: '") + value + "' is not a number of scans (1-100)");
        opts.confirm_scans = *n;
        break;
      }
      case 'A': return choose_all_namespaces(opts.namespaces, say);
      case kNetns: return choose_namespace(opts.namespaces, value, say);
    }
    if (!st) return say.usage_error(st.error().message());
    return std::nullopt;
  };
  if (auto done = command_line.read_options(on_option)) return done;
  if (json && count) return say.usage_error("--json and --count exclude each other");
  if (!opts.config_path && (opts.only_matched || opts.only_dead || opts.confirm_scans != 1))
    return say.usage_error("--only-matched, --only-dead and --confirm-scans need --config FILE");

  opts.output = count ? Output::kCount : json ? Output::kJson : Output::kTable;
  opts.states_given = states.has_value();
  opts.filter.states = states ? *states : StateSet::connected();
  opts.filter.ipv4 = v4 || !v6;
  opts.filter.ipv6 = v6 || !v4;
  for (AnyOf* g : {&sport, &dport, &port, &src, &dst})
    if (!g->empty()) opts.filter.all_of.push_back(std::move(*g));
  return std::nullopt;
}

// Formats into one reused buffer and writes it out in large pieces; or
// only counts. A socket printed with its namespace (-A, --netns) gets a first
// column `netns_width` wide, or a "netns" object ending its JSON.
class Printer {
 public:
  Printer(Output output, const Config* config, const ProgramMessages& say, size_t netns_width)
      : output_(output), config_(config), say_(say), netns_width_(netns_width) {
    buffer_.reserve(kFlushAt + 4096);
    if (output_ == Output::kTable) {
      append_table_header(buffer_, netns_width_);
      if (config_) append_decision_header(buffer_);
    }
  }
  ~Printer() { flush(); }

  // `netns` is null unless the namespace is shown.
  void print(const TcpSocket& s, const Decision* d, const NamespaceInfo* netns) {
    ++count_;
    if (output_ == Output::kCount) return;
    if (output_ == Output::kJson) {
      append_json_line(s, buffer_, netns);
      if (d) {
        buffer_.resize(buffer_.size() - 2);  // "}\n"
        append_decision_json(*d, *config_, buffer_);
        buffer_ += "}\n";
      }
    } else {
      if (netns) append_netns_cell(*netns, netns_width_, buffer_);
      append_table_row(s, buffer_);
      if (d) append_decision_columns(*d, *config_, buffer_);
    }
    if (buffer_.size() >= kFlushAt) flush();
  }
  // A namespace's dump begins: what a restart or a failure of it takes back.
  void begin_namespace() { namespace_start_ = count_; }
  // The kernel flagged the dump inconsistent: it starts over; what it
  // printed stays printed, and is counted again.
  void restart() {
    flush();
    count_ = namespace_start_;
    if (output_ != Output::kCount) say_.note("the kernel flagged the dump inconsistent; listing again from the start");
  }
  // The namespace's dump failed part way: its sockets are not counted.
  void abandon_namespace() { count_ = namespace_start_; }
  void flush() {
    std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
    buffer_.clear();
  }
  uint64_t count() const { return count_; }

 private:
  static constexpr size_t kFlushAt = 32 * 1024;
  Output output_;
  const Config* config_;
  const ProgramMessages& say_;
  size_t netns_width_;
  std::string buffer_;
  uint64_t count_ = 0;
  uint64_t namespace_start_ = 0;
};

class PlainSink final : public SocketSink {
 public:
  PlainSink(Printer& p, const NamespaceInfo* netns) : printer_(p), netns_(netns) {}
  void on_socket(const TcpSocket& s) override { printer_.print(s, nullptr, netns_); }
  void on_restart() override { printer_.restart(); }

 private:
  Printer& printer_;
  const NamespaceInfo* netns_;
};

// A namespace being listed: where, and which policies apply there.
struct ListedNamespace {
  TargetNamespace target;
  std::vector<uint8_t> policies;  // one flag per policy (match.namespaces); empty without --config
  bool skipped = false;           // -A: could not be entered or scanned; said once
  std::optional<FamilyDumpGate> gate;  // its TCP counters, opened at the first scan that could use them
};

// The namespaces to list: the own (its identity only needed to judge
// match.namespaces), the one --netns names, or every one -A finds but
// those the config excludes.
Result<std::vector<ListedNamespace>> namespaces_to_list(const ListOptions& opts, const Config* config,
                                                        const ProgramMessages& say) {
  std::vector<ListedNamespace> out;
  switch (opts.namespaces.mode) {
    case NamespaceChoice::Mode::kOwn: {
      NamespaceInfo own{{}, "host", {}, true};
      if (config) {
        auto id = open_own_netns();
        if (!id) return id.error().wrap("finding this process's network namespace");
        own.id = id->id;
      }
      out.push_back({{std::move(own), SocketMaker::here()}, {}, false, std::nullopt});
      break;
    }
    case NamespaceChoice::Mode::kOne: {
      auto one = named_namespace(opts.namespaces.name);
      if (!one) return one.error();
      out.push_back({std::move(*one), {}, false, std::nullopt});
      break;
    }
    case NamespaceChoice::Mode::kAll: {
      auto found = discover_all(say);
      if (!found) return found.error();
      NamespaceScope scope;  // every one, but what the config excludes
      scope.scan = NamespaceScope::Mode::kAll;
      if (config) scope.exclude = config->namespaces.exclude;
      for (NetnsEntry& e : found->namespaces) {
        if (!scope.scans(e.name, e.id)) continue;
        out.push_back({target_of(std::move(e)), {}, false, std::nullopt});
      }
      break;
    }
  }
  if (config)
    for (ListedNamespace& n : out)
      for (const Policy& p : config->policies)
        n.policies.push_back(p.applies_in(n.target.info.name, n.target.info.id) ? 1 : 0);
  return out;
}

// One list run over its namespaces. Under -A a namespace that cannot be
// entered or dumped is said on stderr and skipped (partial()); otherwise
// that is the command's error.
class Lister {
 public:
  Lister(const ListOptions& opts, const ScanQuery& query, std::vector<ListedNamespace> namespaces,
         const ProgramMessages& say)
      : opts_(opts), query_(query), namespaces_(std::move(namespaces)), say_(say) {}

  size_t netns_width() const {
    if (!opts_.namespaces.named()) return 0;
    std::vector<NamespaceInfo> infos;
    for (const auto& n : namespaces_) infos.push_back(n.target.info);
    return netns_column_width(infos);
  }

  // Every socket, no verdicts.
  Status list_plain(Printer& printer) {
    for (ListedNamespace& n : namespaces_) {
      const DumpFamilies families = families_to_dump(n);
      if (!families.any()) continue;
      auto scanner = open_scanner(n);
      if (!scanner) return scanner.error();
      if (!*scanner) continue;
      printer.begin_namespace();
      PlainSink sink(printer, shown(n));
      if (auto stats = (*scanner)->scan(query_, sink, families); !stats) {
        printer.abandon_namespace();
        if (Status s = skip(n, stats.error()); !s) return s;
      }
    }
    return Ok{};
  }

  // One scan of every namespace through `engine`: its in-scope entries.
  // With `printer`, what is decided at once is printed as it streams by.
  Result<const std::vector<DecisionEngine::Entry>*> decide(DecisionEngine& engine, Printer* printer,
                                                           const std::function<bool(const Decision&)>& wanted) {
    engine.begin_scan(DecisionEngine::Clock::now());
    const NamespaceInfo* current = nullptr;
    DecidedScanHooks hooks;
    if (printer) {
      hooks.immediate = [&](const TcpSocket& s, const Decision& d) {
        if (wanted(d)) printer->print(s, &d, current);
      };
      hooks.restarted = [&] { printer->restart(); };
    }
    for (size_t slot = 0; slot < namespaces_.size(); ++slot) {
      ListedNamespace& n = namespaces_[slot];
      const bool any_policy = std::any_of(n.policies.begin(), n.policies.end(), [](uint8_t f) { return f != 0; });
      if (!any_policy && (opts_.only_matched || opts_.only_dead)) continue;  // nothing here could be shown
      const DumpFamilies families = families_to_dump(n);
      if (!families.any()) continue;
      auto scanner = open_scanner(n);
      if (!scanner) return scanner.error();
      if (!*scanner) continue;
      current = shown(n);
      if (printer) printer->begin_namespace();
      engine.begin_namespace(static_cast<uint32_t>(slot), n.policies);
      if (auto stats = observe_dump(**scanner, query_, engine, hooks, families); !stats) {
        if (printer) printer->abandon_namespace();
        if (Status s = skip(n, stats.error()); !s) return s.error();
      }
    }
    return &engine.finish_scan();
  }

  // The namespace of slot `slot` as the output shows it, or null.
  const NamespaceInfo* shown(uint32_t slot) const { return shown(namespaces_.at(slot)); }
  bool partial() const { return partial_; }

 private:
  const NamespaceInfo* shown(const ListedNamespace& n) const {
    return opts_.namespaces.named() ? &n.target.info : nullptr;
  }

  // The families of the query worth dumping in `n` (netns/dump_families.h,
  // as the daemon decides it); none: nothing to dump there. The counters are
  // opened only for states they count: otherwise the answer is both anyway.
  DumpFamilies families_to_dump(ListedNamespace& n) {
    const StateSet states = query_.filter().states;
    if (n.skipped || query_.dumps().empty() || !in_use_counts(states)) return DumpFamilies::both();
    if (!n.gate) n.gate.emplace(FamilyDumpGate::open(n.target.maker));
    return query_.families() & n.gate->families_to_dump(states);
  }

  // A scanner made inside the namespace; nullopt for one -A skips.
  Result<std::optional<SocketScanner>> open_scanner(ListedNamespace& n) {
    if (n.skipped) return std::optional<SocketScanner>();
    auto scanner = SocketScanner::open(n.target.maker);
    if (scanner) return std::optional<SocketScanner>(std::move(*scanner));
    if (Status s = skip(n, scanner.error()); !s) return s.error();
    return std::optional<SocketScanner>();
  }

  // Under -A: say it, and go on without the namespace. Else the error.
  Status skip(ListedNamespace& n, const Error& why) {
    if (opts_.namespaces.mode != NamespaceChoice::Mode::kAll) return why;
    if (!n.skipped) say_skipped(n.target.info, why, say_);
    n.skipped = true;
    partial_ = true;
    return Ok{};
  }

  const ListOptions& opts_;
  const ScanQuery& query_;
  std::vector<ListedNamespace> namespaces_;
  const ProgramMessages& say_;
  bool partial_ = false;
};

}  // namespace

int run_list_command(int argc, char** argv) {
  const ProgramMessages say("tcpreap list");
  ListOptions opts;
  if (auto done = parse(argc, argv, say, opts)) return *done;
  if (auto failed = keep_only_capabilities(opts.namespaces.capabilities(), say)) return *failed;

  std::optional<Config> config;
  if (opts.config_path) {
    config = command_config(*opts.config_path, say);
    if (!config) return exit_code::kConfig;
    if (opts.only_matched || opts.only_dead) {
      // Only what some policy can match needs to leave the kernel.
      SocketFilter policies = config->scan_filter();
      opts.filter.any_clause = std::move(policies.any_clause);
      if (!opts.states_given) opts.filter.states = policies.states;
    }
  }

  auto query = ScanQuery::compile(opts.filter);
  if (!query) return say.usage_error(query.error().message());
  auto namespaces = namespaces_to_list(opts, config ? &*config : nullptr, say);
  if (!namespaces) return say.failed(namespaces.error().message());
  Lister lister(opts, *query, std::move(*namespaces), say);

  if (!config) {
    Printer printer(opts.output, nullptr, say, lister.netns_width());
    if (Status s = lister.list_plain(printer); !s) return say.failed(s.error().message());
    if (opts.output == Output::kCount) std::printf("%llu\n", static_cast<unsigned long long>(printer.count()));
  } else {
    DecisionEngine engine(*config);
    // One scan stands for a policy's confirm, unless the operator asks
    // for real consecutive scans.
    engine.override_confirm(opts.confirm_scans == 1 ? std::optional<uint32_t>(1) : std::nullopt);
    auto wanted = [&](const Decision& d) {
      if (opts.only_dead && d.verdict != Verdict::kDead) return false;
      if (opts.only_matched && d.policy < 0) return false;
      return true;
    };
    for (uint32_t i = 1; i < opts.confirm_scans; ++i) {
      if (auto r = lister.decide(engine, nullptr, wanted); !r) return say.failed(r.error().message());
      std::this_thread::sleep_for(config->scan_interval);
    }
    Printer printer(opts.output, &engine.config(), say, lister.netns_width());
    auto entries = lister.decide(engine, &printer, wanted);
    if (!entries) return say.failed(entries.error().message());
    for (const auto& e : **entries)
      if (wanted(e.decision)) printer.print(e.socket, &e.decision, lister.shown(e.netns));
    if (opts.output == Output::kCount) std::printf("%llu\n", static_cast<unsigned long long>(printer.count()));
  }
  if (std::fflush(stdout) != 0) {
    std::perror("tcpreap list: writing the output");
    return exit_code::kFailure;
  }
  return lister.partial() ? exit_code::kPartial : exit_code::kOk;
}

}  // namespace tcpreap
