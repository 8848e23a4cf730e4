#pragma once
// User text inside one-line messages: what a config or a command line said,
// quoted back to the user. Never throws but for allocation.

#include <cstddef>
#include <string>
#include <string_view>

namespace tcpreap {

// Text quoted in a message is cut to this many bytes.
inline constexpr size_t kMaxQuotedLength = 40;

// `text` with every control character (C0 and DEL) replaced by '?': a
// newline or an escape sequence would break the one-line message.
std::string printable(std::string_view text);

// 'text', printable, and cut to kMaxQuotedLength bytes (on a UTF-8 character
// boundary, then "...") when longer.
std::string quoted_text(std::string_view text);

}  // namespace tcpreap
