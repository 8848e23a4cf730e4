#pragma once
// Compiles a SocketFilter's port and prefix groups to the kernel's inet_diag
// filter bytecode (INET_DIAG_REQ_BYTECODE), so sockets that do not match
// never cross into user space. States and families are not bytecode: they
// go in idiag_states and in the choice of dumps.

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "filter/socket_filter.h"

namespace tcpreap {

// The program, empty when the filter has no groups (no bytecode needed).
// Fails when the program would exceed what a netlink attribute can carry.
Result<std::vector<uint8_t>> compile_bytecode(const SocketFilter& filter);

}  // namespace tcpreap
