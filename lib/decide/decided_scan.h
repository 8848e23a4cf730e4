#pragma once
// One scan through the decision engine: the glue between SocketScanner and
// DecisionEngine that `tcpreap list/reap` and the daemon share.

#include <functional>
#include <vector>

#include "decide/decision_engine.h"
#include "diag/socket_scanner.h"

namespace tcpreap {

struct DecidedScanHooks {
  // Sockets decided at once (out of scope, protected), as they stream by.
  std::function<void(const TcpSocket&, const Decision&)> immediate;
  // The kernel flagged the dump inconsistent and the scan started over.
  std::function<void()> restarted;
};

// One namespace's dump with `query` into the engine's current scan (the
// caller made begin_scan() and, for one of several namespaces,
// begin_namespace()), of the families in `families` only (the namespace's
// FamilyDumpGate says which). A dump that fails part way is abandoned
// (abandon_namespace()): none of its sockets stay in the scan.
Result<ScanStats> observe_dump(SocketScanner& scanner, const ScanQuery& query, DecisionEngine& engine,
                               const DecidedScanHooks& hooks = {}, DumpFamilies families = DumpFamilies::both());

// begin_scan(now), scan with `query`, finish_scan(): the in-scope sockets of
// the scan with their decisions (the engine's, valid until its next scan).
Result<const std::vector<DecisionEngine::Entry>*> decided_scan(SocketScanner& scanner, const ScanQuery& query,
                                                               DecisionEngine& engine,
                                                               const DecidedScanHooks& hooks = {});

}  // namespace tcpreap
