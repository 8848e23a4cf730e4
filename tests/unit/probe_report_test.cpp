// The probe report line: what `tcpreap reap` prints for each probe.

#include "report/probe_report.h"

#include <gtest/gtest.h>

namespace tcpreap {
namespace {

IpAddress v4(const char* text) { return *IpAddress::parse(text); }

TEST(ProbeLine, SaysNumberPolicyFiguresAndResult) {
  TcpSocket s;
  s.family = Family::kIPv4;
  s.local = v4("10.0.0.1");
  s.remote = v4("10.0.0.2");
  s.local_port = 2181;
  s.remote_port = 40000;
  Config c;
  Policy p;
  p.name = "zk";
  c.policies = {p};
  Decision d;
  d.verdict = Verdict::kVerifying;
  d.policy = 0;
  d.reason = DeadReason::kSilent;
  d.threshold = std::chrono::seconds(30);
  d.figures.last_recv_ms = 31'000;
  d.probe = ProbeState{.wanted = 3, .sent = 1, .failures = 0, .due = true, .since_last_ms = 5000};
  std::string out;
  ProbeOutcome sent{ProbeResult::kSent, 0, "probe sent", {}};
  append_probe_line({&s, &d, &c, &sent}, out);
  ProbeOutcome answered{ProbeResult::kAnswered, 0, "ack", {}};
  append_probe_line({&s, &d, &c, &answered}, out);
  ProbeOutcome failed{ProbeResult::kNoAnswer, 0, "no answer to 4 SYN(s)", {}};
  append_probe_line({&s, &d, &c, &failed}, out);
  EXPECT_EQ(out,
            "probe 2/3     10.0.0.1:2181 <- 10.0.0.2:40000                   zk: silent 31.0s >= 30s: sent\n"
            "probe 2/3     10.0.0.1:2181 <- 10.0.0.2:40000                   zk: silent 31.0s >= 30s: answered: alive\n"
            "probe FAILED  10.0.0.1:2181 <- 10.0.0.2:40000                   zk: silent 31.0s >= 30s: no-answer: no "
            "answer to 4 SYN(s)\n");
}

TEST(ProbeLine, ASocketOfAnotherNamespaceSaysWhichAtTheEnd) {
  TcpSocket s;
  s.family = Family::kIPv4;
  s.local = v4("127.0.0.1");
  s.remote = v4("127.0.0.1");
  s.local_port = 2181;
  s.remote_port = 40000;
  Config c;
  Decision d;  // no policy: just the outcome
  d.probe = ProbeState{.wanted = 3, .sent = 0, .failures = 0, .due = true, .since_last_ms = 0};
  ProbeOutcome sent{ProbeResult::kSent, 0, "probe sent", {}};
  const NamespaceInfo own{NetnsId{1, 4026531840, {}}, "host", {}, true};
  const NamespaceInfo blue{NetnsId{1, 4026532174, {}}, "blue", {}, false};
  std::string out;
  append_probe_line({&s, &d, &c, &sent, &own}, out);
  append_probe_line({&s, &d, &c, &sent, &blue}, out);
  EXPECT_EQ(out,
            "probe 1/3     127.0.0.1:2181 <- 127.0.0.1:40000                 sent\n"
            "probe 1/3     127.0.0.1:2181 <- 127.0.0.1:40000                 sent in netns blue net:[4026532174]\n");
}

}  // namespace
}  // namespace tcpreap
