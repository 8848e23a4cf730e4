#include "tcpreapd/namespace_watch.h"

#include <sys/inotify.h>


namespace tcpreap {

namespace {

uint64_t usec_of(std::chrono::steady_clock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  return us < 0 ? 0 : static_cast<uint64_t>(us);
}

}  // namespace

Result<std::unique_ptr<NamespaceWatch>> NamespaceWatch::start(sd_event* event, std::chrono::milliseconds every,
                                                              std::vector<std::string> dirs, Discover discover) {
  std::unique_ptr<NamespaceWatch> w(new NamespaceWatch(event, every, std::move(dirs), std::move(discover)));
  w->watches_.resize(w->dirs_.size());
  sd_event_source* t = nullptr;
  // steady_clock is CLOCK_MONOTONIC on Linux, as sd-event's timers are.
  if (int r = sd_event_add_time(event, &t, CLOCK_MONOTONIC, 0, 1000, on_timer, w.get()); r < 0)
    return Error(-r, "setting up the namespace discovery timer");
  w->timer_.reset(t);
  w->watch_new_dirs();
  return w;
}

NamespaceWatch::~NamespaceWatch() = default;

size_t NamespaceWatch::watch_new_dirs() {
  size_t watched = 0;
  for (size_t i = 0; i < dirs_.size(); ++i) {
    if (!watches_[i]) {
      sd_event_source* s = nullptr;
      // Files bound or unbound: created, deleted, renamed in or out.
      const uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR;
      if (sd_event_add_inotify(event_, &s, dirs_[i].c_str(), mask, on_inotify, this) >= 0) watches_[i].reset(s);
    }
    if (watches_[i]) ++watched;
  }
  return watched;
}

Status NamespaceWatch::arm(std::chrono::steady_clock::time_point when) {
  if (int r = sd_event_source_set_time(timer_.get(), usec_of(when)); r < 0)
    return Error(-r, "setting the namespace discovery timer");
  if (int r = sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT); r < 0)
    return Error(-r, "enabling the namespace discovery timer");
  return Ok{};
}

Status NamespaceWatch::set_interval(std::chrono::milliseconds every) {
  every_ = every;
  return arm(last_ + every_);
}

int NamespaceWatch::on_timer(sd_event_source*, uint64_t, void* self) {
  auto* w = static_cast<NamespaceWatch*>(self);
  w->last_ = std::chrono::steady_clock::now();
  // Armed before the discovery: a callback that ends the loop leaves it so.
  if (auto s = w->arm(w->last_ + w->every_); !s) return -s.error().errnum();
  const int r = w->discover_();
  w->watch_new_dirs();
  return r;
}

int NamespaceWatch::on_inotify(sd_event_source* source, const struct inotify_event* e, void* self) {
  auto* w = static_cast<NamespaceWatch*>(self);
  if (e->mask & IN_IGNORED) {
    // The directory itself went: watched again once it is back.
    for (auto& s : w->watches_)
      if (s.get() == source) s.reset();
  }
  // Sooner than planned, never later.
  uint64_t planned = 0;
  const auto soon = std::chrono::steady_clock::now() + kSettle;
  if (sd_event_source_get_time(w->timer_.get(), &planned) >= 0 && planned <= usec_of(soon)) {
    int enabled = 0;
    if (sd_event_source_get_enabled(w->timer_.get(), &enabled) >= 0 && enabled != SD_EVENT_OFF) return 0;
  }
  if (auto s = w->arm(soon); !s) return -s.error().errnum();
  return 0;
}

}  // namespace tcpreap
