#include "config/yaml_prescreen.h"

#include <algorithm>
#include <cstddef>

#include "config/config_loader.h"

namespace tcpreap {

// Where `text` first nests deeper than kMaxConfigNesting, judged without
// parsing, so that such text is refused with a clear message before yaml-cpp
// recurses into it (its own guard stops near 500 levels with a bare "bad
// file"). Counts open flow brackets plus open block collections: a line's
// indentation opens a level that counts once a "- " entry or a "key:" shows
// it is a collection. Comments, quoted and block scalars are skipped. An
// estimate: exotic text (brackets inside multi-line plain scalars) may count
// deeper than it is, and a sequence written at its key's indentation is not
// counted, so the real depth can reach twice the limit - far below yaml-cpp's
// guard, which stays behind this one.
std::optional<SourceMark> nesting_too_deep(std::string_view text) {
  struct Level {
    size_t column;
    bool collection;  // seen to be a block sequence or map
  };
  std::vector<Level> levels;                  // the open block nodes, innermost last
  size_t block_depth = 0;                     // how many of `levels` are collections
  int flow = 0;                               // open [ and {
  char quote = 0;                             // '"' or '\'' inside a quoted scalar, which may span lines
  std::optional<size_t> block_scalar_parent;  // indentation of the line that opened a | or > scalar
  constexpr size_t kMax = kMaxConfigNesting;
  auto too_deep = [&] { return block_depth + static_cast<size_t>(flow) > kMax; };
  auto pop = [&] {
    if (levels.back().collection) --block_depth;
    levels.pop_back();
  };
  auto confirm_innermost = [&] {
    if (!levels.empty() && !levels.back().collection) {
      levels.back().collection = true;
      ++block_depth;
    }
  };

  int line_no = 0;
  size_t start = 0;
  while (true) {
    const size_t newline = text.find('\n', start);
    const size_t end = newline == std::string_view::npos ? text.size() : newline;
    const std::string_view line = text.substr(start, end - start);
    ++line_no;
    auto here = [&](size_t column) { return SourceMark{line_no, static_cast<int>(std::min<size_t>(column, 1 << 30)) + 1}; };

    size_t p = 0;
    while (p < line.size() && line[p] == ' ') ++p;
    const size_t indent = p;
    const bool whitespace_only = line.find_first_not_of(" \t\r") == std::string_view::npos;
    bool scan_line = true;
    if (block_scalar_parent) {
      if (whitespace_only || indent > *block_scalar_parent)
        scan_line = false;  // the scalar's text
      else
        block_scalar_parent.reset();
    }
    if (scan_line && quote != 0) p = 0;  // the quoted scalar goes on, spaces and all
    if (scan_line && quote == 0 && flow == 0) {
      if (whitespace_only || line[p] == '#') scan_line = false;
      if (scan_line) {
        while (!levels.empty() && levels.back().column > indent) pop();
        if (levels.empty() || levels.back().column < indent) levels.push_back({indent, false});
        // "- - x", "- ? x": each entry shows a sequence (or complex-key map)
        // and opens a node on the same line.
        while (p < line.size() && (line[p] == '-' || line[p] == '?') &&
               (p + 1 == line.size() || line[p + 1] == ' ' || line[p + 1] == '\r')) {
          confirm_innermost();
          if (too_deep()) return here(p);
          ++p;
          while (p < line.size() && line[p] == ' ') ++p;
          levels.push_back({p, false});
        }
      }
    }
    bool node_start = true;  // a new node may begin here (quoted, flow, block scalar)
    char prev = ' ';
    for (; scan_line && p < line.size(); ++p) {
      const char c = line[p];
      if (quote == '"') {
        if (c == '\\')
          ++p;
        else if (c == '"')
          quote = 0;
        prev = c;
        continue;
      }
      if (quote == '\'') {
        if (c == '\'') {
          if (p + 1 < line.size() && line[p + 1] == '\'')
            ++p;  // '' is a quote inside
          else
            quote = 0;
        }
        prev = c;
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\r') {
        prev = ' ';
        continue;
      }
      if (c == '#' && prev == ' ') break;  // a comment
      if ((c == '[' || c == '{') && (node_start || flow > 0)) {
        ++flow;
        if (too_deep()) return here(p);
        node_start = true;
      } else if ((c == ']' || c == '}') && flow > 0) {
        --flow;
        node_start = false;
      } else if (c == ',' && flow > 0) {
        node_start = true;
      } else if (c == ':' && (flow > 0 || p + 1 == line.size() || line[p + 1] == ' ' || line[p + 1] == '\r')) {
        if (flow == 0) {  // "key:" shows the innermost block node is a map
          confirm_innermost();
          if (too_deep()) return here(levels.back().column);
        }
        node_start = true;
      } else if (node_start && (c == '"' || c == '\'')) {
        quote = c;
        node_start = false;
      } else if (node_start && flow == 0 && (c == '|' || c == '>')) {
        block_scalar_parent = indent;
        break;
      } else if (node_start && (c == '&' || c == '!')) {
        while (p + 1 < line.size() && line[p + 1] != ' ') ++p;  // an anchor or tag before its node
      } else {
        node_start = false;
      }
      prev = c;
    }
    if (newline == std::string_view::npos) return std::nullopt;
    start = newline + 1;
  }
}

// Where `text` holds a character YAML does not allow (C0 controls but tab,
// CR and LF; DEL). yaml-cpp misreads them: on a NUL its LoadAll returns
// empty documents forever.
std::optional<ControlCharacter> control_character(std::string_view text) {
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    } else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
      return ControlCharacter{{line, static_cast<int>(std::min<size_t>(i - line_start, 1 << 30)) + 1}, c};
    }
  }
  return std::nullopt;
}

}  // namespace tcpreap
