// `tcpreap list`: one scan, printed as a table, JSON lines, or a count.
// Every filter option goes to the kernel (state mask, dump families,
// inet_diag bytecode): sockets that do not match never reach this process.

#include "tcpreap/list_command.h"

#include <getopt.h>

#include <cstdio>
#include <string>

#include "diag/socket_scanner.h"
#include "report/socket_json.h"
#include "report/socket_table.h"
#include "tcpreap/exit_codes.h"

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
    "  -h, --help            this help\n"
    "\n"
    "Repeating a filter option extends its list. Exit status: 0 listed,\n"
    "1 the kernel refused (the error says why), 2 bad arguments.\n";

enum class Output { kTable, kJson, kCount };

struct ListOptions {
  Output output = Output::kTable;
  SocketFilter filter;
};

enum LongOnly : int { kJson = 256, kCount, kSport, kDport, kPort, kSrc, kDst };

int usage_error(const std::string& message) {
  std::fprintf(stderr, "tcpreap list: %s\nTry 'tcpreap list --help'.\n", message.c_str());
  return exit_code::kUsage;
}

// Adds the conditions parsed from `text` to `group`; an error names the option.
template <typename Parse>
Status add_conditions(AnyOf& group, const char* option, const char* text, Parse make) {
  std::string_view rest = text;
  while (true) {
    auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    auto added = make(item, group);
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
std::optional<int> parse(int argc, char** argv, ListOptions& opts) {
  static const option kLong[] = {
      {"json", no_argument, nullptr, kJson},     {"count", no_argument, nullptr, kCount},
      {"state", required_argument, nullptr, 's'}, {"sport", required_argument, nullptr, kSport},
      {"dport", required_argument, nullptr, kDport}, {"port", required_argument, nullptr, kPort},
      {"src", required_argument, nullptr, kSrc}, {"dst", required_argument, nullptr, kDst},
      {"ipv4", no_argument, nullptr, '4'},        {"ipv6", no_argument, nullptr, '6'},
      {"help", no_argument, nullptr, 'h'},       {nullptr, 0, nullptr, 0},
  };
  AnyOf sport, dport, port, src, dst;
  bool v4 = false, v6 = false, json = false, count = false;
  std::optional<StateSet> states;
  opterr = 0;  // our own messages, naming the option
  optind = 1;
  int c;
  while (true) {
    const int before = optind;
    int index = -1;
    if ((c = getopt_long(argc, argv, ":s:46h", kLong, &index)) == -1) break;
    // The argument being parsed: one word for a long option.
    const std::string token = before < argc ? argv[before] : "";
    const bool is_long = token.rfind("--", 0) == 0;
    const std::string name = is_long ? token.substr(2, token.find('=') - 2) : "";
    // No abbreviations: an option added later must not change what an
    // operator's script already means.
    if (index >= 0 && is_long && name != kLong[index].name)
      return usage_error("unknown option '--" + name + "' (did you mean '--" + kLong[index].name + "'?)");
    Status st = Ok{};
    switch (c) {
      case kJson: json = true; break;
      case kCount: count = true; break;
      case 's': {
        auto s = StateSet::parse_list(optarg);
        if (!s) return usage_error("--state: " + s.error().message());
        states = states ? *states | *s : *s;
        break;
      }
      case kSport: st = add_ports(sport, "--sport", optarg, {Condition::Kind::kLocalPort}); break;
      case kDport: st = add_ports(dport, "--dport", optarg, {Condition::Kind::kRemotePort}); break;
      case kPort:
        st = add_ports(port, "--port", optarg, {Condition::Kind::kLocalPort, Condition::Kind::kRemotePort});
        break;
      case kSrc: st = add_prefixes(src, "--src", optarg, Condition::Kind::kLocalPrefix); break;
      case kDst: st = add_prefixes(dst, "--dst", optarg, Condition::Kind::kRemotePrefix); break;
      case '4': v4 = true; break;
      case '6': v6 = true; break;
      case 'h': std::fputs(kUsage, stdout); return exit_code::kOk;
      case ':':
        if (is_long) return usage_error("option '--" + name + "' needs a value");
        return usage_error(std::string("option '-") + static_cast<char>(optopt) + "' needs a value");
      default:
        if (!is_long) return usage_error(std::string("unknown option '-") + static_cast<char>(optopt) + "'");
        for (const option* o = kLong; o->name; ++o)
          if (name == o->name && o->has_arg == no_argument)
            return usage_error("option '--" + name + "' takes no value");
        return usage_error("unknown option '--" + name + "'");
    }
    if (!st) return usage_error(st.error().message());
  }
  if (optind < argc) return usage_error(std::string("unexpected argument '") + argv[optind] + "'");
  if (json && count) return usage_error("--json and --count exclude each other");

  opts.output = count ? Output::kCount : json ? Output::kJson : Output::kTable;
  opts.filter.states = states ? *states : StateSet::connected();
  opts.filter.ipv4 = v4 || !v6;
  opts.filter.ipv6 = v6 || !v4;
  for (AnyOf* g : {&sport, &dport, &port, &src, &dst})
    if (!g->empty()) opts.filter.all_of.push_back(std::move(*g));
  return std::nullopt;
}

class CountSink final : public SocketSink {
 public:
  void on_socket(const TcpSocket&) override { ++count_; }
  void on_restart() override { count_ = 0; }
  uint64_t count() const { return count_; }

 private:
  uint64_t count_ = 0;
};

// Formats into one reused buffer and writes it out in large pieces.
class PrintSink final : public SocketSink {
 public:
  explicit PrintSink(Output output) : output_(output) {
    buffer_.reserve(kFlushAt + 4096);
    if (output_ == Output::kTable) append_table_header(buffer_);
  }
  ~PrintSink() override { flush(); }

  void on_socket(const TcpSocket& s) override {
    if (output_ == Output::kJson)
      append_json_line(s, buffer_);
    else
      append_table_row(s, buffer_);
    if (buffer_.size() >= kFlushAt) flush();
  }
  void on_restart() override {
    flush();
    std::fputs("tcpreap list: the kernel flagged the dump inconsistent; listing again from the start\n", stderr);
  }
  void flush() {
    std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
    buffer_.clear();
  }

 private:
  static constexpr size_t kFlushAt = 32 * 1024;
  Output output_;
  std::string buffer_;
};

}  // namespace

int run_list_command(int argc, char** argv) {
  ListOptions opts;
  if (auto done = parse(argc, argv, opts)) return *done;

  auto query = ScanQuery::compile(opts.filter);
  if (!query) return usage_error(query.error().message());
  auto scanner = SocketScanner::open();
  if (!scanner) {
    std::fprintf(stderr, "tcpreap list: %s\n", scanner.error().message().c_str());
    return exit_code::kFailure;
  }
  Result<ScanStats> stats = ScanStats{};
  if (opts.output == Output::kCount) {
    CountSink sink;
    stats = scanner->scan(*query, sink);
    if (stats) std::printf("%llu\n", static_cast<unsigned long long>(sink.count()));
  } else {
    PrintSink sink(opts.output);
    stats = scanner->scan(*query, sink);
  }
  if (!stats) {
    std::fflush(stdout);
    std::fprintf(stderr, "tcpreap list: %s\n", stats.error().message().c_str());
    return exit_code::kFailure;
  }
  if (std::fflush(stdout) != 0) {
    std::perror("tcpreap list: writing the output");
    return exit_code::kFailure;
  }
  return exit_code::kOk;
}

}  // namespace tcpreap
