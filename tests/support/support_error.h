#pragma once
// What the support helpers throw when the system refuses. GoogleTest turns an
// exception escaping a test body (or SetUp) into a failure of that test, and
// the unwinding runs every RAII destructor: namespaces and sockets go too.

#include <stdexcept>
#include <string>

namespace tcpreap::test {

struct SupportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws SupportError "what: strerror(errnum)".
[[noreturn]] void throw_errno(const std::string& what, int errnum);

}  // namespace tcpreap::test
