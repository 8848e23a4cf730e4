#pragma once
// The YAML reading layer under the config loader: where each node was
// written, values named by their path, the known keys of a map, typed
// scalars, and the diagnostics they give. What the config's sections and keys
// are is config_schema.h's business; this layer knows none of them.
//
// Internal to lib/config: the one lib/ header that shows yaml-cpp. yaml-cpp
// throws (while parsing, and on any misuse of a node); read_document()
// catches it, so nothing built on this layer throws past it.
//
// Not thread-safe; one YamlReader reads one file.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/config_loader.h"
#include "core/error.h"

namespace tcpreap::yaml {

// Longer than a year is a typo; it also keeps every duration far from the
// overflow of the microsecond clocks the daemon adds them to.
inline constexpr Duration kMaxDuration = std::chrono::hours(24 * 365);

// A 1-based place in the file; line 0 for none.
struct Pos {
  int line = 0;
  int column = 0;
};

Pos pos_of(const YAML::Mark& m);
// Where a node was written. yaml-cpp marks an empty value (`key:` and
// nothing) at the next token, so empty values point at `fallback`: their key.
Pos pos_of(const YAML::Node& n, Pos fallback);
// "line 3:5", for "first at ..." in messages.
std::string at_line(Pos p);
// What was found where something else was expected: 'text', "a list",
// "a map" or "nothing".
std::string got(const YAML::Node& n);

// A value and where it came from: `path` names it in messages
// ("policies[0].match.local_ports[1]").
struct Value {
  YAML::Node node;
  std::string path;
  Pos pos;

  // Item `i` of this sequence: "path[i]", placed where it was written.
  Value item(const YAML::Node& n, size_t i) const;
  // The value of key `name` in this map, whose key was written at `key`.
  Value member(const YAML::Node& n, std::string_view name, Pos key) const;
};

// A key a map accepts. An alias (`local_port`) stands for its canonical key
// (`local_ports`); messages list only the canonical ones.
struct KeySpec {
  std::string_view name;
  std::string_view canonical;  // empty: the key is canonical
  std::string_view canonical_name() const { return canonical.empty() ? name : canonical; }
};

// The known keys of one map, by canonical name, first occurrence only.
class Fields {
 public:
  void add(std::string_view canonical, Value v, Pos key);
  // Null when the key is absent.
  const Value* get(std::string_view canonical) const;
  // Where the key itself was written: a block map's value starts on the
  // line below it. Line 0 when the key is absent.
  Pos key_pos(std::string_view canonical) const;
  bool empty() const { return fields_.empty(); }

 private:
  struct Field {
    std::string_view name;  // canonical: points into a KeySpec
    Value value;
    Pos key;
  };
  const Field* find(std::string_view canonical) const;
  std::vector<Field> fields_;
};

// Reads one file's YAML and collects what is wrong with it. Each reading
// function either returns the value or reports why not (and returns
// nothing): callers that must know whether a whole block read cleanly
// compare error_count() before and after.
class YamlReader {
 public:
  explicit YamlReader(std::string_view file) : file_(file) {}

  // Refuses what would make yaml-cpp misbehave (too large, a control
  // character, nesting too deep, alias trouble: yaml_prescreen.h), parses
  // one document, and hands its root to `walk`. A second document is an
  // error; the first is still walked. Whatever yaml-cpp throws, here or in
  // `walk`, ends as a diagnostic.
  void read_document(std::string_view yaml, const std::function<void(const YAML::Node& root)>& walk);

  // Everything reported, in file order (ties in the order reported).
  std::vector<ConfigDiagnostic> take_diagnostics();
  size_t error_count() const { return errors_.size(); }

  // "message" at `p`; control characters in it become '?'.
  void error(Pos p, const std::string& message);
  // "path: message" at the value.
  void error(const Value& v, const std::string& message);
  // "path: expected <expected>, got <what it is>".
  void type_error(const Value& v, std::string_view expected);

  // The known keys of a map; reports unknown keys (suggesting the nearest
  // known one) and repeated ones. `where` ends the unknown-key message:
  // "in scan", "at the top level".
  Fields fields(const Value& map, std::span<const KeySpec> keys, const std::string& where);
  // A section: a map, or empty (`scan:` with its keys commented out).
  std::optional<Fields> section(const Value& v, std::span<const KeySpec> keys);

  // The items of a list: a sequence, or one scalar standing alone. An empty
  // sequence is an error ("[] matches nothing"). `item` says what one is.
  std::optional<std::vector<Value>> items(const Value& v, std::string_view item);
  // Each item of a list (items()) read from its text by `parse`; an item it
  // refuses is reported with parse's message and left out. Empty for no list.
  template <typename T>
  std::vector<T> parsed_items(const Value* list, std::string_view item, Result<T> (*parse)(std::string_view));

  // The text of a scalar, or "expected <what>, got ...". Quoted or not is
  // all one: "5" is 5, "true" is true.
  std::optional<std::string> scalar(const Value& v, std::string_view what);
  // A duration (duration.h) in [min, max]; `why_min`, if given, says why
  // the minimum. A minimum of 1 ms reads "must be more than 0".
  std::optional<Duration> duration(const Value& v, Duration min, Duration max = kMaxDuration,
                                   std::string_view why_min = {});
  // A whole number from 1 to `max` (at most 2^32-1).
  std::optional<uint32_t> count(const Value& v, uint32_t max = std::numeric_limits<uint32_t>::max());
  // Only `true` and `false`: YAML 1.1's yes/no/on/off read differently in
  // different parsers, and a reaper's dry_run must not be one of them.
  std::optional<bool> boolean(const Value& v);

 private:
  void unknown_key(const std::string& name, Pos at, std::span<const KeySpec> keys, const std::string& where);

  std::string file_;
  std::vector<ConfigDiagnostic> errors_;
};

template <typename T>
std::vector<T> YamlReader::parsed_items(const Value* list, std::string_view item,
                                        Result<T> (*parse)(std::string_view)) {
  std::vector<T> out;
  if (!list) return out;
  auto values = items(*list, item);
  if (!values) return out;
  for (const Value& v : *values) {
    auto text = scalar(v, item);
    if (!text) continue;
    Result<T> r = parse(*text);
    if (r)
      out.push_back(std::move(*r));
    else
      error(v, r.error().message());
  }
  return out;
}

}  // namespace tcpreap::yaml
