#include "privilege/capabilities.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <bit>
#include <cerrno>
#include <memory>

namespace tcpreap {

namespace {

struct CapFree {
  void operator()(void* p) const { cap_free(p); }
};
using CapPtr = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }

// Capabilities the running kernel knows (libcap asks it).
int kernel_cap_count() {
  const int n = static_cast<int>(cap_max_bits());
  return n > 64 ? 64 : n;
}

}  // namespace

uint64_t network_capabilities() { return bit(CAP_NET_ADMIN) | bit(CAP_NET_RAW); }
uint64_t namespace_capabilities() { return bit(CAP_SYS_ADMIN) | bit(CAP_SYS_PTRACE); }

std::string capability_name(int cap) {
  std::unique_ptr<char, CapFree> name(cap_to_name(static_cast<cap_value_t>(cap)));
  if (!name) return "cap_" + std::to_string(cap);
  std::string s(name.get());
  // libcap says "cap_net_admin"; the kernel's and systemd's spelling is upper case.
  for (char& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return s;
}

Result<CapabilitySets> read_capability_sets() {
  CapPtr caps(cap_get_proc());
  if (!caps) return Error(errno, "reading the process's capabilities");
  CapabilitySets s;
  for (int c = 0; c < kernel_cap_count(); ++c) {
    const auto v = static_cast<cap_value_t>(c);
    cap_flag_value_t on = CAP_CLEAR;
    if (cap_get_flag(caps.get(), v, CAP_EFFECTIVE, &on) == 0 && on == CAP_SET) s.effective |= bit(c);
    if (cap_get_flag(caps.get(), v, CAP_PERMITTED, &on) == 0 && on == CAP_SET) s.permitted |= bit(c);
    if (cap_get_flag(caps.get(), v, CAP_INHERITABLE, &on) == 0 && on == CAP_SET) s.inheritable |= bit(c);
    if (cap_get_ambient(v) == 1) s.ambient |= bit(c);
    if (cap_get_bound(v) == 1) s.bounding |= bit(c);
  }
  return s;
}

CapabilitySets capability_target(const CapabilitySets& now, uint64_t keep) {
  keep &= network_capabilities() | namespace_capabilities();
  CapabilitySets t;
  t.permitted = now.permitted & keep;
  t.effective = t.permitted;
  t.inheritable = now.inheritable & keep;
  t.ambient = now.ambient & keep;
  const bool may_drop_bounding = ((now.effective | now.permitted) & bit(CAP_SETPCAP)) != 0;
  t.bounding = may_drop_bounding ? now.bounding & keep : now.bounding;
  return t;
}

int CapabilityDrop::dropped() const {
  const uint64_t was = before.effective | before.permitted | before.inheritable | before.ambient | before.bounding;
  const uint64_t is = after.effective | after.permitted | after.inheritable | after.ambient | after.bounding;
  return std::popcount(was & ~is);
}

std::string CapabilityDrop::summary() const {
  const bool admin = has(CAP_NET_ADMIN), raw = has(CAP_NET_RAW);
  std::string s = admin && raw ? "CAP_NET_ADMIN and CAP_NET_RAW held"
                  : admin      ? "CAP_NET_ADMIN held, CAP_NET_RAW missing"
                  : raw        ? "CAP_NET_RAW held, CAP_NET_ADMIN missing"
                               : "neither CAP_NET_ADMIN nor CAP_NET_RAW held";
  const bool sys_admin = has(CAP_SYS_ADMIN), ptrace = has(CAP_SYS_PTRACE);
  if (sys_admin || ptrace)
    s += std::string("; ") + (sys_admin && ptrace ? "CAP_SYS_ADMIN and CAP_SYS_PTRACE" : sys_admin ? "CAP_SYS_ADMIN" : "CAP_SYS_PTRACE") +
         " held";
  const int n = dropped();
  s += "; " + (n == 0 ? std::string("nothing else to drop") : std::to_string(n) + (n == 1 ? " other" : " others") + " dropped");
  const uint64_t left = after.bounding & ~network_capabilities() & ~after.permitted;
  if (user) s += "; switched to user " + user->name + " (uid " + std::to_string(user->uid) + ")";
  if (left != 0) s += " (the bounding set keeps " + std::to_string(std::popcount(left)) + ": no CAP_SETPCAP to drop them; no_new_privs is set)";
  return s;
}

namespace {

// Becomes `user` with the capabilities kept: libcap raises CAP_SETGID and
// CAP_SETUID for the calls and keeps the permitted set across setuid
// (PR_SET_KEEPCAPS); the effective set is empty afterwards, and the capset
// that follows restores the two.
Status become_user(const UserIdentity& user) {
  if (user.uid == 0) return Error(0, "refusing to switch to user '" + user.name + "': uid 0 is root");
  if (cap_setgroups(user.gid, 0, nullptr) != 0)
    return Error(errno, "switching to group " + std::to_string(user.gid) + " of user '" + user.name +
                            "' (needs CAP_SETGID)");
  if (cap_setuid(user.uid) != 0)
    return Error(errno, "switching to user '" + user.name + "' (uid " + std::to_string(user.uid) +
                            "; needs CAP_SETUID)");
  uid_t r = 0, e = 0, s = 0;
  gid_t gr = 0, ge = 0, gs = 0;
  if (::getresuid(&r, &e, &s) != 0 || ::getresgid(&gr, &ge, &gs) != 0) return Error(errno, "reading the ids back");
  if (r != user.uid || e != user.uid || s != user.uid || gr != user.gid || ge != user.gid || gs != user.gid ||
      ::getgroups(0, nullptr) != 0)
    return Error(0, "switching to user '" + user.name + "' left other ids in place");
  return Ok{};
}

}  // namespace

Result<CapabilityDrop> drop_capabilities(uint64_t keep, const std::optional<UserIdentity>& become) {
  auto before = read_capability_sets();
  if (!before) return before.error();
  const CapabilitySets target = capability_target(*before, keep);
  const bool switching = become && runs_as_root();

  // The bounding set first: dropping from it needs CAP_SETPCAP effective,
  // which the capset below gives up.
  if (target.bounding != before->bounding) {
    CapPtr raise(cap_get_proc());
    if (!raise) return Error(errno, "reading the process's capabilities");
    const cap_value_t setpcap[] = {CAP_SETPCAP};
    if (cap_set_flag(raise.get(), CAP_EFFECTIVE, 1, setpcap, CAP_SET) != 0 || cap_set_proc(raise.get()) != 0)
      return Error(errno, "raising CAP_SETPCAP to shrink the bounding set");
    for (int c = 0; c < kernel_cap_count(); ++c)
      if ((before->bounding & bit(c)) && !(target.bounding & bit(c)) && cap_drop_bound(static_cast<cap_value_t>(c)) != 0)
        return Error(errno, "dropping " + capability_name(c) + " from the bounding set");
  }
  // Ambient capabilities survive execve; tcpreap execs nothing, but what
  // it does not use it should not carry.
  for (int c = 0; c < kernel_cap_count(); ++c)
    if ((before->ambient & bit(c)) && !(target.ambient & bit(c)) &&
        cap_set_ambient(static_cast<cap_value_t>(c), CAP_CLEAR) != 0)
      return Error(errno, "clearing the ambient " + capability_name(c));

  if (switching) {
    if (auto st = become_user(*become); !st) return st.error();
  }

  auto now = read_capability_sets();
  if (!now) return now.error();
  if (now->effective != target.effective || now->permitted != target.permitted ||
      now->inheritable != target.inheritable) {
    CapPtr caps(cap_init());
    if (!caps) return Error(errno, "allocating a capability set");
    for (int c = 0; c < kernel_cap_count(); ++c) {
      const cap_value_t v[] = {static_cast<cap_value_t>(c)};
      if ((target.effective & bit(c)) && cap_set_flag(caps.get(), CAP_EFFECTIVE, 1, v, CAP_SET) != 0)
        return Error(errno, "building the capability set");
      if ((target.permitted & bit(c)) && cap_set_flag(caps.get(), CAP_PERMITTED, 1, v, CAP_SET) != 0)
        return Error(errno, "building the capability set");
      if ((target.inheritable & bit(c)) && cap_set_flag(caps.get(), CAP_INHERITABLE, 1, v, CAP_SET) != 0)
        return Error(errno, "building the capability set");
    }
    if (cap_set_proc(caps.get()) != 0) return Error(errno, "dropping capabilities (capset)");
  }
  if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return Error(errno, "setting no_new_privs");

  auto after = read_capability_sets();
  if (!after) return after.error();
  CapabilityDrop drop{*before, *after, std::nullopt};
  if (switching) drop.user = become;
  return drop;
}

}  // namespace tcpreap
