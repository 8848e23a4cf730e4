#pragma once
// YAML aliases, weighed before the config is read. yaml-cpp loads an alias
// as a second reference to its anchor's node, so a file of a few hundred
// KiB can stand for billions of nodes ("billion laughs"): cheap to load,
// endless to read. Whoever reads the document walks what the aliases stand
// for, so it is refused when they stand for too much, and when an alias
// names the node it sits in (a cycle no walk ends).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace tcpreap {

// A config is a page of YAML: a few aliases of a port list or a match, a
// few hundred nodes. What aliases add beyond what is written is capped far
// above that and far below what takes a reader noticeable time.
inline constexpr uint64_t kMaxAliasExpansion = 100'000;

struct AliasProblem {
  SourceMark mark;      // of the alias that crossed the line
  std::string message;  // without the place
};

// The first alias that makes the document's aliases stand for more than
// `limit` nodes in all, or that names a node still open around it.
// Nothing for text without such an alias, and for text the parser
// refuses (the loader's own parse reports that, with its place).
std::optional<AliasProblem> alias_problem(std::string_view text, uint64_t limit = kMaxAliasExpansion);

}  // namespace tcpreap
