#pragma once
// Loading the config file for a command: on failure every diagnostic goes to
// stderr as file:line:column: message, and the command exits 78 (EX_CONFIG).

#include <optional>
#include <string>

#include "config/config.h"

namespace tcpreap {

std::optional<Config> load_config_or_report(const std::string& path, const char* command);

}  // namespace tcpreap
