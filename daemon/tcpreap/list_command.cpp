// `tcpreap list`: one scan, printed as a table, JSON lines, or a count.
// Every filter option goes to the kernel (state mask, dump families,
// inet_diag bytecode): sockets that do not match never reach this process.
// With --config, each socket also gets the verdict the policies give it:
// the operator's dry run, touching nothing.

#include "tcpreap/list_command.h"

#include <charconv>
#include <cstdio>
#include <string>
#include <thread>

#include "config/config_loader.h"
#include "decide/decided_scan.h"
#include "diag/socket_scanner.h"
#include "program/command_config.h"
#include "program/command_line.h"
#include "program/exit_codes.h"
#include "program/program_messages.h"
#include "report/decision_report.h"
#include "report/socket_json.h"
#include "report/socket_table.h"

namespace tcpreap {

namespace {

constexpr const char* kUsage =
    "Usage: tcpreap list [OPTIONS]\n"
    "\n"
    "Lists the TCP sockets of this network namespace with the figures tcpreap\n"
    "decides on: time since anything was received, unacknowledged segments,\n"
    "consecutive retransmissions, backoff, probes, RTO, queues.\n"
    "\n"
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
    "1 the kernel refused (the error says why), 2 bad arguments,\n"
    "78 invalid config.\n";

enum class Output { kTable, kJson, kCount };

struct ListOptions {
  Output output = Output::kTable;
  SocketFilter filter;
  bool states_given = false;
  std::optional<std::string> config_path;
  bool only_matched = false;
  bool only_dead = false;
  uint32_t confirm_scans = 1;
};

enum LongOnly : int { kJson = 256, kCount, kSport, kDport, kPort, kSrc, kDst, kOnlyMatched, kOnlyDead, kConfirmScans };

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
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  AnyOf sport, dport, port, src, dst;
  bool v4 = false, v6 = false, json = false, count = false;
  std::optional<StateSet> states;
  CommandLine command_line(say, kUsage, argc, argv, ":s:46c:h", kLong);
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
// only counts.
class Printer {
 public:
  Printer(Output output, const Config* config, const ProgramMessages& say)
      : output_(output), config_(config), say_(say) {
    buffer_.reserve(kFlushAt + 4096);
    if (output_ == Output::kTable) {
      append_table_header(buffer_);
      if (config_) append_decision_header(buffer_);
    }
  }
  ~Printer() { flush(); }

  void print(const TcpSocket& s, const Decision* d) {
    ++count_;
    if (output_ == Output::kCount) return;
    if (output_ == Output::kJson) {
      append_json_line(s, buffer_);
      if (d) {
        buffer_.resize(buffer_.size() - 2);  // "}\n"
        append_decision_json(*d, *config_, buffer_);
        buffer_ += "}\n";
      }
    } else {
      append_table_row(s, buffer_);
      if (d) append_decision_columns(*d, *config_, buffer_);
    }
    if (buffer_.size() >= kFlushAt) flush();
  }
  void restart() {
    flush();
    count_ = 0;
    if (output_ != Output::kCount) say_.note("the kernel flagged the dump inconsistent; listing again from the start");
  }
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
  std::string buffer_;
  uint64_t count_ = 0;
};

class PlainSink final : public SocketSink {
 public:
  explicit PlainSink(Printer& p) : printer_(p) {}
  void on_socket(const TcpSocket& s) override { printer_.print(s, nullptr); }
  void on_restart() override { printer_.restart(); }

 private:
  Printer& printer_;
};

}  // namespace

int run_list_command(int argc, char** argv) {
  const ProgramMessages say("tcpreap list");
  ListOptions opts;
  if (auto done = parse(argc, argv, say, opts)) return *done;

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
  auto scanner = SocketScanner::open();
  if (!scanner) return say.failed(scanner.error().message());

  if (!config) {
    Printer printer(opts.output, nullptr, say);
    PlainSink sink(printer);
    if (auto stats = scanner->scan(*query, sink); !stats) return say.failed(stats.error().message());
    if (opts.output == Output::kCount) std::printf("%llu\n", static_cast<unsigned long long>(printer.count()));
  } else {
    DecisionEngine engine(*config);
    // One scan stands for a policy's confirm, unless the operator asks
    // for real consecutive scans.
    engine.override_confirm(opts.confirm_scans == 1 ? std::optional<uint32_t>(1) : std::nullopt);
    for (uint32_t i = 1; i < opts.confirm_scans; ++i) {
      if (auto r = decided_scan(*scanner, *query, engine); !r) return say.failed(r.error().message());
      std::this_thread::sleep_for(config->scan_interval);
    }
    Printer printer(opts.output, &engine.config(), say);
    auto wanted = [&](const Decision& d) {
      if (opts.only_dead && d.verdict != Verdict::kDead) return false;
      if (opts.only_matched && d.policy < 0) return false;
      return true;
    };
    DecidedScanHooks hooks;
    hooks.immediate = [&](const TcpSocket& s, const Decision& d) {
      if (wanted(d)) printer.print(s, &d);
    };
    hooks.restarted = [&] { printer.restart(); };
    auto entries = decided_scan(*scanner, *query, engine, hooks);
    if (!entries) return say.failed(entries.error().message());
    for (const auto& e : **entries)
      if (wanted(e.decision)) printer.print(e.socket, &e.decision);
    if (opts.output == Output::kCount) std::printf("%llu\n", static_cast<unsigned long long>(printer.count()));
  }
  if (std::fflush(stdout) != 0) {
    std::perror("tcpreap list: writing the output");
    return exit_code::kFailure;
  }
  return exit_code::kOk;
}

}  // namespace tcpreap
