#include "core/trace.h"

#include <gtest/gtest.h>

namespace shop {
namespace {

TEST(TraceTest, ParsesValidTraceparent) {
  auto trace = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(trace.has_value());
  EXPECT_EQ(trace->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(trace->span_id, "00f067aa0ba902b7");
}

TEST(TraceTest, RejectsMalformedTraceparent) {
  EXPECT_FALSE(ParseTraceparent(""));
  EXPECT_FALSE(ParseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
  EXPECT_FALSE(ParseTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"));
  EXPECT_FALSE(ParseTraceparent("\xff\xfe-garbage"));
}

TEST(TraceTest, FutureVersionsMayCarryMoreFields) {
  EXPECT_TRUE(ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-ab"));
}

TEST(TraceTest, ServerSpanRoundTrip) {
  TraceContext trace{NewTraceId(), NewSpanId(), NewSpanId(), ""};
  auto decoded = DecodeServerSpan(EncodeServerSpan(trace));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->trace_id, trace.trace_id);
  EXPECT_EQ(decoded->span_id, trace.span_id);
  EXPECT_EQ(decoded->parent_span_id, trace.parent_span_id);
  EXPECT_FALSE(DecodeServerSpan("not:a:span"));
  EXPECT_EQ(FormatTraceparent(trace.trace_id, trace.span_id),
            "00-" + trace.trace_id + "-" + trace.span_id + "-01");
}

}  // namespace
}  // namespace shop
