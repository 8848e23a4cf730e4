// libFuzzer target: arbitrary bytes as the config file's text. Whatever they
// are, the loader must return a config or diagnostics - never crash, throw
// (yaml-cpp's exceptions must stop inside it), recurse without bound or
// return both or neither.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config_loader.h"
#include "config/config_summary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tcpreap::ConfigLoad load = tcpreap::load_config_text(text, "fuzz.yaml");
  if (load.config.has_value() == !load.errors.empty()) std::abort();
  if (load.config) {
    (void)tcpreap::describe(*load.config);
    (void)load.config->scan_filter();
  }
  for (const tcpreap::ConfigDiagnostic& d : load.errors) {
    if (d.message.empty() || d.line < 0 || d.column < 0 || (d.line > 0 && d.column == 0)) std::abort();
    (void)d.to_string();
  }
  return 0;
}
