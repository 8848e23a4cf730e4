#include "support/netns_holder.h"

#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "support/command.h"
#include "support/support_error.h"

namespace tcpreap::test {

using namespace std::chrono_literals;

uint64_t namespace_inode(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw_errno("stat " + path, errno);
  return st.st_ino;
}

NetnsHolder::NetnsHolder(const std::string& name) : name_(name) {
  const uint64_t target = namespace_inode("/run/netns/" + name_);
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{"ip", "netns", "exec", name_, "sleep", "infinity"});
  wait_inside([&](uint64_t ino) { return ino == target; });
}

NetnsHolder::NetnsHolder() {
  // The child starts in the calling thread's namespace, then unshare(2)s.
  const uint64_t before = namespace_inode("/proc/thread-self/ns/net");
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{"unshare", "--net", "sleep", "infinity"});
  wait_inside([&](uint64_t ino) { return ino != before; });
}

void NetnsHolder::wait_inside(const std::function<bool(uint64_t)>& inside) {
  const std::string link = "/proc/" + std::to_string(process_->pid()) + "/ns/net";
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running())
      throw SupportError(join_argv(process_->argv()) + " ended: " + process_->output());
    struct stat st{};
    if (::stat(link.c_str(), &st) == 0 && inside(st.st_ino)) {
      inode_ = st.st_ino;
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  throw SupportError(join_argv(process_->argv()) + " never entered its namespace");
}

NetnsHolder::~NetnsHolder() {
  if (name_removed_ && process_->running()) {
    CommandResult r = run_command({"ip", "netns", "attach", name_, std::to_string(process_->pid())});
    if (r.exit_code != 0)
      std::fprintf(stderr, "warning: %s\n", r.describe({"ip", "netns", "attach", name_, "PID"}).c_str());
  }
}

void NetnsHolder::remove_name() {
  run_checked({"ip", "netns", "del", name_});
  name_removed_ = true;
}

void NetnsHolder::kill() {
  if (!process_->running()) return;
  process_->signal(SIGKILL);
  (void)process_->wait_exit(std::chrono::seconds(10));
}

}  // namespace tcpreap::test
