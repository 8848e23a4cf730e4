#include "core/error.h"

#include <cstring>

namespace tcpreap {

std::string Error::message() const {
  if (errnum_ == 0) return context_;
  return context_ + ": " + std::strerror(errnum_);
}

}  // namespace tcpreap
