#include "filter/bytecode_compiler.h"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <string>

// How the kernel runs the program (net/ipv4/inet_diag.c, inet_diag_bc_run):
// an op is {code, yes, no}; the condition's result picks `yes` or `no` as the
// number of bytes to jump forward. Landing exactly on the end accepts the
// socket; jumping past it rejects. inet_diag_bc_audit() insists that `yes`
// steps to the very next op (so ops are a straight line) and that every `no`
// lands on an op boundary, on the end, or exactly 4 bytes past it.
//
// Layout for the filter (A1 or A2) and (B1):
//
//   A1: cond..   no -> A2        a term: one or two ops, each failing to the
//       JMP      -> B            next term of its group; a term that holds
//   A2: cond..   no -> REJECT    jumps over the rest of its group. The last
//   B1: cond..   no -> REJECT    term of a group fails to REJECT.
//   END (accept)   REJECT = END + 4

namespace tcpreap {

namespace {

constexpr size_t kOpSize = sizeof(inet_diag_bc_op);
// The attribute's length is a u16 that counts its own header too.
constexpr size_t kMaxProgram = 0xffff - MNL_ATTR_HDRLEN;

// The ops of one condition, as (code, operand bytes) pairs; 0, 1 or 2 ops.
struct Op {
  uint8_t code;
  uint8_t operand[sizeof(inet_diag_hostcond) + 16];
  uint8_t operand_size;
};

Op port_op(uint8_t code, uint16_t port) {
  // A port comparison's operand is a second op whose `no` holds the port.
  Op op{code, {}, kOpSize};
  inet_diag_bc_op value{0, 0, port};
  std::memcpy(op.operand, &value, sizeof value);
  return op;
}

Op prefix_op(uint8_t code, const Cidr& c) {
  Op op{code, {}, 0};
  inet_diag_hostcond cond{};
  cond.family = static_cast<uint8_t>(to_af(c.address.family));
  cond.prefix_len = c.prefix_len;
  cond.port = -1;  // any port
  std::memcpy(op.operand, &cond, sizeof cond);
  std::memcpy(op.operand + sizeof cond, c.address.bytes.data(), c.address.size());
  op.operand_size = static_cast<uint8_t>(sizeof cond + c.address.size());
  return op;
}

// A range of ports on one end: EQ for one port, GE/LE for a bound, both for
// a range. Empty for 0-65535, which always holds.
std::vector<Op> port_ops(bool local, const PortRange& r) {
  const uint8_t eq = local ? INET_DIAG_BC_S_EQ : INET_DIAG_BC_D_EQ;
  const uint8_t ge = local ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE;
  const uint8_t le = local ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE;
  if (r.first == r.last) return {port_op(eq, r.first)};
  std::vector<Op> ops;
  if (r.first > 0) ops.push_back(port_op(ge, r.first));
  if (r.last < 65535) ops.push_back(port_op(le, r.last));
  return ops;
}

std::vector<Op> condition_ops(const Condition& c) {
  switch (c.kind) {
    case Condition::Kind::kLocalPort:
      return port_ops(true, c.ports);
    case Condition::Kind::kRemotePort:
      return port_ops(false, c.ports);
    case Condition::Kind::kLocalPrefix:
      return {prefix_op(INET_DIAG_BC_S_COND, c.prefix)};
    case Condition::Kind::kRemotePrefix:
      return {prefix_op(INET_DIAG_BC_D_COND, c.prefix)};
  }
  return {};
}

size_t size_of(const std::vector<Op>& term) {
  size_t n = 0;
  for (const Op& op : term) n += kOpSize + op.operand_size;
  return n;
}

void put_op(std::vector<uint8_t>& out, uint8_t code, size_t yes, size_t no) {
  inet_diag_bc_op op{code, static_cast<uint8_t>(yes), static_cast<uint16_t>(no)};
  const auto* p = reinterpret_cast<const uint8_t*>(&op);
  out.insert(out.end(), p, p + sizeof op);
}

}  // namespace

Result<std::vector<uint8_t>> compile_bytecode(const SocketFilter& filter) {
  // Lower every group to terms; a group with a term that always holds
  // constrains nothing and is left out.
  std::vector<std::vector<std::vector<Op>>> groups;
  for (const AnyOf& any : filter.all_of) {
    std::vector<std::vector<Op>> terms;
    bool always = false;
    for (const Condition& c : any) {
      terms.push_back(condition_ops(c));
      if (terms.back().empty()) always = true;
    }
    if (!always) groups.push_back(std::move(terms));
  }
  if (groups.empty()) return std::vector<uint8_t>{};

  size_t total = 0;
  for (const auto& terms : groups) {
    for (size_t i = 0; i < terms.size(); ++i) total += size_of(terms[i]) + (i + 1 < terms.size() ? kOpSize : 0);
  }
  // An empty group never holds: a lone JMP past the end rejects everything.
  const bool never = std::any_of(groups.begin(), groups.end(), [](const auto& t) { return t.empty(); });
  if (never) {
    std::vector<uint8_t> out;
    put_op(out, INET_DIAG_BC_JMP, kOpSize, 2 * kOpSize);
    return out;
  }
  if (total > kMaxProgram)
    return Error(0, "the socket filter compiles to " + std::to_string(total) + " bytes of bytecode, more than " +
                        std::to_string(kMaxProgram) + " fit in a request");
  const size_t reject = total + 4;

  std::vector<uint8_t> out;
  out.reserve(total);
  for (const auto& terms : groups) {
    size_t group_end = out.size();
    for (size_t i = 0; i < terms.size(); ++i) group_end += size_of(terms[i]) + (i + 1 < terms.size() ? kOpSize : 0);
    for (size_t i = 0; i < terms.size(); ++i) {
      const bool last = i + 1 == terms.size();
      const size_t next_term = out.size() + size_of(terms[i]) + kOpSize;
      for (const Op& op : terms[i]) {
        // Failing: try the group's next term, or reject if none is left.
        const size_t fail = (last ? reject : next_term) - out.size();
        put_op(out, op.code, kOpSize + op.operand_size, fail);
        out.insert(out.end(), op.operand, op.operand + op.operand_size);
      }
      // Holding: the group holds, skip its other terms.
      if (!last) put_op(out, INET_DIAG_BC_JMP, kOpSize, group_end - out.size());
    }
  }
  return out;
}

}  // namespace tcpreap
