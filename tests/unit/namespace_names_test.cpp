// What the loader can tell of namespace globs before any namespace exists:
// whether they can name the host, by "host" or by its unknown identity.

#include "config/namespace_names.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tcpreap {
namespace {

TEST(NamespaceNames, AGlobMayMatchAnIdentityUnlessItCertainlyCannot) {
  for (const char* glob : {"net:[4026531840]", "net:[*]", "net:*", "net:[", "n*", "*", "?et:[1]", "n?t:[x",
                           "[nm]et:[1]", "net[:]x", "net\\:[1]", "\\n\\e\\t\\:\\[1]", "net:[abc]"})
    EXPECT_TRUE(may_match_an_identity(glob)) << glob;
  for (const char* glob : {"", "host", "net", "net:", "ne", "pod:*", "ent:[1]", "net;[1]", "nets*", "Net:*", "net:(1)",
                           "net\\;[1]", "?", "???"})
    EXPECT_FALSE(may_match_an_identity(glob)) << glob;
}

TEST(NamespaceNames, TheHostIsNamedByItsNameOrMaybeItsIdentity) {
  using Globs = std::vector<std::string>;
  EXPECT_TRUE(may_name_host(Globs{"host"}));
  EXPECT_TRUE(may_name_host(Globs{"blue", "h*"}));
  EXPECT_TRUE(may_name_host(Globs{"blue", "net:[4026531840]"}));
  EXPECT_TRUE(may_name_host(Globs{"????"}));
  EXPECT_FALSE(may_name_host(Globs{}));
  EXPECT_FALSE(may_name_host(Globs{"blue", "cni-*", "pod:*", "pid:1", "hostile", "Host"}));
}

}  // namespace
}  // namespace tcpreap
