#include "netns_scan_items.h"

#include <fcntl.h>
#include <time.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string_view>

#include "decide/decided_scan.h"
#include "netns/socket_maker.h"
#include "support/child_process.h"
#include "support/support_error.h"

namespace tcpreap::test {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

class CountSink final : public SocketSink {
 public:
  void on_socket(const TcpSocket&) override { ++count; }
  void on_restart() override { count = 0; }
  uint64_t count = 0;
};

std::optional<double> number_after(const std::string& text, std::string_view key) {
  const auto at = text.find(key);
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(text.c_str() + at + key.size(), nullptr);
}

}  // namespace

BenchNs::BenchNs(char tag) : named(unique_netns_name(tag)) {
  UniqueFd f(::open(path().c_str(), O_RDONLY | O_CLOEXEC));
  if (!f) throw_errno("opening " + path(), errno);
  auto i = read_netns_id(f.get(), path());
  if (!i) throw SupportError(i.error().message());
  id = *i;
  fd = std::make_shared<const UniqueFd>(std::move(f));
  auto s = SocketScanner::open(SocketMaker::in(fd, named.name()));
  if (!s) throw SupportError(s.error().message());
  scanner.emplace(std::move(*s));
  gate.emplace(FamilyDumpGate::open(SocketMaker::in(fd, named.name())));
}

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double thread_cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

Namespaces make_namespaces(int n, char tag, const volatile std::sig_atomic_t& stop) {
  Namespaces out;
  for (int i = 0; i < n && !stop; ++i) out.push_back(std::make_unique<BenchNs>(tag));
  return out;
}

std::vector<std::string> names_of(const Namespaces& nss) {
  std::vector<std::string> names;
  for (const auto& ns : nss) names.push_back(ns->named.name());
  return names;
}

ScanQuery query_of(const Config& config) {
  auto q = ScanQuery::compile(config.scan_filter());
  if (!q) throw SupportError(q.error().message());
  return std::move(*q);
}

ReapCycle open_cycle(const Config& config, const Namespaces& nss, double& open_ms) {
  CycleOptions options;
  options.dry_run = true;
  options.retain = DecisionEngine::Retain::kActionable;  // as tcpreapd runs its turns
  ReapCycle cycle = ReapCycle::open_empty(config, options);
  const auto t0 = Clock::now();
  for (const auto& ns : nss) {
    NamespaceInfo info{ns->id, ns->named.name(), {}, false};
    if (auto s = cycle.add_namespace(std::move(info), SocketMaker::in(ns->fd, ns->named.name())); !s)
      throw SupportError("add_namespace: " + s.error().message());
  }
  open_ms = ms_since(t0);
  return cycle;
}

double time_turn(ReapCycle& cycle, Seen& seen) {
  const auto t0 = Clock::now();
  auto r = cycle.run();
  const double ms = ms_since(t0);
  seen = {};
  if (!r) {
    seen.problem = "turn failed: " + r.error().message();
    return ms;
  }
  for (const NamespaceTurn& t : r->namespaces) {
    seen.sockets += t.stats.sockets;
    seen.scanned += t.state == NamespaceTurn::State::kScanned;
    seen.empty += t.state == NamespaceTurn::State::kEmpty;
    if (t.error) seen.problem = t.error->message();
  }
  // The sockets decided: each has a history (the daemon's retention keeps
  // entries only for the actionable).
  seen.entries = cycle.engine().remembered();
  return ms;
}

double time_dumps(const Namespaces& nss, const ScanQuery& query, Seen& seen) {
  seen = {};
  double total = 0;
  for (const auto& ns : nss) {
    CountSink sink;
    const auto t0 = Clock::now();
    auto s = ns->scanner->scan(query, sink, ns->gate->families_to_dump(query.filter().states));
    total += ms_since(t0);
    if (!s) seen.problem = "dump failed: " + s.error().message();
    seen.sockets += sink.count;
  }
  return total;
}

double time_spawns(const Namespaces& nss, const std::vector<std::string>& command, double* in_process, Seen& seen) {
  seen = {};
  double wall = 0;
  for (const auto& ns : nss) {
    std::vector<std::string> argv{"nsenter", "--net=" + ns->path()};
    argv.insert(argv.end(), command.begin(), command.end());
    const auto t0 = Clock::now();
    ChildProcess child(argv);
    const auto status = child.wait_exit(120s);
    wall += ms_since(t0);
    const std::string out = child.output();
    const auto dump = number_after(out, "dump_ms="), records = number_after(out, "records=");
    if (status != 0 || (in_process && (!dump || !records))) {
      seen.problem = command.front() + " exited " + (status ? std::to_string(*status) : "late") + ": " + out;
    } else if (in_process) {
      *in_process += *dump;
      seen.sockets += static_cast<uint64_t>(*records);
    }
  }
  return wall;
}

double time_engine(DecisionEngine& engine, const Namespaces& nss, const ScanQuery& query, Seen& seen) {
  static const std::vector<uint8_t> kEveryPolicy{1};  // as the cycle passes it: the one policy applies
  seen = {};
  const auto t0 = Clock::now();
  engine.begin_scan(DecisionEngine::Clock::now());
  for (size_t i = 0; i < nss.size(); ++i) {
    engine.begin_namespace(static_cast<uint32_t>(i), kEveryPolicy);
    auto s = observe_dump(*nss[i]->scanner, query, engine, {}, nss[i]->gate->families_to_dump(query.filter().states));
    if (s)
      seen.sockets += s->sockets;
    else
      seen.problem = "dump failed: " + s.error().message();
  }
  engine.finish_scan();
  seen.entries = engine.remembered();
  return ms_since(t0);
}

}  // namespace tcpreap::test
