#include "core/span.h"

#include <gtest/gtest.h>

#include <string>

#include "core/testing/recording_sink.h"
#include "core/trace.h"

namespace shop {
namespace {

using CapturingSink = shop::testing::RecordingSink;

TEST(SpanTest, NestedSpansAndEventsAreParentedAndRestoreTheCurrentSpan) {
  CapturingSink sink;
  SetProcessAuditSink(&sink);
  SetProcessIdentity("ops", "spiffe://shop.local/ns/shop/sa/ops");
  std::string outer_span, inner_span, trace_id;
  {
    Span outer("saga.step", "ord_1");
    outer_span = outer.trace().span_id;
    trace_id = outer.trace().trace_id;
    ASSERT_EQ(CurrentTrace(), &outer.trace());
    {
      Span inner("db.transaction");
      inner_span = inner.trace().span_id;
      inner.SetStatus(absl::AbortedError("serialization failure"));
      sink.Emit(NewBusinessEvent("order.confirmed", "ord_1"));
    }
    EXPECT_EQ(CurrentTrace(), &outer.trace());
  }
  EXPECT_EQ(CurrentTrace(), nullptr);
  SetProcessAuditSink(nullptr);
  auto events = sink.events();
  ASSERT_EQ(events.size(), 3u);  // business event, inner, outer (in end order)
  EXPECT_EQ(events[0].kind(), shop::v1::EVENT_KIND_BUSINESS);
  EXPECT_EQ(events[0].parent_span_id(), inner_span);
  EXPECT_EQ(events[1].span_id(), inner_span);
  EXPECT_EQ(events[1].parent_span_id(), outer_span);
  EXPECT_EQ(events[1].status_code(), static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_EQ(events[2].span_id(), outer_span);
  EXPECT_EQ(events[2].parent_span_id(), "");
  EXPECT_EQ(events[2].order_id(), "ord_1");
  EXPECT_EQ(events[2].service(), "ops");
  for (const auto& e : events) EXPECT_EQ(e.trace_id(), trace_id);
  for (const auto& e : events) EXPECT_FALSE(e.event_id().empty());
}

}  // namespace
}  // namespace shop
