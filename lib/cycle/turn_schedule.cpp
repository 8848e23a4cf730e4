#include "cycle/turn_schedule.h"

#include <algorithm>

namespace tcpreap {

Duration min_turn_gap(const Config& config) {
  Duration gap = config.scan_interval;
  for (const Policy& p : config.policies)
    if (p.verify) gap = std::min(gap, p.verify->interval);
  return std::max(gap, kMinTurnGap);
}

TurnClock::time_point next_turn(const Config& config, TurnClock::time_point last_start, TurnClock::time_point now,
                                std::optional<TurnClock::time_point> verify_due) {
  TurnClock::time_point next = last_start + config.scan_interval;
  if (verify_due) next = std::min(next, *verify_due);
  next = std::max(next, last_start + min_turn_gap(config));
  return std::max(next, now);
}

}  // namespace tcpreap
