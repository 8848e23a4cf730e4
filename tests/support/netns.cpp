#include "support/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "support/command.h"
#include "support/support_error.h"

namespace tcpreap::test {

ScopedNetns::ScopedNetns(const std::string& name) {
  original_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!original_) throw_errno("opening /proc/thread-self/ns/net", errno);
  const std::string path = "/run/netns/" + name;
  UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) throw_errno("opening " + path, errno);
  if (::setns(target.get(), CLONE_NEWNET) != 0) throw_errno("setns(" + path + ", CLONE_NEWNET)", errno);
}

ScopedNetns::~ScopedNetns() {
  if (::setns(original_.get(), CLONE_NEWNET) != 0) {
    // Every later test would run in the wrong namespace: stop here.
    std::fprintf(stderr, "FATAL: setns back to the original network namespace: %s\n", std::strerror(errno));
    std::abort();
  }
}

std::string unique_netns_name(char tag) {
  static std::atomic<unsigned> counter{0};
  return "trp" + std::to_string(::getpid()) + tag + std::to_string(counter++);
}

NamedNetns::NamedNetns(std::string name) : name_(std::move(name)) {
  run_checked({"ip", "netns", "add", name_});
  try {
    ip({"link", "set", "lo", "up"});
  } catch (...) {
    run_command({"ip", "netns", "del", name_});
    throw;
  }
}

NamedNetns::~NamedNetns() {
  CommandResult r = run_command({"ip", "netns", "del", name_});
  if (r.exit_code != 0)
    std::fprintf(stderr, "warning: %s\n", r.describe({"ip", "netns", "del", name_}).c_str());
}

void NamedNetns::ip(std::initializer_list<std::string> args) const {
  std::vector<std::string> argv{"ip", "-n", name_};
  argv.insert(argv.end(), args.begin(), args.end());
  run_checked(argv);
}

void NamedNetns::nft(const std::string& script) const {
  run_checked({"ip", "netns", "exec", name_, "nft", "-f", "-"}, script);
}

TestHosts::TestHosts() : server_(unique_netns_name('s')), client_(unique_netns_name('c')) {
  // Named like their namespaces; created directly inside them, so the names
  // never meet in the caller's namespace.
  const std::string& s = server_.name();
  const std::string& c = client_.name();
  run_checked({"ip", "link", "add", s, "netns", s, "type", "veth", "peer", "name", c, "netns", c});
  server_.ip({"addr", "add", std::string(kServer4) + "/24", "dev", s});
  client_.ip({"addr", "add", std::string(kClient4) + "/24", "dev", c});
  // nodad: a tentative address cannot be bound for the first second or two.
  server_.ip({"addr", "add", std::string(kServer6) + "/64", "dev", s, "nodad"});
  client_.ip({"addr", "add", std::string(kClient6) + "/64", "dev", c, "nodad"});
  server_.ip({"link", "set", s, "up"});
  client_.ip({"link", "set", c, "up"});
}

void TestHosts::make_client_vanish() const {
  client_.nft(
      "table inet trpdrop {\n"
      "  chain in  { type filter hook input  priority -300; policy drop; }\n"
      "  chain out { type filter hook output priority -300; policy drop; }\n"
      "}\n"
      "table arp trpdrop {\n"
      "  chain in  { type filter hook input  priority 0; policy drop; }\n"
      "  chain out { type filter hook output priority 0; policy drop; }\n"
      "}\n");
}

void TestHosts::drop_client_ports(const std::vector<uint16_t>& ports) {
  std::string list;
  for (uint16_t port : ports) list += (list.empty() ? "" : ", ") + std::to_string(port);
  const std::string table = "trpports" + std::to_string(port_tables_++);
  client_.nft("table inet " + table + " {\n"
              "  chain in  { type filter hook input  priority -300; tcp dport { " + list + " } drop; }\n"
              "  chain out { type filter hook output priority -300; tcp sport { " + list + " } drop; }\n"
              "}\n");
}

}  // namespace tcpreap::test
