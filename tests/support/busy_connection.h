#pragma once
// A connection that keeps talking on a thread while a test runs: ping-pongs
// both ways, counted; any error is kept. A live bystander that must come out
// of a reap untouched. Stops (and joins) when it goes.

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "support/tcp.h"
#include "support/unique_fd.h"

namespace tcpreap::test {

class BusyConnection {
 public:
  // Takes over the two ends of an established connection.
  BusyConnection(UniqueFd a, UniqueFd b, std::chrono::milliseconds pause = std::chrono::milliseconds(0))
      : a_(std::move(a)), b_(std::move(b)) {
    thread_ = std::thread([this, pause] {
      try {
        const std::string ping(100, 'p');
        while (!stop_) {
          write_all(a_.get(), ping);
          read_exact(b_.get(), ping.size());
          write_all(b_.get(), ping);
          read_exact(a_.get(), ping.size());
          ++rounds_;
          if (pause.count() > 0) std::this_thread::sleep_for(pause);
        }
      } catch (const std::exception& e) {
        error_ = e.what();
      }
    });
  }
  // A loopback connection of its own, in the calling thread's namespace.
  explicit BusyConnection(const std::string& address) : BusyConnection(pair(address)) {}

  ~BusyConnection() { stop(); }
  BusyConnection(const BusyConnection&) = delete;
  BusyConnection& operator=(const BusyConnection&) = delete;

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t rounds() const { return rounds_; }
  const std::string& error() const { return error_; }  // read after stop()
  int a() const { return a_.get(); }
  int b() const { return b_.get(); }

 private:
  struct Pair {
    UniqueFd a, b;
  };
  static Pair pair(const std::string& address) {
    UniqueFd listener = tcp_listen(address);
    UniqueFd a = tcp_connect(address, local_endpoint(listener.get()).port);
    UniqueFd b = tcp_accept(listener.get());
    return {std::move(a), std::move(b)};
  }
  explicit BusyConnection(Pair p) : BusyConnection(std::move(p.a), std::move(p.b)) {}

  UniqueFd a_, b_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> rounds_{0};
  std::string error_;
  std::thread thread_;
};

}  // namespace tcpreap::test
