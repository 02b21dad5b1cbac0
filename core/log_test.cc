#include "core/log.h"

#include <gtest/gtest.h>

namespace shop::log {
namespace {

TEST(LogTest, EscapesJsonSpecials) {
  EXPECT_EQ(JsonEscape("a\"b\\c\nd\x01"), "a\\\"b\\\\c\\nd\\u0001");
  EXPECT_EQ(JsonEscape("plain"), "plain");
}

TEST(LogTest, ThreadTraceIdIsPerThread) {
  SetThreadTraceId("abc");
  EXPECT_EQ(ThreadTraceId(), "abc");
  SetThreadTraceId("");
  EXPECT_EQ(ThreadTraceId(), "");
}

}  // namespace
}  // namespace shop::log
