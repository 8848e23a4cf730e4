#include "filter/filter_simplifier.h"

#include <gtest/gtest.h>

#include <random>

#include "filter/bytecode_compiler.h"

namespace tcpreap {
namespace {

Cidr cidr(const char* text) { return *Cidr::parse(text); }
PortRange ports(uint16_t first, uint16_t last) { return {first, last}; }

SocketFilter alternatives(std::vector<Clause> clauses) {
  SocketFilter f;
  f.any_clause = std::move(clauses);
  return f;
}

size_t program_size(const SocketFilter& f) {
  auto p = compile_bytecode(f);
  EXPECT_TRUE(p.ok()) << p.error().message();
  return p.ok() ? p->size() : 0;
}

TEST(FilterSimplifier, MergesPortRangesOfOneEndThatOverlapOrTouch) {
  const AnyOf group{Condition::local_port(ports(2181, 2181)), Condition::local_port(ports(2182, 2182)),
                    Condition::remote_port(ports(10, 20)), Condition::remote_port(ports(15, 30)),
                    Condition::remote_port(ports(31, 31)), Condition::remote_port(ports(40, 40))};
  const SocketFilter s = simplify(alternatives({{group}}));
  ASSERT_EQ(s.any_clause.size(), 1u);
  EXPECT_EQ(s.any_clause[0], (Clause{{Condition::local_port(ports(2181, 2182)),
                                      Condition::remote_port(ports(10, 31)),
                                      Condition::remote_port(ports(40, 40))}}));
  // Two EQs and a jump (20 bytes) become GE + LE (16).
  EXPECT_EQ(program_size(alternatives({{{Condition::local_port(ports(2181, 2181)),
                                          Condition::local_port(ports(2182, 2182))}}})),
            16u);
}

TEST(FilterSimplifier, DropsAPrefixInsideAnotherOfTheSameEndAndFamily) {
  const AnyOf group{Condition::remote_prefix(cidr("10.1.0.0/16")), Condition::remote_prefix(cidr("10.0.0.0/8")),
                    Condition::remote_prefix(cidr("10.0.0.0/8")), Condition::local_prefix(cidr("10.1.0.0/16")),
                    Condition::remote_prefix(cidr("::ffff:10.1.0.0/112"))};
  const SocketFilter s = simplify(alternatives({{group}}));
  ASSERT_EQ(s.any_clause.size(), 1u);
  EXPECT_EQ(s.any_clause[0], (Clause{{Condition::remote_prefix(cidr("10.0.0.0/8")),
                                      Condition::local_prefix(cidr("10.1.0.0/16")),
                                      Condition::remote_prefix(cidr("::ffff:10.1.0.0/112"))}}));
}

// Two policies on port 2181 (established; close-wait), one on 2888 and
// 3888 at either end: the ZooKeeper example's shape.
TEST(FilterSimplifier, PoliciesOfOneGroupEachBecomeOneGroupWithEachPortOnce) {
  const Clause clients{{Condition::local_port(ports(2181, 2181))}};
  const Clause quorum{{Condition::local_port(ports(2888, 2888)), Condition::remote_port(ports(2888, 2888)),
                       Condition::local_port(ports(3888, 3888)), Condition::remote_port(ports(3888, 3888))}};
  const SocketFilter s = simplify(alternatives({clients, quorum, clients}));
  ASSERT_EQ(s.any_clause.size(), 1u);
  ASSERT_EQ(s.any_clause[0].size(), 1u);
  EXPECT_EQ(s.any_clause[0][0].size(), 5u);
  EXPECT_EQ(program_size(alternatives({clients, quorum, clients})), 5 * 8 + 4 * 4u);
}

TEST(FilterSimplifier, DropsAnAlternativeThatImpliesAnother) {
  const Clause narrow{{Condition::local_port(ports(2181, 2181))}, {Condition::remote_prefix(cidr("10.0.0.0/8"))}};
  const Clause wide{{Condition::local_port(ports(2000, 3000))}};
  EXPECT_EQ(simplify(alternatives({narrow, wide})).any_clause, (std::vector<Clause>{wide}));
  // Neither implies the other: both stay.
  const Clause other{{Condition::local_port(ports(4000, 4000))}, {Condition::remote_prefix(cidr("10.0.0.0/8"))}};
  EXPECT_EQ(simplify(alternatives({narrow, other})).any_clause.size(), 2u);
}

TEST(FilterSimplifier, DropsAGroupOfAConjunctionThatAnotherImplies) {
  SocketFilter f;
  f.all_of = {{Condition::local_port(ports(2181, 2181)), Condition::local_port(ports(2888, 2888))},
              {Condition::local_port(ports(2181, 2181))}};
  EXPECT_EQ(simplify(f).all_of, (Clause{{Condition::local_port(ports(2181, 2181))}}));
}

TEST(FilterSimplifier, AlternativesThatAlwaysOrNeverHold) {
  // One policy matching everything: no constraint, no program.
  const Clause everything{};
  const Clause port{{Condition::local_port(ports(2181, 2181))}};
  EXPECT_TRUE(simplify(alternatives({port, everything})).any_clause.empty());
  EXPECT_EQ(program_size(alternatives({port, everything})), 0u);
  // Only alternatives that never hold: still nothing passes.
  const Clause never{AnyOf{}};
  const SocketFilter s = simplify(alternatives({never, never}));
  ASSERT_EQ(s.any_clause.size(), 1u);
  EXPECT_EQ(s.any_clause[0], never);
  EXPECT_EQ(program_size(alternatives({never, never})), 4u) << "one jump past the end";
  // One that never holds beside one that does: the latter alone.
  EXPECT_EQ(simplify(alternatives({never, port})).any_clause, (std::vector<Clause>{port}));
}

// The rewrites keep the matched set exactly: random filters over a small
// domain (so that ranges and prefixes overlap often), random sockets.
TEST(FilterSimplifier, MatchesTheSameSocketsAsTheFilterItSimplifies) {
  std::mt19937 rng(20261206);
  const char* prefixes[] = {"10.0.0.0/8",   "10.1.0.0/16", "10.1.2.3/32", "192.168.0.0/16",
                            "0.0.0.0/0",    "fd00::/8",    "fd00:1::/32", "::ffff:10.1.0.0/112",
                            "::/0",         "10.1.0.0/24"};
  const char* v4[] = {"10.1.2.3", "10.1.0.9", "10.2.0.1", "192.168.1.1", "172.16.0.1"};
  const char* v6[] = {"fd00:1::5", "fd00:2::1", "::ffff:10.1.2.3", "::ffff:10.1.0.9", "2001:db8::1"};
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto condition = [&]() {
    const int kind = pick(4);
    if (kind < 2) {
      uint16_t a = static_cast<uint16_t>(pick(12)), b = static_cast<uint16_t>(pick(12));
      if (a > b) std::swap(a, b);
      const PortRange r = pick(20) == 0 ? PortRange{} : PortRange{a, b};
      return kind == 0 ? Condition::local_port(r) : Condition::remote_port(r);
    }
    const Cidr c = cidr(prefixes[pick(10)]);
    return kind == 2 ? Condition::local_prefix(c) : Condition::remote_prefix(c);
  };
  auto clause = [&]() {
    Clause c(static_cast<size_t>(pick(3)));
    for (AnyOf& g : c) {
      g.resize(static_cast<size_t>(pick(5)), Condition{});
      for (Condition& x : g) x = condition();
    }
    return c;
  };
  int checked = 0, filters_changed = 0;
  for (int round = 0; round < 3000; ++round) {
    SocketFilter f;
    f.all_of = pick(3) == 0 ? clause() : Clause{};
    f.any_clause.resize(static_cast<size_t>(pick(5)));
    for (Clause& c : f.any_clause) c = clause();
    const SocketFilter s = simplify(f);
    if (s.all_of != f.all_of || s.any_clause != f.any_clause) ++filters_changed;
    for (int k = 0; k < 40; ++k) {
      TcpSocket sock;
      sock.family = pick(2) == 0 ? Family::kIPv4 : Family::kIPv6;
      const char* const* pool = sock.family == Family::kIPv4 ? v4 : v6;
      sock.local = *IpAddress::parse(pool[pick(5)]);
      sock.remote = *IpAddress::parse(pool[pick(5)]);
      sock.local_port = static_cast<uint16_t>(pick(13));
      sock.remote_port = static_cast<uint16_t>(pick(13));
      sock.state = 1;  // established
      ASSERT_EQ(s.matches(sock), f.matches(sock)) << "round " << round << " socket " << k;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 3000 * 40);
  EXPECT_GT(filters_changed, 1000) << "the random filters hardly exercise the rewrites";
}

}  // namespace
}  // namespace tcpreap
