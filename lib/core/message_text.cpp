#include "core/message_text.h"

namespace tcpreap {

std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if ((static_cast<unsigned char>(c) < 0x20) || c == 0x7f) c = '?';
  return out;
}

std::string quoted_text(std::string_view text) {
  if (text.size() <= kMaxQuotedLength) return "'" + printable(text) + "'";
  size_t cut = kMaxQuotedLength;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  return "'" + printable(text.substr(0, cut)) + "...'";
}

}  // namespace tcpreap
