#include "tcpreap/config_loading.h"

#include <cstdio>

#include "config/config_loader.h"

namespace tcpreap {

std::optional<Config> load_config_or_report(const std::string& path, const char* command) {
  ConfigLoad load = load_config_file(path);
  if (load.config) return std::move(*load.config);
  for (const ConfigDiagnostic& d : load.errors) std::fprintf(stderr, "%s\n", d.to_string().c_str());
  std::fprintf(stderr, "tcpreap %s: %s is not valid (%zu error%s); nothing was done\n", command, path.c_str(),
               load.errors.size(), load.errors.size() == 1 ? "" : "s");
  return std::nullopt;
}

}  // namespace tcpreap
