// refuse_capset PROGRAM [ARGS...]
//
// Runs PROGRAM in place (execvp: the PID stays, as `ip netns exec` and
// setpriv keep it) under a seccomp filter that makes capset(2) fail with
// EPERM, as tcpreapd.service's SystemCallFilter=~@privileged with
// SystemCallErrorNumber=EPERM does. Everything else is allowed: capget,
// prctl (the bounding and ambient sets, no_new_privs) included.
//
// For tests only: the filter judges the native architecture's capset(2);
// another ABI's (x32, i386) passes (seccomp_exec.h).

#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>

#include "seccomp_exec.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: refuse_capset PROGRAM [ARGS...]\n");
    return 2;
  }
  // Indexes in comments; a jump's offset counts from the next instruction.
  sock_filter program[] = {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, tcpreap::test::kNativeArch, 0, 2),  // another ABI: 4 allow
      /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_capset, 1, 0),  // 5 refuse
      /* 4 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      /* 5 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<uint32_t>(EPERM) & SECCOMP_RET_DATA)),
  };
  return tcpreap::test::exec_filtered("refuse_capset", program, sizeof program / sizeof program[0], argv + 1);
}
