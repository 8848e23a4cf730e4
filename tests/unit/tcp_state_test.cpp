#include "net/tcp_state.h"

#include <gtest/gtest.h>

namespace tcpreap {
namespace {

TEST(StateSet, ParsesSsNamesAndGroups) {
  EXPECT_EQ(StateSet::parse_list("established")->mask(), 1u << 1);
  EXPECT_EQ(StateSet::parse_list("close-wait,fin-wait-1")->mask(), (1u << 8) | (1u << 4));
  EXPECT_EQ(StateSet::parse_list("listen")->mask(), 1u << 10);
  EXPECT_EQ(*StateSet::parse_list("all"), StateSet::all());
  EXPECT_EQ(*StateSet::parse_list("connected"), StateSet::connected());
  EXPECT_FALSE(StateSet::parse_list("synchronized")->contains(2));
  EXPECT_TRUE(StateSet::parse_list("synchronized")->contains(1));
  auto bad = StateSet::parse_list("established,nosuch");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message().rfind("unknown TCP state 'nosuch' (known: established, ", 0), 0u);
  EXPECT_FALSE(StateSet::parse_list("").ok());
}

TEST(StateSet, NeverAsksForEveryBit) {
  // ~0 would also walk the bind hash (TCP_BOUND_INACTIVE, 13) on 6.8+.
  EXPECT_EQ(StateSet::all().kernel_mask(), 0x1ffeu);
  EXPECT_EQ(StateSet::of(TcpState::kSynRecv).kernel_mask(), (1u << 3) | (1u << 12));
  EXPECT_EQ(StateSet::of(TcpState::kEstablished).kernel_mask(), 1u << 1);
}

TEST(StateSet, LabelsAsSs) {
  EXPECT_STREQ(state_label(1), "ESTAB");
  EXPECT_STREQ(state_label(8), "CLOSE-WAIT");
  EXPECT_STREQ(state_label(12), "SYN-RECV");
  EXPECT_STREQ(state_label(200), "UNKNOWN");
}

// Request sockets are dumped for TCP_NEW_SYN_RECV and reported as SYN-RECV.
TEST(StateSet, ReportedSynRecvMatchesEitherSynRecvBit) {
  EXPECT_TRUE(StateSet::of(TcpState::kNewSynRecv).contains_reported(3));
  EXPECT_TRUE(StateSet::of(TcpState::kSynRecv).contains_reported(3));
  EXPECT_FALSE(StateSet::of(TcpState::kEstablished).contains_reported(3));
  EXPECT_TRUE(StateSet::of(TcpState::kEstablished).contains_reported(1));
}

TEST(StateSet, SynchronizedIsTheStatesThatAnswerASynWithAChallengeAck) {
  for (uint8_t st = 1; st <= 12; ++st) {
    const bool expected = st == 1 || st == 4 || st == 5 || st == 8 || st == 9 || st == 11;
    EXPECT_EQ(StateSet::synchronized().contains(st), expected) << int{st};
  }
  EXPECT_EQ(*StateSet::parse_list("synchronized"), StateSet::synchronized());
}

TEST(StateSet, NamesAreTheOnesParseListTakes) {
  EXPECT_EQ(StateSet::all().names(), std::vector<std::string>{"all"});
  EXPECT_EQ(StateSet::connected().names(), std::vector<std::string>{"connected"});
  EXPECT_EQ(StateSet::synchronized().names(), std::vector<std::string>{"synchronized"});
  EXPECT_TRUE(StateSet().names().empty());
  EXPECT_EQ((StateSet::of(TcpState::kEstablished) | StateSet::of(TcpState::kCloseWait)).names(),
            (std::vector<std::string>{"established", "close-wait"}));
  // Every single state's name reads back as that state.
  for (unsigned s = 1; s <= 11; ++s) {
    const StateSet one(1u << s);
    const auto names = one.names();
    ASSERT_EQ(names.size(), 1u) << s;
    EXPECT_EQ(*StateSet::parse_list(names[0]), one) << names[0];
  }
}

}  // namespace
}  // namespace tcpreap
