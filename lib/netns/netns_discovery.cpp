#include "netns/netns_discovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <memory>
#include <span>
#include <unordered_map>

#include "core/proc_entries.h"
#include "netns/container_cgroup.h"

namespace tcpreap {

namespace {

// How many of a namespace's lowest PIDs have their cgroup read for a name.
constexpr size_t kMaxCgroupReads = 8;
// /proc/PID/cgroup is a line per hierarchy; a long Kubernetes path is ~250
// bytes. Beyond this it is not a cgroup file worth parsing.
constexpr size_t kMaxCgroupFileSize = 64 * 1024;

// Lower is better (the header's name order).
enum class NameRank { kHost, kBound, kContainer, kRuntime, kPid };

struct IdKey {
  uint64_t dev;
  uint64_t ino;
  bool operator==(const IdKey&) const = default;
};
struct IdKeyHash {
  size_t operator()(const IdKey& k) const { return std::hash<uint64_t>()(k.ino * 31 + k.dev); }
};

// The lowest PIDs seen in a namespace, ascending: those whose cgroups may
// name it. Fixed size: nothing allocated per process.
class LowestPids {
 public:
  void add(int pid) {
    if (size_ == pids_.size() && pid >= pids_.back()) return;
    size_t i = size_ < pids_.size() ? size_++ : pids_.size() - 1;  // when full, the highest goes
    for (; i > 0 && pids_[i - 1] > pid; --i) pids_[i] = pids_[i - 1];
    pids_[i] = pid;
  }
  std::span<const int> get() const { return std::span(pids_).first(size_); }

 private:
  std::array<int, kMaxCgroupReads> pids_{};
  size_t size_ = 0;
};

// A namespace while the walk goes on.
struct Found {
  NetnsEntry entry;
  NameRank rank = NameRank::kPid;
  bool named = false;  // entry.name holds a name of `rank`
  LowestPids pids;     // kept while a cgroup could still name it
};

class Walk {
 public:
  explicit Walk(const DiscoveryRoots& roots) : roots_(roots) {}

  Status run() {
    auto own = open_own_netns(roots_.proc_root, roots_.require_netns);
    if (!own) return own.error().wrap("reading the daemon's own network namespace");
    add(std::move(*own), NetnsSource::kHost, "", NameRank::kHost, "host");
    walk_dir(roots_.bound_dir, NetnsSource::kBound, "", NameRank::kBound);
    for (const RuntimeDir& dir : roots_.runtime_dirs)
      walk_dir(dir.path, NetnsSource::kRuntimeDir, dir.runtime, NameRank::kRuntime);
    if (Status s = walk_proc(); !s) return s;
    name_from_cgroups();
    return Ok{};
  }

  DiscoveredNamespaces take() {
    for (Found& f : found_) {
      if (!f.named) f.entry.name = "pid:" + std::to_string(f.entry.pid);
      result_.namespaces.push_back(std::move(f.entry));
    }
    std::sort(result_.namespaces.begin(), result_.namespaces.end(), [](const NetnsEntry& a, const NetnsEntry& b) {
      const bool a_host = a.source == NetnsSource::kHost, b_host = b.source == NetnsSource::kHost;
      if (a_host != b_host) return a_host;
      if (a.name != b.name) return a.name < b.name;
      return a.id.ino < b.id.ino;
    });
    return std::move(result_);
  }

 private:
  SkippedFiles& bucket(int err) {
    switch (err) {
      case ENOENT:
      case ESRCH:
        return result_.skipped.gone;
      case EACCES:
      case EPERM:
        return result_.skipped.denied;
      default:
        return result_.skipped.failed;
    }
  }

  void skip(SkippedFiles& into, Error error) {
    ++into.count;
    if (!into.first) into.first = std::move(error);
  }

  Found* find(uint64_t dev, uint64_t ino) {
    auto it = index_.find(IdKey{dev, ino});
    return it == index_.end() ? nullptr : &found_[it->second];
  }

  // Records that `opened` was reached through `source`: a new namespace, or
  // one more way to an old one (whose descriptor we already hold: `opened`
  // closes).
  Found& add(OpenNetns opened, NetnsSource source, std::string_view runtime, NameRank rank, std::string_view name) {
    Found* f = find(opened.id.dev, opened.id.ino);
    if (f == nullptr) {
      index_.emplace(IdKey{opened.id.dev, opened.id.ino}, found_.size());
      f = &found_.emplace_back();
      f->entry.id = opened.id;
      f->entry.fd = std::move(opened.fd);
      f->entry.source = source;
    } else if (source < f->entry.source) {
      f->entry.source = source;
    }
    if (source == NetnsSource::kRuntimeDir && f->entry.runtime.empty()) f->entry.runtime = runtime;
    if (!name.empty()) {
      const bool better = !f->named || rank < f->rank || (rank == f->rank && name < f->entry.name);
      if (better) {
        f->entry.name = name;
        f->rank = rank;
        f->named = true;
      }
    }
    return *f;
  }

  // Opens `name` in the directory `dir_fd` (`path` for errors) as a
  // namespace file; skips and counts it when that fails.
  std::optional<OpenNetns> open_namespace_file(int dir_fd, const char* name, const std::string& path) {
    // O_NONBLOCK: a FIFO put in a namespace directory must not stall the
    // walk (it changes nothing for an nsfs file or a regular one).
    UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd) {
      const int err = errno;
      skip(bucket(err), Error(err, "opening " + path));
      return std::nullopt;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      const int err = errno;
      skip(bucket(err), Error(err, "fstat " + path));
      return std::nullopt;
    }
    // nsfs files are regular files (mode 0444); a directory or a device is
    // not a namespace, whatever require_netns says.
    if (!S_ISREG(st.st_mode)) {
      skip(result_.skipped.not_netns, Error(0, path + " is not a regular file"));
      return std::nullopt;
    }
    if (roots_.require_netns)
      if (Status s = check_network_namespace(fd.get(), path); !s) {
        skip(result_.skipped.not_netns, s.error());
        return std::nullopt;
      }
    auto id = read_netns_id(fd.get(), path);
    if (!id) {
      skip(bucket(id.error().errnum()), id.error());
      return std::nullopt;
    }
    return OpenNetns{std::move(fd), *id};
  }

  void walk_dir(const std::string& dir, NetnsSource source, std::string_view runtime, NameRank rank) {
    DirPtr d = open_dir_at(AT_FDCWD, dir.c_str());
    if (!d) {
      const int err = errno;
      if (err != ENOENT) skip(bucket(err), Error(err, "opening directory " + dir));
      return;  // no such directory: that runtime is not in use here
    }
    errno = 0;
    while (const dirent* e = ::readdir(d.get())) {
      const std::string_view name(e->d_name);
      if (name == "." || name == "..") continue;
      const std::string path = dir + "/" + e->d_name;
      if (auto opened = open_namespace_file(::dirfd(d.get()), e->d_name, path))
        add(std::move(*opened), source, runtime, rank, name);
      errno = 0;
    }
    if (errno != 0) {
      const int err = errno;
      skip(bucket(err), Error(err, "reading directory " + dir));
    }
  }

  Status walk_proc() {
    DirPtr proc = open_dir_at(AT_FDCWD, roots_.proc_root.c_str());
    if (!proc) return Error(errno, "opening " + roots_.proc_root);
    const int proc_fd = ::dirfd(proc.get());
    char rel[32];  // "<pid>/ns/net", relative to proc_fd: no allocation per process
    errno = 0;
    while (const dirent* e = ::readdir(proc.get())) {
      const std::optional<int> parsed = parse_pid(e->d_name);
      if (!parsed) continue;
      const int pid = *parsed;
      ++result_.processes;
      std::snprintf(rel, sizeof rel, "%d/ns/net", pid);
      // Most processes are in a namespace already seen. The link's text
      // names its inode ("net:[4026531840]") for less than a stat through
      // it costs (4.5 vs 7.2 µs per process among 10 000, Linux 6.18): the
      // kernel only prints the number, where following the link looks up
      // nsfs's dentry. Every namespace is on nsfs's one superblock (the
      // host's device) and nsfs inode numbers are unique, so a known inode
      // there is that namespace.
      char link[64];
      const ssize_t n = ::readlinkat(proc_fd, rel, link, sizeof link);
      if (n < 0 && errno != EINVAL) {  // EINVAL: not a symlink (a fake tree): stat it below
        const int err = errno;
        skip(bucket(err), Error(err, "readlink " + roots_.proc_root + "/" + rel));
        errno = 0;
        continue;
      }
      Found* f = nullptr;
      if (n > 0) {
        if (auto ino = linked_inode(std::string_view(link, static_cast<size_t>(n)), "net"))
          f = find(found_.front().entry.id.dev, *ino);  // found_.front(): the host's
      }
      if (f == nullptr) {
        struct stat st {};
        if (::fstatat(proc_fd, rel, &st, 0) != 0) {
          const int err = errno;
          skip(bucket(err), Error(err, "stat " + roots_.proc_root + "/" + rel));
          errno = 0;
          continue;
        }
        f = find(st.st_dev, st.st_ino);
      }
      if (f == nullptr) {
        // New, or the process moved between the stat and the open: the
        // identity of the descriptor is the one that counts.
        auto opened = open_namespace_file(proc_fd, rel, roots_.proc_root + "/" + rel);
        if (!opened) {
          errno = 0;
          continue;
        }
        f = &add(std::move(*opened), NetnsSource::kProcess, "", NameRank::kPid, "");
      }
      if (f->entry.pid == 0 || pid < f->entry.pid) f->entry.pid = pid;
      if (f->entry.source != NetnsSource::kHost) f->pids.add(pid);
      errno = 0;
    }
    if (errno != 0) return Error(errno, "reading " + roots_.proc_root);
    return Ok{};
  }

  // The contents of /proc/<pid>/cgroup, or nothing.
  std::optional<std::string> read_cgroup(int pid) const {
    const std::string path = roots_.proc_root + "/" + std::to_string(pid) + "/cgroup";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    std::string text;
    char buf[4096];
    while (text.size() < kMaxCgroupFileSize) {
      const ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::nullopt;
      if (n == 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    return text;
  }

  void name_from_cgroups() {
    for (Found& f : found_) {
      if (f.entry.source == NetnsSource::kHost) continue;
      for (int pid : f.pids.get()) {
        auto text = read_cgroup(pid);
        if (!text) continue;  // gone since: the next PID may tell
        if (auto name = container_name_from_cgroup(*text)) {
          f.entry.container = *name;
          if (!f.named || f.rank > NameRank::kContainer) {
            f.entry.name = std::move(*name);
            f.rank = NameRank::kContainer;
            f.named = true;
          }
          break;
        }
      }
    }
  }

  const DiscoveryRoots& roots_;
  std::vector<Found> found_;
  std::unordered_map<IdKey, size_t, IdKeyHash> index_;
  DiscoveredNamespaces result_;
};

}  // namespace

std::string_view netns_source_name(NetnsSource source) {
  switch (source) {
    case NetnsSource::kHost:
      return "host";
    case NetnsSource::kBound:
      return "bound";
    case NetnsSource::kRuntimeDir:
      return "runtime";
    case NetnsSource::kProcess:
      return "process";
  }
  return "?";
}

std::vector<RuntimeDir> default_runtime_dirs() { return {{"/run/docker/netns", "docker"}}; }

Result<DiscoveredNamespaces> discover_namespaces(const DiscoveryRoots& roots) {
  Walk walk(roots);
  if (Status s = walk.run(); !s) return s.error();
  return walk.take();
}

}  // namespace tcpreap
