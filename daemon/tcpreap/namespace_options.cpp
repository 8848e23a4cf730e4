#include "tcpreap/namespace_options.h"

#include <memory>

#include "cycle/namespace_roster.h"
#include "netns/netns_lookup.h"
#include "privilege/capabilities.h"

namespace tcpreap {

uint64_t NamespaceChoice::capabilities() const { return named() ? namespace_capabilities() : 0; }

std::optional<int> choose_all_namespaces(NamespaceChoice& choice, const ProgramMessages& say) {
  if (choice.mode == NamespaceChoice::Mode::kOne)
    return say.usage_error("-A (--all-namespaces) and --netns exclude each other");
  choice.mode = NamespaceChoice::Mode::kAll;
  return std::nullopt;
}

std::optional<int> choose_namespace(NamespaceChoice& choice, const char* name, const ProgramMessages& say) {
  if (choice.mode == NamespaceChoice::Mode::kAll)
    return say.usage_error("-A (--all-namespaces) and --netns exclude each other");
  if (choice.mode == NamespaceChoice::Mode::kOne) return say.usage_error("--netns may be given once");
  if (*name == '\0') return say.usage_error("--netns needs a namespace name");
  choice.mode = NamespaceChoice::Mode::kOne;
  choice.name = name;
  return std::nullopt;
}

TargetNamespace target_of(NetnsEntry entry) {
  NamespaceInfo info = namespace_info_of(entry);
  if (info.own) return {std::move(info), SocketMaker::here()};
  SocketMaker maker = SocketMaker::in(std::make_shared<const UniqueFd>(std::move(entry.fd)), info.label());
  return {std::move(info), std::move(maker)};
}

Result<TargetNamespace> named_namespace(const std::string& name) {
  auto entry = find_network_namespace(name);
  if (!entry) return entry.error().wrap("--netns");
  return target_of(std::move(*entry));
}

Result<DiscoveredNamespaces> discover_all(const ProgramMessages& say) {
  auto found = discover_namespaces();
  if (!found) return found.error().wrap("finding the network namespaces");
  const SkippedFiles& denied = found->skipped.denied;
  if (denied.count > 0)
    say.note("could not read " + std::to_string(denied.count) + " namespace file(s) (first: " +
             denied.first->message() +
             "); a namespace only those lead to is left out (another user's process needs CAP_SYS_PTRACE)");
  const SkippedFiles& failed = found->skipped.failed;
  if (failed.count > 0)
    say.note("could not open " + std::to_string(failed.count) + " namespace file(s) (first: " +
             failed.first->message() + "); a namespace only those lead to is left out");
  return found;
}

void say_skipped(const NamespaceInfo& info, const Error& why, const ProgramMessages& say) {
  say.note("skipping network namespace " + info.label() + ": " + why.message());
}

}  // namespace tcpreap
