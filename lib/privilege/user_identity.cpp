#include "privilege/user_identity.h"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <vector>

namespace tcpreap {

namespace {

// getpwnam_r/getpwuid_r: 0 and a null result when there is no such user.
Result<std::optional<UserIdentity>> from_passwd(bool by_uid, const std::string& name, uid_t uid) {
  long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<size_t>(hint) : 4096);
  while (true) {
    passwd pw{};
    passwd* found = nullptr;
    const int r = by_uid ? ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found)
                         : ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    if (r == ERANGE && buf.size() < (size_t{1} << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (r != 0) return Error(r, "looking up user '" + name + "'");
    if (!found) return std::optional<UserIdentity>{};
    return std::optional<UserIdentity>{UserIdentity{found->pw_name, found->pw_uid, found->pw_gid}};
  }
}

}  // namespace

Result<UserIdentity> lookup_user(const std::string& name) {
  if (name.empty()) return Error(0, "an empty user name");
  uid_t uid = 0;
  const char* end = name.data() + name.size();
  if (auto [p, ec] = std::from_chars(name.data(), end, uid); ec == std::errc{} && p == end) {
    auto entry = from_passwd(true, name, uid);
    if (!entry) return entry.error();
    if (*entry) return **entry;
    return UserIdentity{name, uid, static_cast<gid_t>(uid)};
  }
  auto entry = from_passwd(false, name, 0);
  if (!entry) return entry.error();
  if (!*entry) return Error(0, "no user '" + name + "' in the user database");
  return **entry;
}

bool runs_as_root() {
  uid_t r = 0, e = 0, s = 0;
  if (::getresuid(&r, &e, &s) != 0) return ::geteuid() == 0;
  return r == 0 || e == 0 || s == 0;
}

}  // namespace tcpreap
