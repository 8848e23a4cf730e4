// The reap report line: what `tcpreap reap` and `tcpreap kill` print for each
// socket acted on, or that would be.

#include "report/reap_report.h"

#include <gtest/gtest.h>

namespace tcpreap {
namespace {

IpAddress v4(const char* text) { return *IpAddress::parse(text); }

TcpSocket socket_of(uint16_t remote_port) {
  TcpSocket s;
  s.family = Family::kIPv4;
  s.local = v4("10.0.0.1");
  s.remote = v4("10.0.0.2");
  s.local_port = 2181;
  s.remote_port = remote_port;
  return s;
}

struct Fixture {
  Config config;
  Decision dead;
  Fixture() {
    Policy p;
    p.name = "zk";
    config.policies = {p};
    dead.verdict = Verdict::kDead;
    dead.policy = 0;
    dead.reason = DeadReason::kSilent;
    dead.threshold = std::chrono::minutes(2);
    dead.figures.last_recv_ms = 161'000;
  }
};

TEST(ReapLine, SaysWordTuplePolicyAndHow) {
  Fixture f;
  const TcpSocket s = socket_of(51261);
  const ReapOutcome done{ReapResult::kDone, ReapVia::kDestroy, 0, ""};
  std::string out;
  append_reap_line({&s, &f.dead, &f.config, &done}, out);
  append_reap_line({&s, &f.dead, &f.config, nullptr}, out);
  append_reap_line({&s, nullptr, nullptr, &done}, out);  // kill: no policy
  EXPECT_EQ(out,
            "reaped        10.0.0.1:2181 <- 10.0.0.2:51261                   zk: silent 2m41s >= 2m, via destroy\n"
            "would reap    10.0.0.1:2181 <- 10.0.0.2:51261                   zk: silent 2m41s >= 2m\n"
            "reaped        10.0.0.1:2181 <- 10.0.0.2:51261                   via destroy\n");
}

TEST(ReapLine, ASocketOfAnotherNamespaceSaysWhichAtTheEndAndTheOwnSaysNothing) {
  Fixture f;
  const TcpSocket s = socket_of(51261);
  const ReapOutcome done{ReapResult::kDone, ReapVia::kDestroy, 0, ""};
  const NamespaceInfo own{NetnsId{1, 4026531840, {}}, "host", {}, true};
  const NamespaceInfo pod{NetnsId{1, 4026532174, {}}, "cni-42", "pod:1b4e28ba", false};
  std::string out;
  append_reap_line({&s, &f.dead, &f.config, &done, &own}, out);
  append_reap_line({&s, &f.dead, &f.config, &done, &pod}, out);
  append_reap_line({&s, &f.dead, &f.config, nullptr, &pod}, out);
  append_reap_line({&s, nullptr, nullptr, &done, &pod}, out);
  EXPECT_EQ(out,
            "reaped        10.0.0.1:2181 <- 10.0.0.2:51261                   zk: silent 2m41s >= 2m, via destroy\n"
            "reaped        10.0.0.1:2181 <- 10.0.0.2:51261                   zk: silent 2m41s >= 2m, via destroy"
            " in netns cni-42 net:[4026532174]\n"
            "would reap    10.0.0.1:2181 <- 10.0.0.2:51261                   zk: silent 2m41s >= 2m"
            " in netns cni-42 net:[4026532174]\n"
            "reaped        10.0.0.1:2181 <- 10.0.0.2:51261                   via destroy"
            " in netns cni-42 net:[4026532174]\n");
}

}  // namespace
}  // namespace tcpreap
