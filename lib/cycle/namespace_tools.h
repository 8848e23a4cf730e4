#pragma once
// What one network namespace's turn works with - the SOCK_DIAG scanner, the
// reaper (SOCK_DESTROY socket, RST injector) and the prober - every socket of
// them made in that namespace by one SocketMaker, reopens included, and used
// for that namespace only. Dropping the tools closes every one of them (and
// the maker's hold on the namespace) before the destructor returns.
// Not thread-safe.

#include <optional>
#include <string>

#include "config/config.h"
#include "cycle/cycle_options.h"
#include "diag/socket_scanner.h"
#include "netns/dump_families.h"
#include "netns/socket_maker.h"
#include "reap/reaper.h"
#include "verify/liveness_prober.h"

namespace tcpreap {

class NamespaceTools {
 public:
  // Opens the scanner, the reaper (unless a dry run) and the prober (when
  // some policy verifies: CAP_NET_RAW) with `maker`.
  static Result<NamespaceTools> open(const Config& config, const CycleOptions& options, SocketMaker maker);

  NamespaceTools(NamespaceTools&&) noexcept = default;
  NamespaceTools& operator=(NamespaceTools&&) noexcept = default;

  // What a new config needs opened: a prober if it is the first to verify,
  // a reaper if it is the first not to be a dry run or changes the method.
  // Prepared for every namespace first, committed only when all could open.
  struct Reload {
    std::optional<LivenessProber> prober;
    std::string prober_unavailable;
    std::optional<Reaper> reaper;
    ReapMethod reaper_method = ReapMethod::kAuto;
  };
  Result<Reload> prepare_reload(const Config& config) const;
  void commit_reload(Reload reload);

  SocketScanner& scanner() { return scanner_; }
  // The families a dump of `states` here must be made for: those the
  // kernel's per-namespace counters do not find empty (netns/dump_families.h;
  // none: nothing to dump at all). Both when the counters could not be
  // opened or read.
  DumpFamilies families_to_dump(StateSet states) const { return gate_.families_to_dump(states); }
  // Null in a dry run.
  Reaper* reaper() { return reaper_ ? &*reaper_ : nullptr; }
  // Null when no policy verifies, or it could not open (prober_unavailable()).
  LivenessProber* prober() { return prober_ ? &*prober_ : nullptr; }
  const std::string& prober_unavailable() const { return prober_unavailable_; }
  // Whether RST injection could be used here (CAP_NET_RAW), whatever the
  // method and even in a dry run.
  bool rst_available() const;
  // Said once (see ReapCycle::take_notice()).
  std::optional<std::string> take_notice();
  const SocketMaker& maker() const { return maker_; }

 private:
  NamespaceTools(CycleOptions options, SocketMaker maker, SocketScanner scanner, FamilyDumpGate gate)
      : options_(std::move(options)),
        maker_(std::move(maker)),
        scanner_(std::move(scanner)),
        gate_(std::move(gate)) {}

  CycleOptions options_;
  SocketMaker maker_;
  SocketScanner scanner_;
  FamilyDumpGate gate_;  // without counters: every turn dumps both families
  std::optional<Reaper> reaper_;
  ReapMethod reaper_method_ = ReapMethod::kAuto;  // what reaper_ was opened for
  std::optional<LivenessProber> prober_;
  std::string prober_unavailable_;
  std::string prober_note_;  // LivenessProber::open_note(), until taken
};

}  // namespace tcpreap
