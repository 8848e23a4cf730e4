#include "conn_mass_load.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "support/support_error.h"

#ifndef CONN_MASS_BIN
#error "CONN_MASS_BIN: the conn_mass program (tests/bench/CMakeLists.txt)"
#endif

namespace tcpreap::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

ConnMassLoad::ConnMassLoad(const std::vector<std::string>& namespaces, long connections, const std::string& dir,
                           const volatile std::sig_atomic_t& stop) {
  const auto t0 = Clock::now();
  const long k = static_cast<long>(namespaces.size());
  std::vector<std::string> ready;
  for (long i = 0; i < k; ++i) {
    const long share = connections / k + (i < connections % k ? 1 : 0);
    ready.push_back(dir + "/ready-" + namespaces[i]);
    masses_.push_back(std::make_unique<ChildProcess>(std::vector<std::string>{
        "ip", "netns", "exec", namespaces[i], CONN_MASS_BIN, std::to_string(share), "-r", ready.back()}));
  }
  for (long i = 0; i < k; ++i) {
    while (!stop && ::access(ready[i].c_str(), F_OK) != 0) {
      if (!masses_[i]->running())
        throw SupportError("conn_mass in " + namespaces[i] + " ended before it was ready:\n" + masses_[i]->output());
      if (Clock::now() - t0 > 900s) throw SupportError("conn_mass not ready after 900 s");
      std::this_thread::sleep_for(50ms);
    }
  }
  if (!stop)
    std::fprintf(stderr, "conn_mass: %ld connections in %ld namespaces ready in %.1f s\n", connections, k,
                 std::chrono::duration<double>(Clock::now() - t0).count());
}

ConnMassLoad::~ConnMassLoad() {
  for (auto& m : masses_) {
    try {
      if (m->running()) m->signal(SIGTERM);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "!!! stopping conn_mass: %s\n", e.what());
    }
  }
  for (auto& m : masses_) {
    try {
      if (!m->wait_exit(60s)) std::fprintf(stderr, "!!! conn_mass did not stop on SIGTERM; killing it\n");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "!!! waiting for conn_mass: %s\n", e.what());
    }
  }  // ~ChildProcess kills and reaps one still running
}

long tcp_sockets_allocated() {
  std::ifstream in("/proc/net/sockstat");
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(" alloc ");
    if (line.starts_with("TCP:") && at != std::string::npos) return std::atol(line.c_str() + at + 7);
  }
  return -1;
}

void wait_tcp_sockets_freed(long base, const volatile std::sig_atomic_t& stop) {
  const auto t0 = Clock::now();
  while (!stop && tcp_sockets_allocated() > base + 2000 && Clock::now() - t0 < 120s) std::this_thread::sleep_for(200ms);
}

}  // namespace tcpreap::test
