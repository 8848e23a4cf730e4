#include "core/message_text.h"

#include <gtest/gtest.h>

#include <string>

namespace tcpreap {
namespace {

TEST(MessageText, PrintableReplacesEveryControlCharacter) {
  EXPECT_EQ(printable("a\tb\nc\rd\x1b[1m\x7f" "e"), "a?b?c?d?[1m?e");
  EXPECT_EQ(printable(std::string("nul\0here", 8)), "nul?here");
  // Bytes above 0x7f are UTF-8, not controls.
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(MessageText, QuotesShortTextWhole) {
  EXPECT_EQ(quoted_text(""), "''");
  EXPECT_EQ(quoted_text("localhost"), "'localhost'");
  EXPECT_EQ(quoted_text("a\nb"), "'a?b'");
  const std::string forty(kMaxQuotedLength, 'x');
  EXPECT_EQ(quoted_text(forty), "'" + forty + "'");
}

TEST(MessageText, CutsLongTextOnACharacterBoundary) {
  const std::string forty_one(kMaxQuotedLength + 1, 'x');
  EXPECT_EQ(quoted_text(forty_one), "'" + std::string(kMaxQuotedLength, 'x') + "...'");
  // A two-byte character across the cut is left out whole, never halved.
  const std::string across = std::string(kMaxQuotedLength - 1, 'x') + "\xc3\xa9" + "tail";
  EXPECT_EQ(quoted_text(across), "'" + std::string(kMaxQuotedLength - 1, 'x') + "...'");
  // One that ends right at the cut stays.
  const std::string before = std::string(kMaxQuotedLength - 2, 'x') + "\xc3\xa9" + "tail";
  EXPECT_EQ(quoted_text(before), "'" + std::string(kMaxQuotedLength - 2, 'x') + "\xc3\xa9...'");
}

}  // namespace
}  // namespace tcpreap
