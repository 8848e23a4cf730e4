#include "metrics/process_stats.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>

#include "core/message_text.h"
#include "core/proc_entries.h"
#include "core/unique_fd.h"

namespace tcpreap {

namespace {

// /proc/PID/stat is one line well under 1 KiB; /proc/stat grows with the
// CPUs and interrupts (a line per CPU, one number per interrupt), some
// hundred KiB on the largest hosts.
constexpr size_t kMaxProcFile = 4 * 1024 * 1024;

// The fields used, by their number in proc_pid_stat(5); counted from 3
// after the command name.
constexpr size_t kUtime = 14, kStime = 15, kStarttime = 22, kVsize = 23, kRss = 24;
constexpr size_t kFirstAfterComm = 3;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

// A whole token of decimal digits, no sign, fitting in 64 bits.
std::optional<uint64_t> decimal(std::string_view token) {
  uint64_t v = 0;
  const char* first = token.data();
  const char* last = first + token.size();
  const auto [end, ec] = std::from_chars(first, last, v);
  if (token.empty() || ec != std::errc() || end != last) return std::nullopt;
  return v;
}

Result<std::string> read_small_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error(errno, "opening " + path);
  std::string text;
  std::array<char, 4096> buf;
  while (true) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(errno, "reading " + path);
    }
    if (n == 0) return text;
    if (text.size() + static_cast<size_t>(n) > kMaxProcFile)
      return Error(0, path + " is larger than " + std::to_string(kMaxProcFile) + " bytes");
    text.append(buf.data(), static_cast<size_t>(n));
  }
}

// Entries of a directory but "." and "..", or empty when it cannot be read.
std::optional<double> count_entries(const std::string& path) {
  DirPtr dir = open_dir_at(AT_FDCWD, path.c_str());
  if (!dir) return std::nullopt;
  double n = 0;
  errno = 0;
  while (const dirent* e = ::readdir(dir.get())) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  if (errno != 0) return std::nullopt;
  return n;
}

}  // namespace

Result<ProcStat> parse_proc_stat(std::string_view text) {
  const std::string what = "/proc/PID/stat";
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return Error(0, what + ": no command name in parentheses");
  std::string_view pid = text.substr(0, open);
  while (!pid.empty() && is_space(pid.back())) pid.remove_suffix(1);
  if (!decimal(pid)) return Error(0, what + ": field 1 (pid) is " + quoted_text(pid) + ", not a number");

  // Fields 3 to kRss, each separated by a space.
  std::array<std::string_view, kRss - kFirstAfterComm + 1> fields;
  size_t found = 0;
  std::string_view rest = text.substr(close + 1);
  while (found < fields.size()) {
    while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
    if (rest.empty()) break;
    size_t len = 0;
    while (len < rest.size() && !is_space(rest[len])) ++len;
    fields[found++] = rest.substr(0, len);
    rest.remove_prefix(len);
  }
  if (found < fields.size())
    return Error(0, what + ": " + std::to_string(found + kFirstAfterComm - 1) + " fields, the process metrics need " +
                        std::to_string(kRss));

  ProcStat out;
  const std::pair<size_t, uint64_t*> wanted[] = {{kUtime, &out.utime_ticks},
                                                 {kStime, &out.stime_ticks},
                                                 {kStarttime, &out.starttime_ticks},
                                                 {kVsize, &out.vsize_bytes},
                                                 {kRss, &out.rss_pages}};
  for (const auto& [field, into] : wanted) {
    const std::string_view token = fields[field - kFirstAfterComm];
    const auto v = decimal(token);
    if (!v) return Error(0, what + ": field " + std::to_string(field) + " is " + quoted_text(token) + ", not a count");
    *into = *v;
  }
  return out;
}

Result<uint64_t> parse_boot_time(std::string_view proc_stat) {
  constexpr std::string_view kKey = "btime ";
  while (!proc_stat.empty()) {
    const size_t eol = proc_stat.find('\n');
    std::string_view line = proc_stat.substr(0, eol);
    proc_stat.remove_prefix(eol == std::string_view::npos ? proc_stat.size() : eol + 1);
    if (line.substr(0, kKey.size()) != kKey) continue;
    line.remove_prefix(kKey.size());
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    const auto v = decimal(line);
    if (!v) return Error(0, "/proc/stat: btime is " + quoted_text(line) + ", not a number of seconds");
    return *v;
  }
  return Error(0, "/proc/stat: no btime line");
}

std::optional<uint64_t> read_boot_time(const std::string& proc_root) {
  auto text = read_small_file(proc_root + "/stat");
  if (!text) return std::nullopt;
  auto btime = parse_boot_time(*text);
  if (!btime) return std::nullopt;
  return *btime;
}

ProcessStats read_process_stats(const std::string& proc_root, std::optional<uint64_t> boot_time) {
  ProcessStats out;
  const long ticks = ::sysconf(_SC_CLK_TCK);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (auto text = read_small_file(proc_root + "/self/stat"); text) {
    if (auto stat = parse_proc_stat(*text); stat) {
      out.virtual_bytes = static_cast<double>(stat->vsize_bytes);
      if (page > 0) out.resident_bytes = static_cast<double>(stat->rss_pages) * static_cast<double>(page);
      if (ticks > 0) {
        out.cpu_seconds = static_cast<double>(stat->utime_ticks + stat->stime_ticks) / static_cast<double>(ticks);
        if (!boot_time) boot_time = read_boot_time(proc_root);
        if (boot_time)
          out.start_time_seconds = static_cast<double>(*boot_time) +
                                   static_cast<double>(stat->starttime_ticks) / static_cast<double>(ticks);
      }
    }
  }
  out.open_fds = count_entries(proc_root + "/self/fd");
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) out.max_fds = static_cast<double>(limit.rlim_cur);
  return out;
}

}  // namespace tcpreap
