#pragma once
// Exit codes of the tcpreap programs; operators' scripts test them.

namespace tcpreap::exit_code {

constexpr int kOk = 0;
constexpr int kFailure = 1;  // the kernel or the system refused
constexpr int kUsage = 2;    // bad command line
constexpr int kPartial = 3;  // tcpreap -A: done, but some network namespaces could not be entered or scanned
constexpr int kConfig = 78;  // EX_CONFIG: the config file is invalid

}  // namespace tcpreap::exit_code
