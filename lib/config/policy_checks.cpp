#include "config/policy_checks.h"

#include <algorithm>
#include <map>

#include "core/message_text.h"

namespace tcpreap {

namespace {

// Whether a policy restricted to the globs `earlier` surely applies wherever
// one restricted to `later` does: `earlier` is unrestricted, or holds the
// same globs. Globs that overlap otherwise ("cni-*" and "cni-1") depend on
// names no loader knows, and are not claimed.
bool applies_wherever(std::vector<std::string> earlier, std::vector<std::string> later) {
  if (earlier.empty()) return true;
  std::sort(earlier.begin(), earlier.end());
  earlier.erase(std::unique(earlier.begin(), earlier.end()), earlier.end());
  std::sort(later.begin(), later.end());
  later.erase(std::unique(later.begin(), later.end()), later.end());
  return earlier == later;
}

}  // namespace

void check_across_policies(std::span<PolicySeen> policies, yaml::YamlReader& reader) {
  std::map<std::string, yaml::Pos> names;  // name -> where first given
  for (PolicySeen& p : policies) {
    if (!p.name) continue;
    auto [first, inserted] = names.emplace(*p.name, p.pos);
    if (!inserted) {
      reader.error(p.pos, "duplicate policy name " + quoted_text(*p.name) + " (first at " +
                              yaml::at_line(first->second) + ")");
      p.name.reset();
    }
  }
  for (size_t b = 0; b < policies.size(); ++b) {
    if (!policies[b].name || !policies[b].match) continue;
    for (size_t a = 0; a < b; ++a) {
      if (!policies[a].name || !policies[a].match) continue;
      if (policies[b].match->is_covered_by(*policies[a].match) &&
          applies_wherever(policies[a].namespaces, policies[b].namespaces)) {
        reader.error(policies[b].pos, "policy " + quoted_text(*policies[b].name) + " can never decide: policy " +
                                          quoted_text(*policies[a].name) + " (line " +
                                          std::to_string(policies[a].pos.line) + ") matches every socket it does");
        break;
      }
    }
  }
}

}  // namespace tcpreap
