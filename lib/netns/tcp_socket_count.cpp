#include "netns/tcp_socket_count.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <utility>

#include "netns/namespace_sockets.h"

namespace tcpreap {

namespace {

constexpr std::string_view kInuse = " inuse ";
constexpr std::string_view kIpv4Label = "TCP:";
constexpr std::string_view kIpv6Label = "TCP6:";
constexpr const char* kSockstat = "/proc/thread-self/net/sockstat";
constexpr const char* kSockstat6 = "/proc/thread-self/net/sockstat6";

// Both files are a few hundred bytes (6.18: sockstat ~180, sockstat6 ~100);
// the TCP line is near the start, so even a much longer file parses.
constexpr size_t kReadBuffer = 1024;

constexpr uint32_t bit(TcpState s) { return 1u << static_cast<unsigned>(s); }

// The states whose dumped sockets are all full sockets hashed in the
// listening or established hash, which is what "inuse" counts. Not
// FIN-WAIT-2: an orphan's FIN-WAIT-2 is a time-wait socket.
constexpr uint32_t kCountedStates = bit(TcpState::kEstablished) | bit(TcpState::kSynSent) |
                                    bit(TcpState::kFinWait1) | bit(TcpState::kCloseWait) |
                                    bit(TcpState::kLastAck) | bit(TcpState::kClosing) | bit(TcpState::kListen);

// `rest` follows the label on its line; `line_complete`: a newline ends the
// line (otherwise the text ended first).
std::optional<uint64_t> parse_inuse_field(std::string_view rest, bool line_complete) {
  if (!rest.starts_with(kInuse)) return std::nullopt;
  rest.remove_prefix(kInuse.size());
  uint64_t value = 0;
  size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
    const uint64_t d = static_cast<uint64_t>(rest[digits] - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
    value = value * 10 + d;
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (digits == rest.size()) {
    // The digits end the text: a read cut there may have cut the number.
    if (!line_complete) return std::nullopt;
    return value;
  }
  if (rest[digits] != ' ') return std::nullopt;
  return value;
}

// One read of the whole file from offset 0 (a seq_file generates its text
// afresh at offset 0), parsed. No allocation unless it fails.
Result<uint64_t> read_inuse(int fd, std::string_view label, const std::string& path, const std::string& where) {
  char buffer[kReadBuffer];
  ssize_t n;
  do {
    n = ::pread(fd, buffer, sizeof buffer, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error(errno, "reading " + path + " of network namespace " + where);
  const std::string_view text(buffer, static_cast<size_t>(n));
  if (auto v = parse_sockstat_inuse(text, label)) return *v;
  return Error(0, "reading " + path + " of network namespace " + where + ": no \"" + std::string(label) +
                      " inuse N\" line in its " + std::to_string(n) + " bytes" +
                      (static_cast<size_t>(n) == sizeof buffer ? " (the first " + std::to_string(sizeof buffer) +
                                                                     " only were read)"
                                                               : std::string()));
}

}  // namespace

std::optional<uint64_t> parse_sockstat_inuse(std::string_view text, std::string_view protocol_label) {
  if (protocol_label.empty()) return std::nullopt;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const bool complete = end != std::string_view::npos;
    const std::string_view line = text.substr(start, complete ? end - start : std::string_view::npos);
    if (line.starts_with(protocol_label)) return parse_inuse_field(line.substr(protocol_label.size()), complete);
    if (!complete) break;
    start = end + 1;
  }
  return std::nullopt;
}

bool in_use_counts(StateSet states) { return (states.kernel_mask() & ~kCountedStates) == 0; }

TcpSocketCount::TcpSocketCount(UniqueFd sockstat, UniqueFd sockstat6, std::string sockstat_path,
                               std::string sockstat6_path, std::string where)
    : sockstat_(std::move(sockstat)),
      sockstat6_(std::move(sockstat6)),
      sockstat_path_(std::move(sockstat_path)),
      sockstat6_path_(std::move(sockstat6_path)),
      where_(std::move(where)) {}

Result<TcpSocketCount> TcpSocketCount::open_files(const std::string& sockstat_path,
                                                  const std::string& sockstat6_path, const std::string& where) {
  UniqueFd v4(::open(sockstat_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!v4) return Error(errno, "opening " + sockstat_path + " of network namespace " + where);
  UniqueFd v6(::open(sockstat6_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!v6 && errno != ENOENT) return Error(errno, "opening " + sockstat6_path + " of network namespace " + where);
  TcpSocketCount count(std::move(v4), std::move(v6), sockstat_path, sockstat6_path, where);
  auto first = count.in_use_by_family();
  if (!first.ok()) return first.error();
  return count;
}

Result<TcpSocketCount> TcpSocketCount::open_here() {
  auto here = thread_namespace();
  if (!here.ok()) return here.error().wrap("counting TCP sockets");
  return open_files(kSockstat, kSockstat6, here->to_string());
}

Result<TcpSocketCount> TcpSocketCount::open_in(int netns_fd) {
  return run_in_namespace(netns_fd, [] { return open_here(); });
}

Result<TcpInUse> TcpSocketCount::in_use_by_family() const {
  TcpInUse counts;
  auto v4 = read_inuse(sockstat_.get(), kIpv4Label, sockstat_path_, where_);
  if (!v4.ok()) return v4.error();
  counts.ipv4 = *v4;
  if (sockstat6_.valid()) {
    auto v6 = read_inuse(sockstat6_.get(), kIpv6Label, sockstat6_path_, where_);
    if (!v6.ok()) return v6.error();
    counts.ipv6 = *v6;
  }
  return counts;
}

Result<uint64_t> TcpSocketCount::in_use() const {
  auto counts = in_use_by_family();
  if (!counts.ok()) return counts.error();
  return counts->total();
}

}  // namespace tcpreap
