#include "core/ids.h"

#include <chrono>
#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"

namespace shop {
namespace {

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsCanonicalUuid(const std::string& id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = id[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(IdsTest, RandomUuidIsVersion4) {
  const std::string id = NewUuid();
  EXPECT_TRUE(IsCanonicalUuid(id)) << id;
  EXPECT_EQ(id[14], '4') << id;
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
}

TEST(IdsTest, TimeOrderedUuidCarriesTheTimeInMilliseconds) {
  const int64_t before = NowMillis();
  const std::string id = NewTimeOrderedUuid();
  const int64_t after = NowMillis();
  ASSERT_TRUE(IsCanonicalUuid(id)) << id;
  EXPECT_EQ(id[14], '7') << id;
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
  uint64_t ms = 0;
  ASSERT_TRUE(absl::SimpleHexAtoi(absl::StrReplaceAll(id.substr(0, 13), {{"-", ""}}), &ms));
  EXPECT_GE(static_cast<int64_t>(ms), before);
  EXPECT_LE(static_cast<int64_t>(ms), after);
}

TEST(IdsTest, TimeOrderedUuidsMadeInALaterMillisecondSortLater) {
  const std::string first = NewTimeOrderedUuid();
  // Wait for the clock's next millisecond (the clock, not a timer, decides).
  const int64_t start = NowMillis();
  while (NowMillis() == start) {
  }
  const std::string second = NewTimeOrderedUuid();
  EXPECT_LT(first, second);
}

TEST(IdsTest, TimeOrderedUuidsDoNotRepeat) {
  std::set<std::string> ids;
  for (int i = 0; i < 20000; ++i) ids.insert(NewTimeOrderedUuid());
  EXPECT_EQ(ids.size(), 20000u);
}

}  // namespace
}  // namespace shop
