#include "config/namespace_names.h"

#include "netns/netns_name_match.h"

namespace tcpreap {

bool may_match_an_identity(std::string_view glob) {
  constexpr std::string_view kIdentityStart = "net:[";
  size_t g = 0;
  for (char want : kIdentityStart) {
    if (g == glob.size()) return false;  // the glob ends where an identity goes on
    const char c = glob[g++];
    // A star matches the rest. A '[' opens a set (fnmatch), or is the
    // identity's own bracket written out (a glob equal to the text always
    // matches): either way it may take this character, and what comes
    // after is beyond a cheap reading.
    if (c == '*' || c == '[') return true;
    if (c == '?') continue;
    char literal = c;
    if (c == '\\' && g < glob.size()) literal = glob[g++];  // fnmatch's escape, no FNM_NOESCAPE
    if (literal != want) return false;
  }
  return true;  // "net:[" itself: the digits and ']' may follow
}

bool may_name_host(std::span<const std::string> globs) {
  if (name_matches("host", globs)) return true;
  for (const std::string& glob : globs)
    if (may_match_an_identity(glob)) return true;
  return false;
}

}  // namespace tcpreap
