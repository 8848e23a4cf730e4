#include "decide/decided_scan.h"

namespace tcpreap {

namespace {

class DecidingSink final : public SocketSink {
 public:
  DecidingSink(DecisionEngine& engine, const DecidedScanHooks& hooks) : engine_(engine), hooks_(hooks) {}
  void on_socket(const TcpSocket& s) override {
    if (auto d = engine_.observe(s); d && hooks_.immediate) hooks_.immediate(s, *d);
  }
  void on_restart() override {
    engine_.abandon_namespace();  // drops what this dump listed so far; history stays
    if (hooks_.restarted) hooks_.restarted();
  }

 private:
  DecisionEngine& engine_;
  const DecidedScanHooks& hooks_;
};

}  // namespace

Result<ScanStats> observe_dump(SocketScanner& scanner, const ScanQuery& query, DecisionEngine& engine,
                               const DecidedScanHooks& hooks, DumpFamilies families) {
  DecidingSink sink(engine, hooks);
  auto stats = scanner.scan(query, sink, families);
  if (!stats) engine.abandon_namespace();
  return stats;
}

Result<const std::vector<DecisionEngine::Entry>*> decided_scan(SocketScanner& scanner, const ScanQuery& query,
                                                               DecisionEngine& engine, const DecidedScanHooks& hooks) {
  engine.begin_scan(DecisionEngine::Clock::now());
  if (auto stats = observe_dump(scanner, query, engine, hooks); !stats) return stats.error();
  return &engine.finish_scan();
}

}  // namespace tcpreap
