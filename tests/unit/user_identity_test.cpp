// lookup_user: names and numbers of the host's user database (Debian always
// has root and nobody).

#include "privilege/user_identity.h"

#include <gtest/gtest.h>

namespace tcpreap {
namespace {

TEST(LookupUser, ByName) {
  auto nobody = lookup_user("nobody");
  ASSERT_TRUE(nobody) << nobody.error().message();
  EXPECT_EQ(nobody->uid, 65534u);
  EXPECT_EQ(nobody->gid, 65534u);
  auto r = lookup_user("root");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->uid, 0u);
}

TEST(LookupUser, ByNumberWithOrWithoutAnEntry) {
  auto known = lookup_user("65534");
  ASSERT_TRUE(known);
  EXPECT_EQ(known->name, "nobody");
  // A uid the database does not know: the same number as its group.
  auto unknown = lookup_user("4000000000");
  ASSERT_TRUE(unknown) << unknown.error().message();
  EXPECT_EQ(unknown->uid, 4000000000u);
  EXPECT_EQ(unknown->gid, 4000000000u);
}

TEST(LookupUser, AnUnknownNameIsAnErrorNamingIt) {
  auto u = lookup_user("no-such-user-tcpreap");
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().message().find("no user 'no-such-user-tcpreap'"), std::string::npos);
  EXPECT_FALSE(lookup_user(""));
  EXPECT_FALSE(lookup_user("12x"));  // neither a number nor a user
}

}  // namespace
}  // namespace tcpreap
