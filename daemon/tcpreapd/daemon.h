#pragma once
// tcpreapd's event loop (sd-event): a timer runs a ReapCycle every
// scan.interval (sooner when a probe or a verification verdict is due, but
// never sooner than cycle/turn_schedule.h's floor; never stacking up when a
// turn runs long); SIGHUP reloads the config, keeping the
// last good one when the new one is invalid, and reckons the next turn
// anew from the last one's start under the new one; SIGTERM and SIGINT stop it
// between turns. systemd hears READY, RELOADING, STOPPING, STATUS and the
// watchdog; Prometheus and the journal hear what each turn did.

#include <string>

#include "privilege/user_identity.h"

namespace tcpreap {

struct DaemonOptions {
  std::string config_path;
  // Started as root, the daemon becomes this user (keeping CAP_NET_ADMIN and
  // CAP_NET_RAW) before it reads anything; a non-root start keeps its ids.
  std::string user = kDefaultDaemonUser;
  bool dry_run = false;  // overrides the config's reap.dry_run
  bool verbose = false;  // debug lines on stderr too
};

// Runs until SIGTERM/SIGINT; returns the exit status: 0 after a clean stop,
// 78 when the config is invalid at start, 1 when something the daemon needs
// cannot be set up (the message says what).
int run_daemon(const DaemonOptions& options);

}  // namespace tcpreap
