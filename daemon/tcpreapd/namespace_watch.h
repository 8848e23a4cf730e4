#pragma once
// When tcpreapd looks for network namespaces again (namespaces.scan: all):
// every discover_every - the /proc walk is the backstop that finds a
// namespace held only by a process - and soon after a file appears in or
// leaves a directory where namespaces are bound (/run/netns, Docker's
// /run/docker/netns), through inotify. `ip netns add` creates the file
// before it bind-mounts the namespace on it, so the discovery an event asks
// for runs kSettle later; a directory that does not exist yet is watched
// from the first discovery after it appears.
//
// The callback runs on the event loop; it must not throw (the daemon wraps
// it with its guard). Not thread-safe.

#include <systemd/sd-event.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace tcpreap {

class NamespaceWatch {
 public:
  using Discover = std::function<int()>;
  static constexpr std::chrono::milliseconds kSettle{200};

  // A watch on `event` that calls `discover` at once, then every `every`,
  // and kSettle after a change in one of `dirs`. Errors name what could not
  // be set up (the timer; a directory that exists but cannot be watched is
  // no error: the timer still finds its namespaces).
  static Result<std::unique_ptr<NamespaceWatch>> start(sd_event* event, std::chrono::milliseconds every,
                                                       std::vector<std::string> dirs, Discover discover);
  ~NamespaceWatch();
  NamespaceWatch(const NamespaceWatch&) = delete;
  NamespaceWatch& operator=(const NamespaceWatch&) = delete;

  // A new discover_every: the next discovery one `every` after the last.
  Status set_interval(std::chrono::milliseconds every);
  // Adds the watches of directories that did not exist before; call after
  // each discovery. Directories watched: how many.
  size_t watch_new_dirs();

 private:
  NamespaceWatch(sd_event* event, std::chrono::milliseconds every, std::vector<std::string> dirs, Discover discover)
      : event_(event), every_(every), dirs_(std::move(dirs)), discover_(std::move(discover)) {}
  static int on_timer(sd_event_source*, uint64_t, void* self);
  static int on_inotify(sd_event_source*, const struct inotify_event*, void* self);
  Status arm(std::chrono::steady_clock::time_point when);

  struct SourceUnref {
    void operator()(sd_event_source* s) const { sd_event_source_unref(s); }
  };
  using SourcePtr = std::unique_ptr<sd_event_source, SourceUnref>;

  sd_event* event_;
  std::chrono::milliseconds every_;
  std::vector<std::string> dirs_;
  std::vector<SourcePtr> watches_;  // one per directory of dirs_, null when not watched (yet)
  Discover discover_;
  SourcePtr timer_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace tcpreap
