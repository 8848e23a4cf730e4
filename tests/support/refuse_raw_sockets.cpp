// refuse_raw_sockets ERRNO PROGRAM [ARGS...]
//
// Runs PROGRAM in place (execvp: the PID stays, as `ip netns exec` and
// setpriv keep it) under a seccomp filter that makes the sockets tcpreap's
// probes and RST fallback need fail with ERRNO (EPERM, EAFNOSUPPORT, or a
// number): socket(AF_PACKET, ...) and socket(AF_INET or AF_INET6,
// SOCK_RAW, ...). Everything else, other sockets included, is allowed. It
// stands for a kernel built without AF_PACKET, or a container runtime's
// seccomp profile that refuses raw sockets whatever the capabilities.
//
// For tests only: the filter judges the native architecture's socket(2);
// another ABI's (x32, i386) passes (seccomp_exec.h).

#include <sys/socket.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "seccomp_exec.h"

namespace {

using tcpreap::test::kNativeArch;
using tcpreap::test::low_word;

// "EPERM", "EAFNOSUPPORT" or a number; 0 when it is none of them.
int parse_errno(const std::string& text) {
  if (text == "EPERM") return EPERM;
  if (text == "EACCES") return EACCES;
  if (text == "EAFNOSUPPORT") return EAFNOSUPPORT;
  char* end = nullptr;
  const long n = std::strtol(text.c_str(), &end, 10);
  return (end != text.c_str() && *end == '\0' && n > 0 && n <= 4095) ? static_cast<int>(n) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int err = argc >= 3 ? parse_errno(argv[1]) : 0;
  if (err == 0) {
    std::fprintf(stderr, "usage: refuse_raw_sockets EPERM|EAFNOSUPPORT|ERRNO PROGRAM [ARGS...]\n");
    return 2;
  }
  // Indexes in comments; a jump's offset counts from the next instruction.
  sock_filter program[] = {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kNativeArch, 0, 9),  // another ABI: 11 allow
      /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 7),  // not socket(2): 11 allow
      /* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, low_word(0)),  // domain
      /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_PACKET, 6, 0),  // 12 refuse
      /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 1, 0),    // 8 its type
      /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 0, 3),   // other domains: 11 allow
      /* 8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, low_word(1)),  // type, with SOCK_NONBLOCK/SOCK_CLOEXEC
      /* 9 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf),           // SOCK_TYPE_MASK
      /* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_RAW, 1, 0),  // 12 refuse
      /* 11 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      /* 12 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<uint32_t>(err) & SECCOMP_RET_DATA)),
  };
  return tcpreap::test::exec_filtered("refuse_raw_sockets", program, sizeof program / sizeof program[0], argv + 2);
}
