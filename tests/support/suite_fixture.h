#pragma once
// A kernel fixture built once per test suite (namespaces and sockets are
// slow to make), owned by value. A failure to build it is kept and reported
// by every test of the suite, instead of aborting the whole binary.

#include <optional>
#include <string>

#include "support/privileges.h"

namespace tcpreap::test {

template <typename Fixture>
class SuiteFixture {
 public:
  // In SetUpTestSuite(): builds the fixture, unless kernel tests cannot run
  // here (then each test's TCPREAP_REQUIRE_ROOT() skips or fails).
  void build() {
    if (missing_privileges()) return;
    try {
      value_.emplace();
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }
  // In TearDownTestSuite(): removes everything the fixture made.
  void reset() {
    value_.reset();
    error_.clear();
  }

  bool ok() const { return value_.has_value(); }
  const std::string& error() const { return error_; }
  Fixture* operator->() { return &*value_; }
  Fixture& operator*() { return *value_; }

 private:
  std::optional<Fixture> value_;
  std::string error_;
};

}  // namespace tcpreap::test

// In SetUp(): skip or fail as TCPREAP_REQUIRE_ROOT() does, then fail when the
// shared fixture could not be built.
#define TCPREAP_REQUIRE_SUITE_FIXTURE(shared)                                          \
  do {                                                                                 \
    TCPREAP_REQUIRE_ROOT();                                                            \
    ASSERT_TRUE((shared).ok()) << "building the suite's fixture: " << (shared).error(); \
  } while (0)
