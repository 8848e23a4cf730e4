#include "netns/netns_name_match.h"

#include <fnmatch.h>

namespace tcpreap {

bool name_matches(std::string_view text, std::span<const std::string> globs) {
  if (globs.empty()) return false;
  const std::string subject(text);  // fnmatch needs the terminating NUL
  for (const std::string& glob : globs)
    if (glob == subject || ::fnmatch(glob.c_str(), subject.c_str(), 0) == 0) return true;
  return false;
}

bool netns_matches(std::string_view name, const NetnsId& id, std::span<const std::string> globs) {
  return name_matches(name, globs) || name_matches(id.to_string(), globs);
}

}  // namespace tcpreap
