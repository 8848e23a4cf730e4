// Naming a namespace after the container or pod in a process's cgroup path:
// the paths each runtime and cgroup driver writes, and the near misses that
// must name nothing.

#include "netns/container_cgroup.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace tcpreap {
namespace {

const std::string kId = "3f2a9c1b7d0e4a5b8c6d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b";  // 64 hex digits
const std::string kShort = kId.substr(0, 12);
const std::string kUid = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
const std::string kUidSystemd = "1b4e28ba_2fa1_41d2_883f_0016d3cca427";

struct Case {
  const char* what;
  std::string cgroup;
  std::optional<std::string> name;
};

class ContainerCgroup : public ::testing::TestWithParam<Case> {};

TEST_P(ContainerCgroup, NamesWhatThePathNames) {
  EXPECT_EQ(container_name_from_cgroup(GetParam().cgroup), GetParam().name) << GetParam().what;
}

INSTANTIATE_TEST_SUITE_P(
    Runtimes, ContainerCgroup,
    ::testing::Values(
        Case{"docker, systemd driver, cgroup v2", "0::/system.slice/docker-" + kId + ".scope\n", kShort},
        Case{"docker, cgroupfs driver", "0::/docker/" + kId + "\n", kShort},
        Case{"docker, cgroup v1: every hierarchy", "12:pids:/docker/" + kId + "\n1:name=systemd:/docker/" + kId + "\n",
             kShort},
        Case{"containerd CRI, systemd driver",
             "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidSystemd +
                 ".slice/cri-containerd-" + kId + ".scope\n",
             "pod:" + kUid},
        Case{"CRI-O, guaranteed pod (no QoS slice)",
             "0::/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/crio-" + kId + ".scope\n", "pod:" + kUid},
        Case{"kubernetes, cgroupfs driver", "0::/kubepods/besteffort/pod" + kUid + "/" + kId + "\n", "pod:" + kUid},
        Case{"kind: kubelet nested in a container",
             "0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
             "kubelet-kubepods-besteffort-pod" + kUidSystemd + ".slice/cri-containerd-" + kId + ".scope\n",
             "pod:" + kUid},
        Case{"podman", "0::/machine.slice/libpod-" + kId + ".scope/container\n", kShort},
        Case{"podman rootless",
             "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope\n", kShort},
        Case{"cri-containerd outside kubernetes", "0::/system.slice/cri-containerd-" + kId + ".scope\n", kShort},
        Case{"the pod wins whichever line comes first",
             "1:name=systemd:/docker/" + kId + "\n0::/kubepods/burstable/pod" + kUid + "/" + kId + "\n",
             "pod:" + kUid},
        Case{"no newline at the end", "0::/docker/" + kId, kShort}));

INSTANTIATE_TEST_SUITE_P(
    NearMisses, ContainerCgroup,
    ::testing::Values(
        Case{"the host's root cgroup", "0::/\n", std::nullopt},
        Case{"a service", "0::/system.slice/ssh.service\n", std::nullopt},
        Case{"a session", "0::/user.slice/user-1000.slice/session-3.scope\n", std::nullopt},
        Case{"32 hex digits (a hash, not a container)",
             "4:memory:/process_api/38b965b61a27306a99b4d7dbb4d0d624\n", std::nullopt},
        Case{"63 hex digits", "0::/docker/" + kId.substr(1) + "\n", std::nullopt},
        Case{"65 hex digits", "0::/docker/" + kId + "a\n", std::nullopt},
        Case{"upper-case hex", "0::/docker/3F2A9C1B7D0E4A5B8C6D1E2F3A4B5C6D7E8F9A0B1C2D3E4F5A6B7C8D9E0F1A2B\n",
             std::nullopt},
        Case{"crio's conmon", "0::/system.slice/crio-conmon-" + kId + ".scope\n", std::nullopt},
        Case{"podman's conmon", "0::/machine.slice/libpod-conmon-" + kId + ".scope\n", std::nullopt},
        Case{"an unknown scope prefix", "0::/system.slice/foo-" + kId + ".scope\n", std::nullopt},
        Case{"pod<uid> outside kubepods", "0::/system.slice/pod" + kUid + "\n", std::nullopt},
        Case{"a UID one digit short", "0::/kubepods/besteffort/pod" + kUid.substr(1) + "\n", std::nullopt},
        Case{"a UID with a separator out of place",
             "0::/kubepods/besteffort/pod1b4e28ba2-fa1-41d2-883f-0016d3cca427\n", std::nullopt},
        Case{"a line without colons", "docker/" + kId + "\n", std::nullopt},
        Case{"a line with one colon", "0:/docker/" + kId + "\n", std::nullopt},
        Case{"nothing", "", std::nullopt}));

}  // namespace
}  // namespace tcpreap
