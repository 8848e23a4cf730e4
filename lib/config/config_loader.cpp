#include "config/config_loader.h"

#include <utility>

#include "config/config_schema.h"
#include "config/yaml_reader.h"

namespace tcpreap {

std::string ConfigDiagnostic::to_string() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

ConfigLoad load_config_text(std::string_view yaml, std::string_view file_name) {
  yaml::YamlReader reader(file_name);
  Config config;
  reader.read_document(yaml, [&](const YAML::Node& root) { config = read_config(root, reader); });
  ConfigLoad out;
  if (reader.error_count() == 0) {
    config.source = file_name;
    out.config = std::move(config);
  } else {
    out.errors = reader.take_diagnostics();
  }
  return out;
}

}  // namespace tcpreap
