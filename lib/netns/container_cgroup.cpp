#include "netns/container_cgroup.h"

#include <algorithm>
#include <array>

namespace tcpreap {

namespace {

constexpr size_t kContainerIdLength = 64;  // hex digits of a Docker/OCI container ID
constexpr size_t kShownIdLength = 12;      // what `docker ps`, `crictl ps` and `podman ps` show
constexpr size_t kPodUidLength = 36;       // 8-4-4-4-12 hex digits

// The scope prefixes of the runtimes' systemd cgroup drivers.
constexpr std::array<std::string_view, 4> kScopePrefixes = {"docker-", "cri-containerd-", "crio-", "libpod-"};

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool is_container_id(std::string_view s) {
  return s.size() == kContainerIdLength && std::all_of(s.begin(), s.end(), is_lower_hex);
}

std::string_view strip_suffix(std::string_view s, std::string_view suffix) {
  return s.ends_with(suffix) ? s.substr(0, s.size() - suffix.size()) : s;
}

// A pod UID as the path writes it (dashes, or underscores under systemd,
// which reserves '-' for slice nesting), given back with dashes.
std::optional<std::string> pod_uid(std::string_view s) {
  if (s.size() != kPodUidLength) return std::nullopt;
  std::string uid(s);
  for (size_t i = 0; i < uid.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (uid[i] != '-' && uid[i] != '_') return std::nullopt;
      uid[i] = '-';
    } else if (!is_lower_hex(uid[i])) {
      return std::nullopt;
    }
  }
  return uid;
}

// "pod<uid>" (cgroupfs) or "<parent slices>-pod<uid>.slice" (systemd).
std::optional<std::string> pod_of_component(std::string_view component) {
  constexpr std::string_view kPod = "pod";
  const std::string_view name = strip_suffix(component, ".slice");
  if (name.size() < kPod.size() + kPodUidLength) return std::nullopt;
  const std::string_view before_uid = name.substr(0, name.size() - kPodUidLength);
  if (before_uid != kPod && !before_uid.ends_with("-pod")) return std::nullopt;
  return pod_uid(name.substr(before_uid.size()));
}

std::optional<std::string_view> container_of_component(std::string_view component) {
  const std::string_view name = strip_suffix(component, ".scope");
  if (is_container_id(name)) return name;
  for (std::string_view prefix : kScopePrefixes)
    if (name.starts_with(prefix) && is_container_id(name.substr(prefix.size()))) return name.substr(prefix.size());
  return std::nullopt;
}

}  // namespace

std::optional<std::string> container_name_from_cgroup(std::string_view cgroup_text) {
  std::optional<std::string> container;
  while (!cgroup_text.empty()) {
    const size_t eol = cgroup_text.find('\n');
    std::string_view line = cgroup_text.substr(0, eol);
    cgroup_text.remove_prefix(eol == std::string_view::npos ? cgroup_text.size() : eol + 1);

    // "hierarchy-ID:controller-list:cgroup-path"; the path may hold colons.
    const size_t first = line.find(':');
    if (first == std::string_view::npos) continue;
    const size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    std::string_view path = line.substr(second + 1);
    const bool kubernetes = path.find("kubepods") != std::string_view::npos;

    while (!path.empty()) {
      const size_t slash = path.find('/');
      const std::string_view component = path.substr(0, slash);
      path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
      if (component.empty()) continue;
      if (kubernetes)
        if (auto uid = pod_of_component(component)) return "pod:" + *uid;
      if (!container)
        if (auto id = container_of_component(component)) container = std::string(id->substr(0, kShownIdLength));
    }
  }
  return container;
}

}  // namespace tcpreap
