#pragma once
// Tests own their fds with the library's UniqueFd.

#include "core/unique_fd.h"

namespace tcpreap::test {

using tcpreap::UniqueFd;

}  // namespace tcpreap::test
