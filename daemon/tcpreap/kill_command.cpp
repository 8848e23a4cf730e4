// `tcpreap kill`: the killcx/tcpdrop replacement for one connection, named
// by its two endpoints as this host sees them.

#include "tcpreap/kill_command.h"

#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "diag/socket_scanner.h"
#include "reap/reaper.h"
#include "report/reap_report.h"
#include "report/socket_table.h"
#include "program/command_line.h"
#include "program/exit_codes.h"
#include "program/program_messages.h"
#include "privilege/capabilities.h"
#include "tcpreap/command_capabilities.h"
#include "tcpreap/namespace_options.h"

namespace tcpreap {

namespace {

constexpr const char* kUsage =
    "Usage: tcpreap kill LOCAL_ADDR:PORT REMOTE_ADDR:PORT [--method M] [--netns NAME]\n"
    "\n"
    "Makes one connection of this network namespace go away: the local\n"
    "application gets an error and the slot is freed. IPv6 addresses in\n"
    "brackets: [fd00::1]:2181.\n"
    "\n"
    "  -m, --method M   auto (default: SOCK_DESTROY, RST injection where the\n"
    "                   kernel cannot), destroy, or rst\n"
    "      --netns NAME the connection of that network namespace (see\n"
    "                   tcpreap list --help for the forms of NAME)\n"
    "  -h, --help       this help\n"
    "\n"
    "Exit status: 0 the connection is gone, 1 no such connection or the\n"
    "action failed, 2 bad arguments.\n";

struct Endpoint {
  IpAddress address;
  uint16_t port = 0;
};

// "10.0.0.1:2181" or "[fd00::1]:2181".
Result<Endpoint> parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  const auto bad = [&] {
    return Error(0, "'" + std::string(text) + "' is not ADDRESS:PORT (IPv6 in brackets: [fd00::1]:2181)");
  };
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view addr = text.substr(0, colon);
  if (addr.find(':') != std::string_view::npos && addr.front() != '[') return bad();  // bare IPv6
  auto a = IpAddress::parse(addr);
  if (!a) return bad();
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535)
    return Error(0, "'" + std::string(text) + "': the port must be 1-65535");
  return Endpoint{*a, static_cast<uint16_t>(port)};
}

Cidr host(const IpAddress& a) { return Cidr{a, static_cast<uint8_t>(a.size() * 8)}; }

struct Collect final : SocketSink {
  std::vector<TcpSocket> sockets;
  void on_socket(const TcpSocket& s) override { sockets.push_back(s); }
  void on_restart() override { sockets.clear(); }
};

}  // namespace

int run_kill_command(int argc, char** argv) {
  enum : int { kNetns = 256 };
  static const option kLong[] = {{"method", required_argument, nullptr, 'm'},
                                 {"netns", required_argument, nullptr, kNetns},
                                 {"help", no_argument, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  const ProgramMessages say("tcpreap kill");
  ReapMethod method = ReapMethod::kAuto;
  NamespaceChoice namespaces;
  CommandLine command_line(say, kUsage, argc, argv, ":m:h", kLong);
  auto on_option = [&](int code, const char* value) -> std::optional<int> {
    if (code == kNetns) return choose_namespace(namespaces, value, say);
    auto m = parse_reap_method(value);  // 'm'
    if (!m) return say.usage_error(std::string("--method: '") + value + "' is not auto, destroy or rst");
    method = *m;
    return std::nullopt;
  };
  if (auto done = command_line.read_options(on_option, CommandLine::Operands::kTaken)) return *done;
  const auto endpoints = command_line.operands();
  if (endpoints.size() != 2) return say.usage_error("give the two endpoints: LOCAL_ADDR:PORT REMOTE_ADDR:PORT");
  auto local = parse_endpoint(endpoints[0]);
  if (!local) return say.usage_error(local.error().message());
  auto remote = parse_endpoint(endpoints[1]);
  if (!remote) return say.usage_error(remote.error().message());
  if (auto failed = keep_only_capabilities(network_capabilities() | namespaces.capabilities(), say)) return *failed;

  // Where the connection is, and every socket used on it made there.
  std::optional<TargetNamespace> target;
  if (namespaces.mode == NamespaceChoice::Mode::kOne) {
    auto named = named_namespace(namespaces.name);
    if (!named) return say.failed(named.error().message());
    target = std::move(*named);
  }
  const SocketMaker maker = target ? target->maker : SocketMaker::here();
  const NamespaceInfo* netns = target ? &target->info : nullptr;

  // Exactly this 4-tuple, filtered by the kernel. An IPv4 address also
  // finds a dual-stack socket's v4-mapped form.
  SocketFilter f;
  f.states = StateSet::connected();
  f.all_of = {{Condition::local_prefix(host(local->address))},
              {Condition::local_port({local->port, local->port})},
              {Condition::remote_prefix(host(remote->address))},
              {Condition::remote_port({remote->port, remote->port})}};
  f.ipv4 = local->address.family == Family::kIPv4;
  auto query = ScanQuery::compile(f);
  if (!query) return say.failed(query.error().message());
  auto scanner = SocketScanner::open(maker);
  if (!scanner) return say.failed(scanner.error().message());
  Collect found;
  if (auto stats = scanner->scan(*query, found); !stats) return say.failed(stats.error().message());
  std::string what;
  append_endpoint(local->address, local->port, what);
  what += " <- ";
  append_endpoint(remote->address, remote->port, what);
  if (found.sockets.empty())
    return say.failed("no established connection " + what + " in " +
                      (netns && !netns->own ? "network namespace " + netns->label() : "this network namespace") +
                      "; nothing was done");

  auto reaper = Reaper::open(method, maker);
  if (!reaper) return say.failed(reaper.error().message());
  auto outcomes = reaper->reap(found.sockets);
  std::string out;
  bool all_ok = true;
  for (size_t i = 0; i < found.sockets.size(); ++i) {
    append_reap_line({&found.sockets[i], nullptr, nullptr, &outcomes[i], netns}, out);
    all_ok = all_ok && outcomes[i].result == ReapResult::kDone;
  }
  std::fputs(out.c_str(), stdout);
  if (auto notice = reaper->take_notice()) say.note(*notice);
  return all_ok ? exit_code::kOk : exit_code::kFailure;
}

}  // namespace tcpreap
