#pragma once
// What tcpreapd tells systemd (sd_notify(3)): READY, RELOADING with
// MONOTONIC_USEC, STOPPING, STATUS. Without $NOTIFY_SOCKET every call is a
// no-op, so the daemon runs the same outside systemd.

#include <string>

namespace tcpreap {

class Notifier {
 public:
  void ready(const std::string& status);
  // RELOADING=1 with MONOTONIC_USEC=now, as systemd 253's notify-reload
  // wants (harmless for Type=notify on 252).
  void reloading();
  void stopping();
  void status(const std::string& status);
};

}  // namespace tcpreap
