#include "filter/bytecode_compiler.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <sys/socket.h>

#include <cstring>

namespace tcpreap {
namespace {

Cidr cidr(const char* text) { return *Cidr::parse(text); }
PortRange ports(const char* text) { return *PortRange::parse(text); }

SocketFilter filter_of(std::vector<AnyOf> groups) {
  SocketFilter f;
  f.all_of = std::move(groups);
  return f;
}

std::vector<uint8_t> compile(const SocketFilter& f) {
  auto r = compile_bytecode(f);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? *r : std::vector<uint8_t>{};
}

// Renders a program op by op, "code yes no [operand]", to compare readably.
std::string disassemble(const std::vector<uint8_t>& p) {
  std::string out;
  size_t off = 0;
  while (off + sizeof(inet_diag_bc_op) <= p.size()) {
    inet_diag_bc_op op;
    std::memcpy(&op, p.data() + off, sizeof op);
    out += std::to_string(off) + ": " + std::to_string(op.code) + " yes=" + std::to_string(op.yes) +
           " no=" + std::to_string(op.no);
    switch (op.code) {
      case INET_DIAG_BC_S_EQ: case INET_DIAG_BC_S_GE: case INET_DIAG_BC_S_LE:
      case INET_DIAG_BC_D_EQ: case INET_DIAG_BC_D_GE: case INET_DIAG_BC_D_LE: {
        inet_diag_bc_op port;
        std::memcpy(&port, p.data() + off + 4, sizeof port);
        out += " port=" + std::to_string(port.no);
        break;
      }
      case INET_DIAG_BC_S_COND: case INET_DIAG_BC_D_COND: {
        inet_diag_hostcond c;
        std::memcpy(&c, p.data() + off + 4, sizeof c);
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(c.family, p.data() + off + 4 + sizeof c, buf, sizeof buf);
        out += " " + std::string(buf) + "/" + std::to_string(c.prefix_len) + " port=" + std::to_string(c.port);
        break;
      }
      default:
        break;
    }
    out += "\n";
    off += op.yes;
  }
  return out;
}

// The program tables: each comment reads the jumps the compiler must make.
TEST(BytecodeCompiler, NoGroupsNeedNoBytecode) { EXPECT_TRUE(compile(SocketFilter{}).empty()); }

// Op codes (linux/inet_diag.h): JMP 1, S_GE 2, S_LE 3, D_GE 4, D_LE 5,
// S_COND 7, D_COND 8, S_EQ 11, D_EQ 12.
TEST(BytecodeCompiler, OneLocalPort) {
  // S_EQ 2181: holds -> next (8 = end, accept); fails -> 12 = end + 4, reject.
  EXPECT_EQ(disassemble(compile(filter_of({{Condition::local_port(ports("2181"))}}))),
            "0: 11 yes=8 no=12 port=2181\n");
}

TEST(BytecodeCompiler, RemotePortRange) {
  EXPECT_EQ(disassemble(compile(filter_of({{Condition::remote_port(ports("30000-32767"))}}))),
            "0: 4 yes=8 no=20 port=30000\n"
            "8: 5 yes=8 no=12 port=32767\n");
}

TEST(BytecodeCompiler, OpenEndedRangesNeedOneBound) {
  EXPECT_EQ(disassemble(compile(filter_of({{Condition::local_port(ports("1024-65535"))}}))),
            "0: 2 yes=8 no=12 port=1024\n");
  EXPECT_EQ(disassemble(compile(filter_of({{Condition::local_port(ports("0-1023"))}}))),
            "0: 3 yes=8 no=12 port=1023\n");
}

TEST(BytecodeCompiler, AnyOfTriesEachTermAndSkipsTheRestOnAMatch) {
  // 80: fail -> 12 (443). hold -> JMP at 8 over the group to 20 (accept).
  // 443: fail -> 20 + 4, reject.
  EXPECT_EQ(disassemble(compile(filter_of({{Condition::local_port(ports("80")), Condition::local_port(ports("443"))}}))),
            "0: 11 yes=8 no=12 port=80\n"
            "8: 1 yes=4 no=12\n"
            "12: 11 yes=8 no=12 port=443\n");
}

TEST(BytecodeCompiler, AllOfChainsGroups) {
  // 8 bytes of S_EQ, then 16 of D_COND (op, hostcond, 4-byte address): the
  // end is 24, reject 28. Each group's only term fails to reject.
  EXPECT_EQ(disassemble(compile(filter_of({{Condition::local_port(ports("2181"))},
                                           {Condition::remote_prefix(cidr("10.0.0.0/8"))}}))),
            "0: 11 yes=8 no=28 port=2181\n"
            "8: 8 yes=16 no=20 10.0.0.0/8 port=-1\n");
}

TEST(BytecodeCompiler, Ipv6PrefixCarries16Bytes) {
  EXPECT_EQ(disassemble(compile(filter_of({{Condition::local_prefix(cidr("fd00::/8"))}}))),
            "0: 7 yes=28 no=32 fd00::/8 port=-1\n");
}

TEST(BytecodeCompiler, AGroupThatAlwaysHoldsIsLeftOut) {
  EXPECT_TRUE(compile(filter_of({{Condition::local_port(ports("0-65535"))}})).empty());
  EXPECT_EQ(disassemble(compile(filter_of({{Condition::local_port(ports("22")), Condition::remote_port(ports("0-65535"))},
                                           {Condition::remote_port(ports("9"))}}))),
            "0: 12 yes=8 no=12 port=9\n");
}

TEST(BytecodeCompiler, AnEmptyGroupRejectsEverything) {
  EXPECT_EQ(disassemble(compile(filter_of({{}}))), "0: 1 yes=4 no=8\n");
}

SocketFilter clauses_of(std::vector<Clause> clauses, Clause all = {}) {
  SocketFilter f;
  f.all_of = std::move(all);
  f.any_clause = std::move(clauses);
  return f;
}

TEST(BytecodeCompiler, ClausesAreAlternativesThatAcceptOnTheFirstThatHolds) {
  // Clause 1: local 2181 and remote in 10/8. Its ops fail to clause 2 (28);
  // holding, JMP at 24 to the end (52). Clause 2: local 22 and remote in
  // 192.168/16, fails to reject (56).
  EXPECT_EQ(disassemble(compile(clauses_of({{{Condition::local_port(ports("2181"))},
                                             {Condition::remote_prefix(cidr("10.0.0.0/8"))}},
                                            {{Condition::local_port(ports("22"))},
                                             {Condition::remote_prefix(cidr("192.168.0.0/16"))}}}))),
            "0: 11 yes=8 no=28 port=2181\n"
            "8: 8 yes=16 no=20 10.0.0.0/8 port=-1\n"
            "24: 1 yes=4 no=28\n"
            "28: 11 yes=8 no=28 port=22\n"
            "36: 8 yes=16 no=20 192.168.0.0/16 port=-1\n");
}

TEST(BytecodeCompiler, AllOfComesBeforeTheClauses) {
  // all_of (remote port 9) fails to reject (48); then two clauses as above,
  // the first failing to the second (28), holding to the end (44).
  EXPECT_EQ(disassemble(compile(clauses_of({{{Condition::local_port(ports("1"))}, {Condition::remote_port(ports("7"))}},
                                            {{Condition::local_port(ports("2"))}, {Condition::remote_port(ports("8"))}}},
                                           {{Condition::remote_port(ports("9"))}}))),
            "0: 12 yes=8 no=48 port=9\n"
            "8: 11 yes=8 no=20 port=1\n"
            "16: 12 yes=8 no=12 port=7\n"
            "24: 1 yes=4 no=20\n"
            "28: 11 yes=8 no=20 port=2\n"
            "36: 12 yes=8 no=12 port=8\n");
}

// The compiler runs filter_simplifier.h first: the program is that of the
// simplified filter (filter_simplifier_test has the rewrites).
TEST(BytecodeCompiler, CompilesTheSimplifiedFilter) {
  // {local 1} or {local 2}, with remote 9: one group, local 1-2.
  EXPECT_EQ(disassemble(compile(clauses_of({{{Condition::local_port(ports("1"))}}, {{Condition::local_port(ports("2"))}}},
                                           {{Condition::remote_port(ports("9"))}}))),
            "0: 12 yes=8 no=28 port=9\n"
            "8: 2 yes=8 no=20 port=1\n"
            "16: 3 yes=8 no=12 port=2\n");
}

TEST(BytecodeCompiler, AClauseThatAlwaysHoldsMakesTheAlternativeVacuous) {
  // A policy with no port or address list matches every socket of its states.
  EXPECT_TRUE(compile(clauses_of({{{Condition::local_port(ports("1"))}}, {}})).empty());
  EXPECT_EQ(disassemble(compile(clauses_of({{{Condition::local_port(ports("1"))}}, {}}, {{Condition::remote_port(ports("9"))}}))),
            "0: 12 yes=8 no=12 port=9\n");
}

TEST(BytecodeCompiler, ClausesThatNeverHoldDropOut) {
  EXPECT_EQ(disassemble(compile(clauses_of({{{}}, {{Condition::local_port(ports("5"))}}}))),
            "0: 11 yes=8 no=12 port=5\n");
  EXPECT_EQ(disassemble(compile(clauses_of({{{}}}))), "0: 1 yes=4 no=8\n");
}

TEST(BytecodeCompiler, RefusesAProgramTooLargeForOneAttribute) {
  AnyOf many;
  // Ranges that neither overlap nor touch: the simplifier cannot merge them.
  for (int i = 0; i < 5000; ++i) many.push_back(Condition::local_port({static_cast<uint16_t>(i * 3), static_cast<uint16_t>(i * 3 + 1)}));
  auto r = compile_bytecode(filter_of({many}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("bytes of bytecode, more than 65531 fit in a request"), std::string::npos)
      << r.error().message();
}

// --- The kernel's interpreter and auditor, transcribed from
// net/ipv4/inet_diag.c (inet_diag_bc_run, inet_diag_bc_audit, valid_cc), to
// check what the compiled programs decide over many sockets. The integration
// test filter_parity_test checks the same against the real kernel.

bool bitstring_match(const uint8_t* a, const uint8_t* b, int bits) {
  int words = bits / 8, rest = bits % 8;
  if (words && std::memcmp(a, b, static_cast<size_t>(words))) return false;
  if (rest) {
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    if ((a[words] ^ b[words]) & mask) return false;
  }
  return true;
}

bool kernel_run(const std::vector<uint8_t>& bc, const TcpSocket& s) {
  int len = static_cast<int>(bc.size());
  const uint8_t* p = bc.data();
  while (len > 0) {
    inet_diag_bc_op op;
    std::memcpy(&op, p, sizeof op);
    inet_diag_bc_op arg{};
    if (len >= 8) std::memcpy(&arg, p + 4, sizeof arg);
    bool yes = true;
    switch (op.code) {
      case INET_DIAG_BC_NOP: break;
      case INET_DIAG_BC_JMP: yes = false; break;
      case INET_DIAG_BC_S_EQ: yes = s.local_port == arg.no; break;
      case INET_DIAG_BC_S_GE: yes = s.local_port >= arg.no; break;
      case INET_DIAG_BC_S_LE: yes = s.local_port <= arg.no; break;
      case INET_DIAG_BC_D_EQ: yes = s.remote_port == arg.no; break;
      case INET_DIAG_BC_D_GE: yes = s.remote_port >= arg.no; break;
      case INET_DIAG_BC_D_LE: yes = s.remote_port <= arg.no; break;
      case INET_DIAG_BC_S_COND:
      case INET_DIAG_BC_D_COND: {
        inet_diag_hostcond c;
        std::memcpy(&c, p + 4, sizeof c);
        const uint8_t* caddr = p + 4 + sizeof c;
        const IpAddress& a = op.code == INET_DIAG_BC_S_COND ? s.local : s.remote;
        const int fam = to_af(s.family);
        if (c.family != AF_UNSPEC && c.family != fam) {
          yes = fam == AF_INET6 && c.family == AF_INET && a.is_v4_mapped() &&
                bitstring_match(a.bytes.data() + 12, caddr, c.prefix_len);
          break;
        }
        yes = c.prefix_len == 0 || bitstring_match(a.bytes.data(), caddr, c.prefix_len);
        break;
      }
      default: ADD_FAILURE() << "unexpected op " << int(op.code); return false;
    }
    const int step = yes ? op.yes : op.no;
    len -= step;
    p += step;
  }
  return len == 0;
}

bool valid_cc(const std::vector<uint8_t>& bc, int len, int cc) {
  const uint8_t* p = bc.data();
  while (len >= 0) {
    if (cc > len) return false;
    if (cc == len) return true;
    inet_diag_bc_op op;
    std::memcpy(&op, p, sizeof op);
    if (op.yes < 4 || op.yes & 3) return false;
    len -= op.yes;
    p += op.yes;
  }
  return false;
}

bool kernel_audit(const std::vector<uint8_t>& bc) {
  int len = static_cast<int>(bc.size());
  const uint8_t* p = bc.data();
  while (len > 0) {
    inet_diag_bc_op op;
    std::memcpy(&op, p, sizeof op);
    int min_len = sizeof op;
    switch (op.code) {
      case INET_DIAG_BC_S_COND: case INET_DIAG_BC_D_COND: {
        inet_diag_hostcond c;
        if (len < static_cast<int>(sizeof op + sizeof c)) return false;
        std::memcpy(&c, p + 4, sizeof c);
        int addr_len = c.family == AF_INET ? 4 : c.family == AF_INET6 ? 16 : 0;
        min_len += static_cast<int>(sizeof c) + addr_len;
        if (len < min_len || c.prefix_len > 8 * addr_len) return false;
        break;
      }
      case INET_DIAG_BC_S_EQ: case INET_DIAG_BC_S_GE: case INET_DIAG_BC_S_LE:
      case INET_DIAG_BC_D_EQ: case INET_DIAG_BC_D_GE: case INET_DIAG_BC_D_LE:
        min_len += 4;
        if (len < min_len) return false;
        break;
      case INET_DIAG_BC_JMP: case INET_DIAG_BC_NOP: break;
      default: return false;
    }
    if (op.code != INET_DIAG_BC_NOP) {
      if (op.no < min_len || op.no > len + 4 || op.no & 3) return false;
      if (op.no < len && !valid_cc(bc, static_cast<int>(bc.size()), len - op.no)) return false;
    }
    if (op.yes < min_len || op.yes > len + 4 || op.yes & 3) return false;
    p += op.yes;
    len -= op.yes;
  }
  return len == 0;
}

TcpSocket sock(const char* local, uint16_t lport, const char* remote, uint16_t rport) {
  TcpSocket s;
  s.local = *IpAddress::parse(local);
  s.remote = *IpAddress::parse(remote);
  s.family = s.local.family;
  s.local_port = lport;
  s.remote_port = rport;
  s.state = 1;
  return s;
}

TEST(BytecodeCompiler, ProgramsPassTheKernelsAuditAndDecideAsTheUserSpaceMatcher) {
  const std::vector<TcpSocket> sockets = {
      sock("10.0.0.1", 2181, "10.1.2.3", 40000),      sock("10.0.0.1", 2182, "192.168.1.1", 2181),
      sock("127.0.0.1", 80, "127.0.0.1", 55555),      sock("fd00::1", 2181, "fd00::99", 40001),
      sock("::ffff:10.0.0.1", 443, "::ffff:10.200.0.5", 61000), sock("::1", 22, "::1", 0),
      sock("fe80::1", 65535, "2001:db8::1", 1),       sock("0.0.0.0", 0, "0.0.0.0", 0),
  };
  const std::vector<std::vector<AnyOf>> filters = {
      {{Condition::local_port(ports("2181"))}},
      {{Condition::local_port(ports("2181")), Condition::remote_port(ports("2181"))}},
      {{Condition::remote_port(ports("40000-60000"))}},
      {{Condition::remote_port(ports("1-1"))}, {Condition::local_prefix(cidr("fe80::/10"))}},
      {{Condition::remote_prefix(cidr("10.0.0.0/8"))}},
      {{Condition::remote_prefix(cidr("0.0.0.0/0"))}},
      {{Condition::remote_prefix(cidr("::/0"))}},
      {{Condition::local_prefix(cidr("::1"))}, {Condition::local_port(ports("22"))}},
      {{Condition::local_prefix(cidr("10.0.0.1")), Condition::local_prefix(cidr("fd00::/16"))},
       {Condition::local_port(ports("443")), Condition::local_port(ports("2181-2181"))}},
      {{Condition::local_port(ports("80")), Condition::local_port(ports("443")), Condition::local_port(ports("22"))},
       {Condition::remote_port(ports("0-1000")), Condition::remote_port(ports("55000-62000"))}},
      {{}},
  };
  std::vector<SocketFilter> all;
  for (const auto& groups : filters) all.push_back(filter_of(groups));
  // Clauses (the union of policies), with and without all_of.
  for (size_t i = 0; i + 2 < filters.size(); ++i) {
    all.push_back(clauses_of({filters[i], filters[i + 1], filters[i + 2]}));
    all.push_back(clauses_of({filters[i], filters[i + 2]}, filters[i + 1]));
  }
  for (const SocketFilter& f : all) {
    const auto bc = compile(f);
    if (bc.empty()) continue;
    const std::string listing = disassemble(bc);
    EXPECT_TRUE(kernel_audit(bc)) << listing;
    for (const auto& s : sockets) {
      EXPECT_EQ(kernel_run(bc, s), f.matches(s))
          << listing << "socket " << s.local.to_string() << ":" << s.local_port << " -> " << s.remote.to_string()
          << ":" << s.remote_port;
    }
  }
}

}  // namespace
}  // namespace tcpreap
