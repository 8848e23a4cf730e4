#include "support/privileges.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "support/command.h"

namespace tcpreap::test {

std::optional<std::string> missing_privileges() {
  if (::geteuid() != 0) return "kernel test needs root (network namespaces, veth, nftables)";
  for (const char* program : {"ip", "nft"})
    if (find_program(program).empty()) return std::string("kernel test needs '") + program + "' (not found)";
  return std::nullopt;
}

bool integration_required() {
  const char* v = std::getenv("TCPREAP_REQUIRE_INTEGRATION");
  return v && std::strcmp(v, "1") == 0;
}

}  // namespace tcpreap::test
