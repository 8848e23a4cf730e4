#pragma once
// Whether a network namespace is one a policy means: the globs of `exclude`
// and `match.namespaces` against the namespace's name and its identity.

#include <span>
#include <string>
#include <string_view>

#include "netns/netns_identity.h"

namespace tcpreap {

// True when a glob of `globs` matches `text`: fnmatch(3) with no flags, so
// '*' and '?' match any character ('/' included) and "[...]" is a set. A
// glob equal to `text` always matches, brackets and all: "net:[4026532174]"
// names that identity rather than a one-character set. No glob, no match.
bool name_matches(std::string_view text, std::span<const std::string> globs);

// True when a glob of `globs` matches the namespace's `name` or its identity
// ("net:[<ino>]", NetnsId::to_string()).
bool netns_matches(std::string_view name, const NetnsId& id, std::span<const std::string> globs);

}  // namespace tcpreap
