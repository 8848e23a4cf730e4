#pragma once
// A network namespace held by a process, as a container's is: a holder
// inside a named one (`ip netns exec NAME sleep infinity`), whose /run/netns
// name can then be removed, leaving only /proc/PID/ns/net to find it by; or
// a holder that made a namespace of its own (`unshare --net sleep
// infinity`), bound nowhere from the start.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "support/child_process.h"

namespace tcpreap::test {

// The inode of the namespace file `path` (stat -L): its identity's number.
uint64_t namespace_inode(const std::string& path);

class NetnsHolder {
 public:
  // A holder inside /run/netns/NAME; returns once it is in there.
  explicit NetnsHolder(const std::string& name);
  // A holder in a new namespace of its own; returns once it is in there.
  NetnsHolder();
  // Gives a removed name back while the holder still holds the namespace
  // (`ip netns attach`), so that its NamedNetns deletes it as usual; then
  // kills the holder.
  ~NetnsHolder();
  NetnsHolder(const NetnsHolder&) = delete;
  NetnsHolder& operator=(const NetnsHolder&) = delete;

  pid_t pid() const { return process_->pid(); }
  uint64_t inode() const { return inode_; }
  std::string identity() const { return "net:[" + std::to_string(inode_) + "]"; }

  // `ip netns del NAME`: the name is unmounted and unlinked; the holder
  // keeps the namespace.
  void remove_name();
  // SIGKILL, reaped: the namespace goes with the last thing holding it.
  void kill();

 private:
  void wait_inside(const std::function<bool(uint64_t)>& inside);

  std::string name_;  // empty: a namespace of its own
  bool name_removed_ = false;
  std::unique_ptr<ChildProcess> process_;
  uint64_t inode_ = 0;
};

}  // namespace tcpreap::test
