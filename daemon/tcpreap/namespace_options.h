#pragma once
// -A/--all-namespaces and --netns NAME, as `tcpreap list`, `reap` and `kill`
// take them, and the network namespaces they stand for.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "netns/namespace_info.h"
#include "netns/netns_discovery.h"
#include "netns/socket_maker.h"
#include "program/program_messages.h"

namespace tcpreap {

struct NamespaceChoice {
  enum class Mode : uint8_t {
    kOwn,  // neither option: the namespace tcpreap runs in, as always
    kAll,  // -A: every namespace discovery finds, but the config's namespaces.exclude
    kOne,  // --netns NAME (netns/netns_lookup.h)
  };
  Mode mode = Mode::kOwn;
  std::string name;  // kOne

  // -A or --netns: the output names each socket's namespace.
  bool named() const { return mode != Mode::kOwn; }
  // What entering other namespaces takes (CAP_SYS_ADMIN, CAP_SYS_PTRACE)
  // when -A or --netns is given; 0 otherwise.
  uint64_t capabilities() const;
};

// Records -A, or --netns NAME. nullopt, or the usage error's exit code
// (said on stderr): -A and --netns together, or --netns twice.
std::optional<int> choose_all_namespaces(NamespaceChoice& choice, const ProgramMessages& say);
std::optional<int> choose_namespace(NamespaceChoice& choice, const char* name, const ProgramMessages& say);

// One namespace to work in: how it is shown, and where its sockets are made
// (SocketMaker::here() for the own, in() on its descriptor for another).
struct TargetNamespace {
  NamespaceInfo info;
  SocketMaker maker;
};

// The entry as a target; the maker of another namespace holds its descriptor.
TargetNamespace target_of(NetnsEntry entry);

// The one namespace --netns names (find_network_namespace).
Result<TargetNamespace> named_namespace(const std::string& name);

// Every namespace of the host (discover_namespaces). What discovery could
// not read is said on stderr (namespaces only reachable that way are missed).
Result<DiscoveredNamespaces> discover_all(const ProgramMessages& say);

// "skipping network namespace LABEL: WHY" on stderr: one namespace of -A
// that could not be entered or scanned.
void say_skipped(const NamespaceInfo& info, const Error& why, const ProgramMessages& say);

}  // namespace tcpreap
