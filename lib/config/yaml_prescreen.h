#pragma once
// Checks on the raw text of a config, before yaml-cpp sees it: what would
// make yaml-cpp misbehave is refused here with a clear message.

#include <optional>
#include <string_view>

#include "config/config.h"

namespace tcpreap {

// Where `text` first nests deeper than kMaxConfigNesting (config_loader.h):
// yaml-cpp recurses once per level.
std::optional<SourceMark> nesting_too_deep(std::string_view text);

struct ControlCharacter {
  SourceMark mark;
  unsigned char byte;
};
// The first character YAML does not allow (C0 controls but tab, CR and LF;
// DEL): on a NUL, yaml-cpp's LoadAll returns empty documents forever.
std::optional<ControlCharacter> control_character(std::string_view text);

}  // namespace tcpreap
