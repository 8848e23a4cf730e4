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
    engine_.begin_scan(DecisionEngine::Clock::now());  // drops this scan's entries; history stays
    if (hooks_.restarted) hooks_.restarted();
  }

 private:
  DecisionEngine& engine_;
  const DecidedScanHooks& hooks_;
};

}  // namespace

Result<const std::vector<DecisionEngine::Entry>*> decided_scan(SocketScanner& scanner, const ScanQuery& query,
                                                               DecisionEngine& engine, const DecidedScanHooks& hooks) {
  engine.begin_scan(DecisionEngine::Clock::now());
  DecidingSink sink(engine, hooks);
  if (auto stats = scanner.scan(query, sink); !stats) return stats.error();
  return &engine.finish_scan();
}

}  // namespace tcpreap
