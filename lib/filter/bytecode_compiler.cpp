#include "filter/bytecode_compiler.h"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

#include "filter/filter_simplifier.h"

// How the kernel runs the program (net/ipv4/inet_diag.c, inet_diag_bc_run):
// an op is {code, yes, no}; the condition's result picks `yes` or `no` as the
// number of bytes to jump forward. Landing exactly on the end accepts the
// socket; jumping past it rejects. inet_diag_bc_audit() insists that `yes`
// steps to the very next op (so ops are a straight line) and that every `no`
// lands on an op boundary, on the end, or exactly 4 bytes past it.
//
// Layout for (A1 or A2) and (B1), then one of the clauses (C1) or (D1):
//
//   A1: cond..   no -> A2        a term: one or two ops, each failing to the
//       JMP      -> B1           next term of its group; a term that holds
//   A2: cond..   no -> REJECT    jumps over the rest of its group. The last
//   B1: cond..   no -> REJECT    term of a group fails to where the whole
//   C1: cond..   no -> D1        conjunction fails: REJECT for all_of, the
//       JMP      -> END          next clause for a clause. A clause that
//   D1: cond..   no -> REJECT    holds jumps to END; the last falls into it.
//   END (accept)   REJECT = END + 4

namespace tcpreap {

namespace {

constexpr size_t kOpSize = sizeof(inet_diag_bc_op);
// The attribute's length is a u16 that counts its own header too.
constexpr size_t kMaxProgram = 0xffff - MNL_ATTR_HDRLEN;

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

// A group lowered to terms (each a list of ops that must all hold).
using Terms = std::vector<std::vector<Op>>;

// A clause lowered: nullopt when it always holds (every group has a term
// that always holds); an empty Terms inside when a group never holds.
std::optional<std::vector<Terms>> lower(const Clause& clause) {
  std::vector<Terms> groups;
  for (const AnyOf& any : clause) {
    Terms terms;
    bool always = false;
    for (const Condition& c : any) {
      terms.push_back(condition_ops(c));
      if (terms.back().empty()) always = true;
    }
    if (!always) groups.push_back(std::move(terms));
  }
  if (groups.empty()) return std::nullopt;
  return groups;
}

bool never_holds(const std::vector<Terms>& groups) {
  return std::any_of(groups.begin(), groups.end(), [](const Terms& t) { return t.empty(); });
}

// Ops with symbolic jump targets; assemble() lays them out.
class Program {
 public:
  static constexpr int kAccept = -1;
  static constexpr int kReject = -2;

  int new_label() {
    labels_.push_back(0);
    return static_cast<int>(labels_.size() - 1);
  }
  void bind(int label) { labels_[static_cast<size_t>(label)] = size_; }
  // Holds: on to the next op. Fails: to `fail`.
  void cond(const Op& op, int fail) { add(op, fail); }
  void jump(int target) { add(Op{INET_DIAG_BC_JMP, {}, 0}, target); }

  // Terms of a group each fail to the next; the group's last term fails to
  // `fail`. Every group must hold to fall through.
  void conjunction(const std::vector<Terms>& groups, int fail) {
    for (const Terms& terms : groups) {
      const int group_end = new_label();
      for (size_t i = 0; i < terms.size(); ++i) {
        const bool last = i + 1 == terms.size();
        const int next = last ? fail : new_label();
        for (const Op& op : terms[i]) cond(op, next);
        if (!last) {
          jump(group_end);
          bind(next);
        }
      }
      bind(group_end);
    }
  }

  Result<std::vector<uint8_t>> assemble() const {
    if (size_ > kMaxProgram)
      return Error(0, "the socket filter compiles to " + std::to_string(size_) + " bytes of bytecode, more than " +
                          std::to_string(kMaxProgram) + " fit in a request");
    std::vector<uint8_t> out;
    out.reserve(size_);
    for (const Insn& insn : insns_) {
      const size_t target = insn.target == kAccept   ? size_
                            : insn.target == kReject ? size_ + 4
                                                     : labels_[static_cast<size_t>(insn.target)];
      inet_diag_bc_op op{insn.op.code, static_cast<uint8_t>(kOpSize + insn.op.operand_size),
                         static_cast<uint16_t>(target - out.size())};
      const auto* p = reinterpret_cast<const uint8_t*>(&op);
      out.insert(out.end(), p, p + sizeof op);
      out.insert(out.end(), insn.op.operand, insn.op.operand + insn.op.operand_size);
    }
    return out;
  }

 private:
  struct Insn {
    Op op;
    int target;
  };
  void add(const Op& op, int target) {
    insns_.push_back({op, target});
    size_ += kOpSize + op.operand_size;
  }
  std::vector<Insn> insns_;
  std::vector<size_t> labels_;
  size_t size_ = 0;
};

// A program that rejects everything: one JMP past the end.
std::vector<uint8_t> reject_all() {
  Program p;
  p.jump(Program::kReject);
  return *p.assemble();
}

}  // namespace

Result<std::vector<uint8_t>> compile_bytecode(const SocketFilter& original) {
  const SocketFilter filter = simplify(original);
  auto all_of = lower(filter.all_of);
  if (all_of && never_holds(*all_of)) return reject_all();

  // The clauses: one that always holds makes the alternative vacuous;
  // those that never hold drop out.
  std::vector<std::vector<Terms>> clauses;
  bool clauses_vacuous = filter.any_clause.empty();
  for (const Clause& c : filter.any_clause) {
    auto lowered = lower(c);
    if (!lowered) {
      clauses_vacuous = true;
      break;
    }
    if (!never_holds(*lowered)) clauses.push_back(std::move(*lowered));
  }
  if (!clauses_vacuous && clauses.empty()) return reject_all();
  if (clauses_vacuous) clauses.clear();
  if (!all_of && clauses.empty()) return std::vector<uint8_t>{};

  Program p;
  if (all_of) p.conjunction(*all_of, Program::kReject);
  for (size_t k = 0; k < clauses.size(); ++k) {
    const bool last = k + 1 == clauses.size();
    const int next = last ? Program::kReject : p.new_label();
    p.conjunction(clauses[k], next);
    if (!last) {
      p.jump(Program::kAccept);
      p.bind(next);
    }
  }
  return p.assemble();
}

}  // namespace tcpreap
