#pragma once
// What the loader can tell of namespace globs before any namespace exists:
// whether a list of them can name the daemon's own namespace. Its name is
// always "host"; its identity ("net:[<ino>]") is known only at run time.

#include <span>
#include <string>
#include <string_view>

namespace tcpreap {

// Whether `glob` may match some identity "net:[<digits>]" (as
// netns_name_match.h matches): false only when it certainly cannot. A glob
// is read up to the end of "net:[": a '*' or a set may match there, and
// what follows is not looked at.
bool may_match_an_identity(std::string_view glob);

// Whether a glob of `globs` matches "host" or may match its identity: false
// only when the host namespace is certainly not among those they name.
bool may_name_host(std::span<const std::string> globs);

}  // namespace tcpreap
