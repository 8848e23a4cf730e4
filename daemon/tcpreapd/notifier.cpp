#include "tcpreapd/notifier.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>

namespace tcpreap {

namespace {

// Status text on one line: a newline would start another assignment.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s;
}

}  // namespace

void Notifier::ready(const std::string& status) {
  (void)sd_notify(0, ("READY=1\nSTATUS=" + one_line(status)).c_str());
}

void Notifier::reloading() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t usec = static_cast<uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  (void)sd_notify(0, ("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec)).c_str());
}

void Notifier::stopping() { (void)sd_notify(0, "STOPPING=1"); }

void Notifier::status(const std::string& status) { (void)sd_notify(0, ("STATUS=" + one_line(status)).c_str()); }

}  // namespace tcpreap
