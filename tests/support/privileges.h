#pragma once
// Kernel tests need root (network namespaces, veths, nftables). Without it
// they skip, unless TCPREAP_REQUIRE_INTEGRATION=1 (CI) makes that a failure:
// a suite that passes by skipping proves nothing.

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace tcpreap::test {

// Why kernel tests cannot run here (not root, `ip` or `nft` missing), or
// nothing when they can.
std::optional<std::string> missing_privileges();

// Whether TCPREAP_REQUIRE_INTEGRATION=1 is set.
bool integration_required();

}  // namespace tcpreap::test

// In a test body or SetUp(): skip the test (or fail it, under
// TCPREAP_REQUIRE_INTEGRATION=1) when kernel tests cannot run here.
#define TCPREAP_REQUIRE_ROOT()                                                                       \
  do {                                                                                               \
    if (auto tcpreap_why_ = ::tcpreap::test::missing_privileges()) {                                 \
      if (::tcpreap::test::integration_required())                                                   \
        GTEST_FAIL() << *tcpreap_why_ << " (and TCPREAP_REQUIRE_INTEGRATION=1 forbids skipping)";    \
      else                                                                                           \
        GTEST_SKIP() << *tcpreap_why_ << " (set TCPREAP_REQUIRE_INTEGRATION=1 to fail instead)";     \
    }                                                                                                \
  } while (0)
