#include "tcpreap/command_capabilities.h"

#include "privilege/capabilities.h"

namespace tcpreap {

std::optional<int> keep_only_capabilities(uint64_t keep, const ProgramMessages& say) {
  if (auto dropped = drop_capabilities(keep); !dropped) return say.failed(dropped.error().message());
  return std::nullopt;
}

}  // namespace tcpreap
