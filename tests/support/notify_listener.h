#pragma once
// The receiving end of sd_notify(3) for a daemon under test: an AF_UNIX
// datagram socket bound to a fresh path in /tmp, to pass as $NOTIFY_SOCKET.
// A path, not an abstract name: abstract AF_UNIX names belong to a network
// namespace, and the daemon runs in another one. The path is removed when
// the listener goes. Not thread-safe.

#include <chrono>
#include <optional>
#include <string>

#include "support/unique_fd.h"

namespace tcpreap::test {

class NotifyListener {
 public:
  // Binds /tmp/trp<pid>-<n>.notify; throws SupportError if it cannot.
  NotifyListener();
  ~NotifyListener();
  NotifyListener(const NotifyListener&) = delete;
  NotifyListener& operator=(const NotifyListener&) = delete;

  // What to put in $NOTIFY_SOCKET.
  const std::string& path() const { return path_; }

  // The next datagram ("READY=1\nSTATUS=..."), waiting up to `timeout`;
  // nothing when none came.
  std::optional<std::string> next(std::chrono::milliseconds timeout);

 private:
  std::string path_;
  UniqueFd fd_;
};

}  // namespace tcpreap::test
