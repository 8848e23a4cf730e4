#pragma once
// How many TCP sockets a network namespace holds, from the kernel's own
// per-namespace counters: no dump, no walk of the socket hash.
//
// Why: namespaces share the host's established hash, so a SOCK_DIAG dump of
// an empty namespace still walks every socket of the machine (kernel-notes,
// "Scan cost"). The counters /proc/net/sockstat "TCP: inuse N" (IPv4) and
// /proc/net/sockstat6 "TCP6: inuse N" (IPv6) are kept per namespace
// (sock_prot_inuse_add() on net->core.prot_inuse) and cost a few
// microseconds to read, whatever the machine holds.
//
// What "inuse" counts (Linux 6.18, net/ipv4/inet_hashtables.c and
// tcp_diag.c; confirmed by tcp_socket_count_kernel_test): a full socket from
// the moment it is hashed - listen() (__inet_hash) or connect() / a child
// made by the handshake (inet_ehash_nolisten) - until it is unhashed, which
// tcp_set_state(TCP_CLOSE) does before it stores the state. So listeners and
// every full connection socket count, orphans still closing included; an
// established pair on one host counts 2. It does not count:
//   - time-wait sockets, whose dump state is their tw_substate: TIME-WAIT,
//     or FIN-WAIT-2 for an orphan whose FIN was acked (tcp_time_wait(sk,
//     TCP_FIN_WAIT2, ...): the usual fate of a closed socket whose peer
//     never closes);
//   - request sockets (TCP_NEW_SYN_RECV, dumped as SYN-RECV), which a dump
//     asking for SYN-RECV also lists;
//   - sockets only bound, or made and never used (TCP_CLOSE, never hashed);
//     a dump lists bound ones for the pseudo-state TCP_BOUND_INACTIVE (bit
//     13, Linux 6.8+), reported as CLOSE. A CLOSE-only dump lists nothing on
//     6.18, but CLOSE is treated as uncounted: what the kernel reports as
//     CLOSE is exactly what inuse leaves out.
// in_use_counts() says which dumps are therefore safe to skip at 0.
//
// The counters are per-CPU values summed without a lock: a read racing with
// other sockets being made and closed can be off for that instant (a count
// of 0 while a long-lived socket exists needs another socket hashed and
// unhashed on two CPUs during the read). A skipped scan is then made up by
// the next one.
//
// The files are opened by a thread inside the namespace
// (/proc/thread-self/net/..., never /proc/self/net, which is the main
// thread's namespace) and may be read from any thread afterwards: a
// /proc/net file holds its namespace from open to close (single_open_net()
// takes a reference with get_proc_net(); the seq_file keeps it), so every
// read reports the namespace it was opened in, wherever the reader is.
//
// Cost (6.18, 2 busy cores; tcp_socket_count_bench): in_use() ~2.7 us,
// whatever the host holds. The ESTABLISHED dump it can save, of an empty
// namespace: ~2.2 ms on an empty host (the dump visits every bucket of the
// shared 262 144-bucket hash) and 14-16 ms with 20 000 sockets elsewhere.
// open_in(), paid once per namespace: a median of 0.7-1.9 ms (min ~0.1 ms).
// The namespace thread's end is that slow once it has looked anything up
// under /proc/thread-self (the two opens themselves take ~25 us; the same
// trip opening /proc/self/stat instead takes 30-110 us), apparently the
// flush of its /proc entries.
//
// Lifetime: holding these descriptors keeps the namespace alive, after its
// last process has exited and its /run/netns name is gone (verified on 6.18:
// a veth peer stays in the other namespace while they are open and goes once
// they are closed). Whoever holds a TcpSocketCount for a namespace must drop
// it when that namespace vanishes from discovery, or the namespace - its
// interfaces, routes and sockets - stays forever.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/unique_fd.h"
#include "net/tcp_state.h"

namespace tcpreap {

// The number after "inuse" on the line of `text` that starts with
// `protocol_label` ("TCP:" in sockstat, "TCP6:" in sockstat6): the text must
// read "<label> inuse <digits>" followed by a space or a newline. nullopt
// when no line starts with the label, when the first line that does is not
// so (another field, no digits, a sign, a cut read with nothing after the
// digits), or when the number does not fit in 64 bits. An empty label
// matches nothing.
std::optional<uint64_t> parse_sockstat_inuse(std::string_view text, std::string_view protocol_label);

// Whether a dump restricted to `states` (its kernel mask: SYN-RECV also asks
// for request sockets) can list only sockets that "inuse" counts, so that
// skipping it when in_use() is 0 loses nothing. True for sets of ESTABLISHED,
// SYN-SENT, FIN-WAIT-1, CLOSE-WAIT, LAST-ACK, CLOSING and LISTEN (and the
// empty set); false as soon as the set holds TIME-WAIT, FIN-WAIT-2,
// SYN-RECV, CLOSE or any other bit - so false for all(), connected() and
// synchronized(), which hold FIN-WAIT-2.
bool in_use_counts(StateSet states);

// "inuse" of each family at one read.
struct TcpInUse {
  uint64_t ipv4 = 0;
  uint64_t ipv6 = 0;  // 0 when IPv6 is not counted (see counts_ipv6())

  // Saturates at UINT64_MAX (only a fake file can get there: the kernel
  // prints ints).
  uint64_t total() const { return ipv6 > UINT64_MAX - ipv4 ? UINT64_MAX : ipv4 + ipv6; }
  bool operator==(const TcpInUse&) const = default;
};

// The two counter files of one network namespace, held open. Move-only.
// Reads are const and thread-safe (pread at offset 0 into a stack buffer;
// the kernel serializes reads of one file); no allocation unless a read
// fails.
class TcpSocketCount {
 public:
  // The calling thread's namespace (/proc/thread-self/net/sockstat and
  // sockstat6). sockstat6 missing (ENOENT: a kernel without IPv6 - booted
  // with ipv6.disable=1 or built without it; a namespace's disable_ipv6
  // sysctl does not remove it) is not an error: only IPv4 is counted then.
  // Reads the files once, so a format it cannot parse fails here.
  static Result<TcpSocketCount> open_here();

  // The namespace `netns_fd` (borrowed, not closed): open_here() run on a
  // thread inside it (run_in_namespace; needs CAP_SYS_ADMIN). The result is
  // read from any thread, in any namespace.
  static Result<TcpSocketCount> open_in(int netns_fd);

  // Two files in sockstat's and sockstat6's format, opened by path (tests;
  // /proc/PID/net/... of a process in the namespace would also do, but needs
  // ptrace access to it). `where` names the namespace in error messages.
  static Result<TcpSocketCount> open_files(const std::string& sockstat_path, const std::string& sockstat6_path,
                                           const std::string& where);

  // TCP "inuse" + TCP6 "inuse", read now. An Error (errno of pread, or 0
  // for a text it cannot parse) names the file and the namespace.
  Result<uint64_t> in_use() const;
  // The same, per family.
  Result<TcpInUse> in_use_by_family() const;

  // False when sockstat6 did not exist at open: IPv6 sockets are not counted.
  bool counts_ipv6() const { return sockstat6_.valid(); }
  // The namespace, as the errors name it: "net:[4026531840]".
  const std::string& where() const { return where_; }

 private:
  TcpSocketCount(UniqueFd sockstat, UniqueFd sockstat6, std::string sockstat_path, std::string sockstat6_path,
                 std::string where);

  UniqueFd sockstat_;
  UniqueFd sockstat6_;  // invalid when the file does not exist
  // For error messages only.
  std::string sockstat_path_;
  std::string sockstat6_path_;
  std::string where_;
};

}  // namespace tcpreap
