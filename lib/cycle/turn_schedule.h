#pragma once
// When the daemon's next turn (ReapCycle::run) starts: one scan.interval
// after the last one started, sooner when a probe or a verification verdict
// falls due, at once after a turn that ran long - and never sooner than
// min_turn_gap() after the last turn started, whatever the engine says is
// due. The floor is what keeps the daemon from spinning: a verifying socket
// can be due "now" turn after turn (its probe deferred by
// verify.max_per_scan, a probe reported for a socket the next scan still
// sees), and without it every such turn would be followed by another at
// once. Pure functions of their arguments; no clock of their own.

#include <chrono>
#include <optional>

#include "config/config.h"

namespace tcpreap {

using TurnClock = std::chrono::steady_clock;

// Never less than this between two turns, whatever the config: the loader
// keeps scan.interval at least as long, and a hand-built Config of zeros
// must not make a busy loop either.
inline constexpr Duration kMinTurnGap{100};

// The least time between the starts of two turns: scan.interval, or the
// smallest verify.interval of the policies when that is shorter (a probe
// schedule needs turns that often, and no more), and at least kMinTurnGap.
Duration min_turn_gap(const Config& config);

// The start of the turn after one that started at `last_start`, asked at
// `now` (when that turn has ended). `verify_due` is the engine's
// next_verify_due(). The result is:
//   - last_start + scan.interval, or `verify_due` when that is earlier,
//   - but no earlier than last_start + min_turn_gap(config),
//   - and no earlier than `now` (a turn that ran long is followed at once,
//     never by a backlog of turns).
// So two turns never start less than min_turn_gap() apart, for any inputs.
TurnClock::time_point next_turn(const Config& config, TurnClock::time_point last_start, TurnClock::time_point now,
                                std::optional<TurnClock::time_point> verify_due);

}  // namespace tcpreap
