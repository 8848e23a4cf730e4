#pragma once
// What each command may keep of the caller's capabilities. Every command
// gives up the rest once its options are read - they decide what it needs -
// and before it reads a file or the network:
//   list, check   nothing: sockets and files anyone may read
//   reap, kill    CAP_NET_ADMIN (SOCK_DESTROY) and CAP_NET_RAW (RST, probes)
// and with -A or --netns, CAP_SYS_ADMIN (entering another network namespace)
// and CAP_SYS_PTRACE (finding the namespaces of other users' processes).

#include <cstdint>
#include <optional>

#include "program/program_messages.h"

namespace tcpreap {

// Drops every capability but those of `keep` (privilege/capabilities.h:
// drop_capabilities, no_new_privs set too). nullopt when done; else the
// exit code, having said why on stderr.
std::optional<int> keep_only_capabilities(uint64_t keep, const ProgramMessages& say);

}  // namespace tcpreap
