#pragma once
// A FamilyDumpGate on sockstat and sockstat6 files in a scratch directory,
// rewritten at will; the gate holds them open as it would /proc's
// (dump_families_test, socket_scanner_test).

#include <cstdint>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "netns/dump_families.h"
#include "unit/scratch_dir.h"

namespace tcpreap::testing {

struct GateOnFiles {
  ScratchDir dir;
  std::string v4 = dir.file("sockstat", "TCP: inuse 0 orphan 0 tw 0 alloc 0 mem 0\n");
  std::string v6 = dir.file("sockstat6", "TCP6: inuse 0\n");
  FamilyDumpGate gate = open();

  FamilyDumpGate open() {
    auto count = TcpSocketCount::open_files(v4, v6, "net:[1]");
    EXPECT_TRUE(count.ok()) << count.error().message();
    return FamilyDumpGate(count.ok() ? std::optional<TcpSocketCount>(std::move(*count)) : std::nullopt);
  }
  // "tw 9": TIME-WAIT sockets present, which inuse does not count.
  void set(uint64_t ipv4, uint64_t ipv6) {
    dir.file("sockstat", "TCP: inuse " + std::to_string(ipv4) + " orphan 0 tw 9 alloc 0 mem 0\n");
    dir.file("sockstat6", "TCP6: inuse " + std::to_string(ipv6) + "\n");
  }
};

}  // namespace tcpreap::testing
