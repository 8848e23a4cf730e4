#include "config/config.h"

namespace tcpreap {

const char* reap_method_name(ReapMethod m) {
  switch (m) {
    case ReapMethod::kAuto:
      return "auto";
    case ReapMethod::kDestroy:
      return "destroy";
    case ReapMethod::kRst:
      return "rst";
  }
  return "?";
}

std::optional<ReapMethod> parse_reap_method(std::string_view name) {
  for (ReapMethod m : {ReapMethod::kAuto, ReapMethod::kDestroy, ReapMethod::kRst})
    if (name == reap_method_name(m)) return m;
  return std::nullopt;
}

SocketFilter Config::scan_filter() const {
  SocketFilter f;
  f.states = StateSet();
  for (const Policy& p : policies) {
    f.states = f.states | p.match.states;
    f.any_clause.push_back(p.match.to_groups());
  }
  return f;
}

}  // namespace tcpreap
