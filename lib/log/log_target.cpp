#include "log/log_target.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace tcpreap {

namespace {

// The whole of `text` as a decimal number: no sign, no spaces, no remainder.
bool parse_decimal(std::string_view text, uint64_t& value) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end;
}

}  // namespace

bool journal_stream_matches(const char* env, dev_t dev, ino_t ino) {
  if (env == nullptr) return false;
  const std::string_view text(env);
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  uint64_t d = 0;
  uint64_t i = 0;
  if (!parse_decimal(text.substr(0, colon), d) || !parse_decimal(text.substr(colon + 1), i)) return false;
  return d == static_cast<uint64_t>(dev) && i == static_cast<uint64_t>(ino);
}

LogTarget detect_log_target() {
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return LogTarget::kStderr;
  return journal_stream_matches(std::getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino) ? LogTarget::kJournal
                                                                                      : LogTarget::kStderr;
}

}  // namespace tcpreap
