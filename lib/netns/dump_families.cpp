#include "netns/dump_families.h"

namespace tcpreap {

DumpFamilies families_to_dump(StateSet states, const Result<TcpInUse>& counts) {
  if (!in_use_counts(states) || !counts.ok()) return DumpFamilies::both();
  return {counts->ipv4 != 0, counts->ipv6 != 0};
}

FamilyDumpGate FamilyDumpGate::open(const SocketMaker& maker) {
  auto count = maker.foreign() ? TcpSocketCount::open_in(maker.netns_fd()) : TcpSocketCount::open_here();
  if (!count.ok()) return FamilyDumpGate(std::nullopt);
  return FamilyDumpGate(std::move(*count));
}

DumpFamilies FamilyDumpGate::families_to_dump(StateSet states) const {
  // The read costs a few microseconds: not made when it cannot matter.
  if (!count_ || !in_use_counts(states)) return DumpFamilies::both();
  return tcpreap::families_to_dump(states, count_->in_use_by_family());
}

}  // namespace tcpreap
