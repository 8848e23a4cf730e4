#include "config/yaml_reader.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <exception>
#include <map>
#include <sstream>
#include <utility>

#include "config/alias_expansion.h"
#include "config/duration.h"
#include "config/edit_distance.h"
#include "config/yaml_prescreen.h"
#include "core/message_text.h"

namespace tcpreap::yaml {

namespace {

std::string join_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// Notes where each document's content starts; a document of nothing (a
// trailing `---`) has none.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> content;  // of the last document handled

  void OnDocumentStart(const YAML::Mark&) override { content.reset(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { note(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { note(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& m) {
    if (!content) content = m;
  }
};

}  // namespace

Pos pos_of(const YAML::Mark& m) {
  if (m.is_null() || m.line < 0 || m.column < 0) return {};
  return {m.line + 1, m.column + 1};  // yaml-cpp counts from 0
}

Pos pos_of(const YAML::Node& n, Pos fallback) {
  if (n.IsNull()) return fallback;
  const Pos p = pos_of(n.Mark());
  return p.line == 0 ? fallback : p;
}

std::string at_line(Pos p) { return "line " + std::to_string(p.line) + ":" + std::to_string(p.column); }

std::string got(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return quoted_text(n.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

Value Value::item(const YAML::Node& n, size_t i) const {
  return Value{n, path + "[" + std::to_string(i) + "]", pos_of(n, pos)};
}

Value Value::member(const YAML::Node& n, std::string_view name, Pos key) const {
  return Value{n, join_path(path, name), pos_of(n, key)};
}

void Fields::add(std::string_view canonical, Value v, Pos key) {
  fields_.push_back(Field{canonical, std::move(v), key});
}

const Value* Fields::get(std::string_view canonical) const {
  const Field* f = find(canonical);
  return f ? &f->value : nullptr;
}

Pos Fields::key_pos(std::string_view canonical) const {
  const Field* f = find(canonical);
  return f ? f->key : Pos{};
}

const Fields::Field* Fields::find(std::string_view canonical) const {
  for (const Field& f : fields_)
    if (f.name == canonical) return &f;
  return nullptr;
}

void YamlReader::read_document(std::string_view yaml, const std::function<void(const YAML::Node& root)>& walk) {
  if (yaml.size() > kMaxConfigBytes) {
    error(Pos{}, "the file is larger than 1 MiB; a config is a page of YAML (is it the right file?)");
  } else if (auto control = control_character(yaml)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", control->byte);
    error(Pos{control->mark.line, control->mark.column},
          std::string("control character ") + hex + " in the file; a config is text");
  } else if (auto deep = nesting_too_deep(yaml)) {
    error(Pos{deep->line, deep->column}, "nested deeper than " + std::to_string(kMaxConfigNesting) + " levels");
  } else if (auto alias = alias_problem(yaml)) {
    error(Pos{alias->mark.line, alias->mark.column}, alias->message);
  } else {
    // yaml-cpp throws: while parsing, and on any misuse of a node. Either
    // way its exception ends here, with what was found before it.
    try {
      const std::string text(yaml);
      const YAML::Node root = YAML::Load(text);
      // Is there a second document? Asked of the parser directly, at most
      // twice: LoadAll would read every document, however many a broken
      // stream seems to hold.
      std::istringstream in(text);
      YAML::Parser parser(in);
      DocumentStarts starts;
      if (parser.HandleNextDocument(starts) && parser.HandleNextDocument(starts) && starts.content)
        error(pos_of(*starts.content), "a second YAML document; the config is one document");
      walk(root);
    } catch (const YAML::ParserException& e) {
      error(pos_of(e.mark), "invalid YAML: " + e.msg);
    } catch (const YAML::Exception& e) {
      error(pos_of(e.mark), "cannot read the YAML: " + e.msg);
    } catch (const std::exception& e) {
      error(Pos{}, std::string("cannot read the YAML: ") + e.what());
    }
  }
}

std::vector<ConfigDiagnostic> YamlReader::take_diagnostics() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigDiagnostic& a, const ConfigDiagnostic& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  return std::move(errors_);
}

void YamlReader::error(Pos p, const std::string& message) {
  errors_.push_back(ConfigDiagnostic{file_, p.line, p.column, printable(message)});
}

void YamlReader::error(const Value& v, const std::string& message) { error(v.pos, v.path + ": " + message); }

void YamlReader::type_error(const Value& v, std::string_view expected) {
  error(v, "expected " + std::string(expected) + ", got " + got(v.node));
}

Fields YamlReader::fields(const Value& map, std::span<const KeySpec> keys, const std::string& where) {
  Fields out;
  std::map<std::string_view, std::pair<std::string, Pos>> first;  // canonical -> as written, where
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    const YAML::Node key = it->first;
    const Pos key_pos = pos_of(key, map.pos);
    if (!key.IsScalar()) {
      error(key_pos, map.path + (map.path.empty() ? "" : ": ") + "expected a key name, got " + got(key));
      continue;
    }
    const std::string& name = key.Scalar();
    const KeySpec* spec = nullptr;
    for (const KeySpec& k : keys)
      if (k.name == name) spec = &k;
    if (spec == nullptr) {
      unknown_key(name, key_pos, keys, where);
      continue;
    }
    const std::string_view canonical = spec->canonical_name();
    if (auto seen = first.find(canonical); seen != first.end()) {
      const auto& [written, at] = seen->second;
      if (written == name)
        error(key_pos, "duplicate key " + quoted_text(name) + " (first at " + at_line(at) + ")");
      else
        error(key_pos, "duplicate key " + quoted_text(name) + " (" + quoted_text(written) +
                           " is the same key, first at " + at_line(at) + ")");
      continue;
    }
    first.emplace(canonical, std::pair(name, key_pos));
    out.add(canonical, map.member(it->second, name, key_pos), key_pos);
  }
  return out;
}

void YamlReader::unknown_key(const std::string& name, Pos at, std::span<const KeySpec> keys,
                             const std::string& where) {
  std::vector<std::string_view> names;
  for (const KeySpec& k : keys) names.push_back(k.name);
  std::string message = "unknown key " + quoted_text(name) + " " + where;
  if (auto near = nearest_within_reach(name, names)) {
    message += " (did you mean '" + std::string(*near) + "'?)";
  } else {
    std::string known;
    for (const KeySpec& k : keys)
      if (k.canonical.empty()) known += (known.empty() ? "" : ", ") + std::string(k.name);
    message += " (known: " + known + ")";
  }
  error(at, message);
}

std::optional<Fields> YamlReader::section(const Value& v, std::span<const KeySpec> keys) {
  if (v.node.IsNull()) return Fields{};
  if (!v.node.IsMap()) {
    type_error(v, "a map");
    return std::nullopt;
  }
  return fields(v, keys, "in " + v.path);
}

std::optional<std::vector<Value>> YamlReader::items(const Value& v, std::string_view item) {
  std::vector<Value> out;
  if (v.node.IsScalar()) {
    out.push_back(v);
    return out;
  }
  if (!v.node.IsSequence()) {
    type_error(v, std::string(item) + " or a list of them");
    return std::nullopt;
  }
  if (v.node.size() == 0) {
    error(v, "[] matches nothing");
    return std::nullopt;
  }
  size_t i = 0;
  for (auto it = v.node.begin(); it != v.node.end(); ++it, ++i) out.push_back(v.item(*it, i));
  return out;
}

std::optional<std::string> YamlReader::scalar(const Value& v, std::string_view what) {
  if (v.node.IsScalar()) return v.node.Scalar();
  type_error(v, what);
  return std::nullopt;
}

std::optional<Duration> YamlReader::duration(const Value& v, Duration min, Duration max, std::string_view why_min) {
  auto text = scalar(v, "a duration (500ms, 30s, 5m, 1h30m)");
  if (!text) return std::nullopt;
  auto d = parse_duration(*text);
  if (!d) {
    error(v, d.error().message());
    return std::nullopt;
  }
  if (*d > max) {
    error(v, quoted_text(*text) + " is too long (at most " + format_duration(max) + ")");
    return std::nullopt;
  }
  if (*d < min) {
    if (min == Duration(1))
      error(v, "must be more than 0, got " + quoted_text(*text));
    else
      error(v, quoted_text(*text) + " is too short (at least " + format_duration(min) +
                   (why_min.empty() ? "" : ": " + std::string(why_min)) + ")");
    return std::nullopt;
  }
  return *d;
}

std::optional<uint32_t> YamlReader::count(const Value& v, uint32_t max) {
  auto text = scalar(v, "a whole number");
  if (!text) return std::nullopt;
  const std::string& s = *text;
  const bool negative = !s.empty() && s[0] == '-';
  const std::string_view digits = std::string_view(s).substr(negative ? 1 : 0);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    type_error(v, "a whole number");
    return std::nullopt;
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  (void)end;
  if (max < std::numeric_limits<uint32_t>::max() &&
      (negative || n == 0 || ec == std::errc::result_out_of_range || n > max)) {
    error(v, "must be from 1 to " + std::to_string(max) + ", got " +
                 (s.size() <= kMaxQuotedLength ? s : quoted_text(s)));
    return std::nullopt;
  }
  if (negative || (n == 0 && ec != std::errc::result_out_of_range)) {
    error(v, "must be at least 1, got " + s);
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || n > std::numeric_limits<uint32_t>::max()) {
    error(v, quoted_text(s) + " is too large (at most " + std::to_string(std::numeric_limits<uint32_t>::max()) + ")");
    return std::nullopt;
  }
  return static_cast<uint32_t>(n);
}

std::optional<bool> YamlReader::boolean(const Value& v) {
  auto text = scalar(v, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  std::string lower = *text;
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  for (const char* yaml11 : {"yes", "no", "on", "off", "y", "n", "true", "false"}) {
    if (lower == yaml11) {
      error(v, "write true or false, not " + quoted_text(*text));
      return std::nullopt;
    }
  }
  type_error(v, "true or false");
  return std::nullopt;
}

}  // namespace tcpreap::yaml
