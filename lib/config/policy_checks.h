#pragma once
// The checks across policies, made once every policy has been read: what
// no single policy can show wrong on its own.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/match.h"
#include "config/yaml_reader.h"

namespace tcpreap {

// What reading one policy learnt: its name and its match, each when it read
// without errors, the namespaces of its match (Policy::namespaces; read
// with the match), and where the policy starts.
struct PolicySeen {
  std::optional<std::string> name;
  std::optional<Match> match;
  std::vector<std::string> namespaces;
  yaml::Pos pos;
};

// Reports to `reader`, each at the later policy: a name already given
// (that policy's name is then reset, so it takes no part in what follows),
// and a policy an earlier one makes unreachable because the earlier match
// selects every socket it does (Match::is_covered_by) in every namespace
// it applies in. Of namespaces only what needs no names is claimed: the
// earlier policy applies in every namespace, or in those of the same globs.
// Policies without a name or a match are skipped: their own errors are
// reported already.
void check_across_policies(std::span<PolicySeen> policies, yaml::YamlReader& reader);

}  // namespace tcpreap
