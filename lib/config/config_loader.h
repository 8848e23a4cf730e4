#pragma once
// Reads the YAML config (every key is documented in config/tcpreap.yaml) into
// a validated Config, or says everything wrong with the file, each problem at
// its file:line:column. Never throws: yaml-cpp's exceptions stop here.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace tcpreap {

// One problem in a config file.
struct ConfigDiagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when the problem has no place (an unreadable file)
  int column = 0;  // 1-based
  std::string message;

  // "file:line:column: message", or "file: message" when line is 0.
  std::string to_string() const;
  bool operator==(const ConfigDiagnostic&) const = default;
};

// Either a whole valid config or every error found (in file order), never a
// config with errors and never neither.
struct ConfigLoad {
  std::optional<Config> config;
  std::vector<ConfigDiagnostic> errors;
};

// `file_name` goes into the diagnostics and Config::source.
ConfigLoad load_config_text(std::string_view yaml, std::string_view file_name);
// An unreadable file gives one diagnostic naming the path and the errno text.
ConfigLoad load_config_file(const std::string& path);

inline constexpr const char* kDefaultConfigPath = "/etc/tcpreap/tcpreap.yaml";

// A config is a page of YAML; anything past 1 MiB is the wrong file.
inline constexpr size_t kMaxConfigBytes = size_t{1} << 20;
// A valid config nests 5 levels deep (policies, a policy, match, a list);
// text nested deeper than this is refused before yaml-cpp, which recurses
// once per level, sees it.
inline constexpr int kMaxConfigNesting = 64;

}  // namespace tcpreap
