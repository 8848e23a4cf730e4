#include "program/command_config.h"

#include <cstdio>

#include "config/config_loader.h"

namespace tcpreap {

std::optional<Config> command_config(const std::string& path, const ProgramMessages& messages) {
  ConfigLoad load = load_config_file(path);
  if (load.config) return std::move(*load.config);
  for (const ConfigDiagnostic& d : load.errors) std::fprintf(stderr, "%s\n", d.to_string().c_str());
  const size_t n = load.errors.size();
  messages.note(path + " is not valid (" + std::to_string(n) + " error" + (n == 1 ? "" : "s") + "); nothing was done");
  return std::nullopt;
}

}  // namespace tcpreap
