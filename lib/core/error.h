#pragma once
// The one error convention of lib/: functions return Result<T>; only the
// programs (daemon/) print errors and choose exit codes.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace tcpreap {

// What failed and why. `errnum` is the errno behind the failure, or 0 when
// there is none (a malformed message, a bad argument).
class Error {
 public:
  Error(int errnum, std::string context) : errnum_(errnum), context_(std::move(context)) {}

  int errnum() const { return errnum_; }
  const std::string& context() const { return context_; }
  // "context: strerror(errnum)", or just the context when errnum is 0.
  std::string message() const;

  // Prefixes the context with the caller's view: "dumping IPv4 sockets: " + context.
  Error wrap(const std::string& outer) const { return Error(errnum_, outer + ": " + context_); }

 private:
  int errnum_;
  std::string context_;
};

// Either a T or an Error. Cheap to move; allocates only on the error path.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};

// A Result with no value: success or an Error.
using Status = Result<Ok>;

}  // namespace tcpreap
