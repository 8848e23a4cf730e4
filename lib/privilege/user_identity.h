#pragma once
// Who an unprivileged tcpreapd runs as: a user of the host's user database,
// resolved once, before the daemon gives up root (drop_capabilities).

#include <sys/types.h>

#include <string>

#include "core/error.h"

namespace tcpreap {

struct UserIdentity {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;  // the user's primary group
  bool operator==(const UserIdentity&) const = default;
};

// The default of `tcpreapd --user`: the traditional unprivileged account,
// which owns no file (Debian's uid 65534).
inline constexpr const char* kDefaultDaemonUser = "nobody";

// `name` as a user name of the user database, or a numeric uid (with the
// gid of its entry, or the same number when it has none). An unknown user
// is an Error naming it.
Result<UserIdentity> lookup_user(const std::string& name);

// The calling thread's real, effective and saved uids: whether any is 0.
bool runs_as_root();

}  // namespace tcpreap
