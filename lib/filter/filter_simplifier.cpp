#include "filter/filter_simplifier.h"

#include <algorithm>

namespace tcpreap {

namespace {

bool is_port(Condition::Kind k) { return k == Condition::Kind::kLocalPort || k == Condition::Kind::kRemotePort; }

// Whether every socket `a` holds for, `b` holds for too. Conservative: a
// false may hide an implication (say, across families); a true never lies.
bool implies(const Condition& a, const Condition& b) {
  if (a.kind != b.kind) return false;
  if (is_port(a.kind)) return b.ports.first <= a.ports.first && a.ports.last <= b.ports.last;
  // Same family only: an IPv4 prefix also holds for v4-mapped IPv6
  // addresses (Cidr::contains), which an IPv6 prefix sees differently.
  return a.prefix.address.family == b.prefix.address.family && b.prefix.prefix_len <= a.prefix.prefix_len &&
         b.prefix.contains(a.prefix.address);
}

// "Any of a" implies "any of b": each condition of `a` implies one of `b`.
bool implies(const AnyOf& a, const AnyOf& b) {
  return std::all_of(a.begin(), a.end(), [&](const Condition& ca) {
    return std::any_of(b.begin(), b.end(), [&](const Condition& cb) { return implies(ca, cb); });
  });
}

// "All of a" implies "all of b": each group of `b` is implied by one of `a`.
bool implies(const Clause& a, const Clause& b) {
  return std::all_of(b.begin(), b.end(), [&](const AnyOf& gb) {
    return std::any_of(a.begin(), a.end(), [&](const AnyOf& ga) { return implies(ga, gb); });
  });
}

// Keeps the items no other item makes redundant. `redundant(x, y)`: with
// `y` kept, `x` adds nothing. Of two that make each other redundant (equal
// ones), the first stays.
template <typename T, typename Redundant>
std::vector<T> drop_redundant(std::vector<T> items, Redundant redundant) {
  std::vector<bool> dropped(items.size(), false);
  for (size_t i = 0; i < items.size(); ++i)
    for (size_t j = 0; j < items.size() && !dropped[i]; ++j) {
      if (i == j || dropped[j] || !redundant(items[i], items[j])) continue;
      if (j < i || !redundant(items[j], items[i])) dropped[i] = true;
    }
  std::vector<T> kept;
  for (size_t i = 0; i < items.size(); ++i)
    if (!dropped[i]) kept.push_back(std::move(items[i]));
  return kept;
}

// One end's port ranges, merged where they overlap or touch.
void merge_ports(Condition::Kind kind, const AnyOf& group, AnyOf& out) {
  std::vector<PortRange> ranges;
  for (const Condition& c : group)
    if (c.kind == kind) ranges.push_back(c.ports);
  std::sort(ranges.begin(), ranges.end(),
            [](const PortRange& a, const PortRange& b) { return a.first < b.first; });
  for (size_t i = 0; i < ranges.size();) {
    PortRange merged = ranges[i];
    for (++i; i < ranges.size() && ranges[i].first <= static_cast<uint32_t>(merged.last) + 1; ++i)
      merged.last = std::max(merged.last, ranges[i].last);
    out.push_back(Condition{kind, merged, {}});
  }
}

AnyOf simplify_group(const AnyOf& group) {
  AnyOf out;
  merge_ports(Condition::Kind::kLocalPort, group, out);
  merge_ports(Condition::Kind::kRemotePort, group, out);
  AnyOf prefixes;
  for (const Condition& c : group)
    if (!is_port(c.kind)) prefixes.push_back(c);
  // In "any of", a condition that implies another adds nothing.
  prefixes = drop_redundant(std::move(prefixes), [](const Condition& x, const Condition& y) { return implies(x, y); });
  out.insert(out.end(), prefixes.begin(), prefixes.end());
  return out;
}

Clause simplify_clause(const Clause& clause) {
  Clause out;
  for (const AnyOf& g : clause) out.push_back(simplify_group(g));
  // In "all of", a group another group implies adds nothing.
  return drop_redundant(std::move(out), [](const AnyOf& x, const AnyOf& y) { return implies(y, x); });
}

bool never_holds(const Clause& c) {
  return std::any_of(c.begin(), c.end(), [](const AnyOf& g) { return g.empty(); });
}

std::vector<Clause> simplify_alternatives(const std::vector<Clause>& clauses) {
  if (clauses.empty()) return {};
  std::vector<Clause> multi;
  AnyOf single;  // the conditions of every one-group clause
  bool any_single = false;
  for (const Clause& c : clauses) {
    Clause s = simplify_clause(c);
    if (s.empty()) return {};  // one alternative always holds: no constraint
    if (never_holds(s)) continue;
    if (s.size() == 1) {
      single.insert(single.end(), s[0].begin(), s[0].end());
      any_single = true;
    } else {
      multi.push_back(std::move(s));
    }
  }
  std::vector<Clause> out;
  if (any_single) out.push_back(Clause{simplify_group(single)});
  out.insert(out.end(), multi.begin(), multi.end());
  // Of the alternatives, one that implies another adds nothing.
  out = drop_redundant(std::move(out), [](const Clause& x, const Clause& y) { return implies(x, y); });
  if (out.empty()) out.push_back(Clause{AnyOf{}});  // every alternative never holds
  return out;
}

}  // namespace

SocketFilter simplify(SocketFilter filter) {
  filter.all_of = simplify_clause(filter.all_of);
  filter.any_clause = simplify_alternatives(filter.any_clause);
  return filter;
}

}  // namespace tcpreap
