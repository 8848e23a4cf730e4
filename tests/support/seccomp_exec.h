#pragma once
// The shared half of the test wrappers that run a program in place under a
// seccomp filter refusing some system calls (refuse_raw_sockets,
// refuse_capset): the native architecture a filter checks first, where an
// int argument lives, and installing a filter then exec'ing.
//
// For tests only: a filter that judges the native architecture's numbers
// lets another ABI's (x32, i386) calls pass.

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace tcpreap::test {

#if defined(__x86_64__)
inline constexpr uint32_t kNativeArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
inline constexpr uint32_t kNativeArch = AUDIT_ARCH_AARCH64;
#else
#error "seccomp_exec.h: name this architecture's AUDIT_ARCH_*"
#endif

// The offset in seccomp_data of the low 32 bits of 64-bit syscall argument
// `arg`: where an int argument lives.
constexpr uint32_t low_word(size_t arg) {
  const size_t offset = offsetof(seccomp_data, args) + arg * sizeof(uint64_t);
  return static_cast<uint32_t>(__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? offset + 4 : offset);
}

// Installs the filter `program[0..length)` on this process and execvp's
// argv[0] with argv in its place (the PID stays, as `ip netns exec` and
// setpriv keep it). Returns only on failure: 127, having said why on
// stderr, prefixed by `wrapper`.
inline int exec_filtered(const char* wrapper, sock_filter* program, size_t length, char** argv) {
  sock_fprog fprog{static_cast<unsigned short>(length), program};
  // Without CAP_SYS_ADMIN a filter needs no_new_privs; with it, it is kept
  // too (tcpreapd.service sets it as well).
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    std::fprintf(stderr, "%s: PR_SET_NO_NEW_PRIVS: %s\n", wrapper, std::strerror(errno));
    return 127;
  }
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
    std::fprintf(stderr, "%s: PR_SET_SECCOMP: %s\n", wrapper, std::strerror(errno));
    return 127;
  }
  ::execvp(argv[0], argv);
  std::fprintf(stderr, "%s: cannot run %s: %s\n", wrapper, argv[0], std::strerror(errno));
  return 127;
}

}  // namespace tcpreap::test
