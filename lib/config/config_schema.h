#pragma once
// The config's sections and keys (each documented in config/tcpreap.yaml and
// tcpreap.yaml(5)): what every key accepts, its default and its limits.

#include "config/config.h"
#include "config/yaml_reader.h"

namespace tcpreap {

// Reads the document `root` into a Config, reporting each problem to
// `reader`. The Config is whole and valid only when nothing was reported;
// otherwise it is partly filled, for the caller to drop. yaml-cpp may throw
// on the way: call it from YamlReader::read_document's walk, which catches.
Config read_config(const YAML::Node& root, yaml::YamlReader& reader);

}  // namespace tcpreap
