#include "netns/netns_identity.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>

namespace tcpreap {

namespace {

// Linux 6.18's NS_GET_ID (include/uapi/linux/nsfs.h); Debian 12's headers
// predate it. Older kernels answer ENOTTY.
#ifndef NS_GET_ID
constexpr unsigned long kNsGetId = _IOR(NSIO, 13, __u64);
#else
constexpr unsigned long kNsGetId = NS_GET_ID;
#endif

}  // namespace

std::string NetnsId::to_string() const { return "net:[" + std::to_string(ino) + "]"; }

Result<NetnsId> read_netns_id(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error(errno, "fstat " + path);
  NetnsId id;
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  uint64_t cookie = 0;
  if (::ioctl(fd, kNsGetId, &cookie) == 0) id.cookie = cookie;
  return id;
}

Status check_network_namespace(int fd, const std::string& path) {
  const int type = ::ioctl(fd, NS_GET_NSTYPE);
  if (type < 0) return Error(errno, path + " is not a namespace (NS_GET_NSTYPE)");
  if (type != CLONE_NEWNET) return Error(0, path + " is a namespace of another type than network");
  return Ok{};
}

Result<OpenNetns> open_own_netns(const std::string& proc_root, bool require_netns) {
  const std::string path = proc_root + "/thread-self/ns/net";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error(errno, "opening " + path);
  if (require_netns)
    if (Status s = check_network_namespace(fd.get(), path); !s) return s.error();
  auto id = read_netns_id(fd.get(), path);
  if (!id) return id.error();
  return OpenNetns{std::move(fd), *id};
}

}  // namespace tcpreap
