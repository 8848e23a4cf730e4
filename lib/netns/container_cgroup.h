#pragma once
// A stable name for a network namespace that only processes hold, from the
// container or Kubernetes pod its processes run in, as their cgroup path
// tells (/proc/PID/cgroup). No runtime is asked: the path is all there is.
//
// Recognised (cgroup v1 and v2, systemd and cgroupfs drivers):
//   pod        a path under "kubepods" with a component "pod<uid>" (cgroupfs:
//              /kubepods/burstable/pod<uid>/<id>) or "...-pod<uid>.slice"
//              (systemd, the UID's dashes written as underscores)
//   container  a component "<id>", "docker-<id>.scope", "cri-containerd-<id>.scope",
//              "crio-<id>.scope" or "libpod-<id>.scope", <id> being 64
//              lowercase hex digits ("crio-conmon-" and "libpod-conmon-"
//              scopes hold the runtime's monitor, not the container)
// A pod wins over its containers: they all share the pod's namespace.

#include <optional>
#include <string>
#include <string_view>

namespace tcpreap {

// "pod:<uid>" (the UID with dashes), or the container ID's first 12 hex
// digits as `docker ps` shows them; nullopt when no line of `cgroup_text`
// (the contents of /proc/PID/cgroup) names a container or a pod.
std::optional<std::string> container_name_from_cgroup(std::string_view cgroup_text);

}  // namespace tcpreap
