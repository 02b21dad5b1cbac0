#include "services/logging/trace_view.h"

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include "nlohmann/json.hpp"

namespace shop::logging {
namespace {

using google::protobuf::util::TimeUtil;
constexpr char kTrace[] = "4bf92f3577b34da6a3ce929d0e0e4736";

shop::v1::AuditEvent Span(const std::string& span, const std::string& parent,
                          shop::v1::EventKind kind, const std::string& service, int64_t start_ms) {
  shop::v1::AuditEvent e;
  e.set_event_id("ev-" + span);
  e.set_trace_id(kTrace);
  e.set_span_id(span);
  e.set_parent_span_id(parent);
  e.set_kind(kind);
  e.set_service(service);
  e.set_name("shop.v1.X/" + span);
  *e.mutable_start_time() = TimeUtil::MillisecondsToTimestamp(start_ms);
  *e.mutable_end_time() = TimeUtil::MillisecondsToTimestamp(start_ms + 10);
  return e;
}

TEST(TraceViewTest, BuildsTheTreeByParentAndStartTime) {
  auto response = BuildTraceTrees({
      Span("c2", "s1", shop::v1::EVENT_KIND_CLIENT_SPAN, "ecp", 30),
      Span("s1", "ext", shop::v1::EVENT_KIND_SERVER_SPAN, "ecp", 10),
      Span("c1", "s1", shop::v1::EVENT_KIND_CLIENT_SPAN, "ecp", 20),
      Span("s2", "c1", shop::v1::EVENT_KIND_SERVER_SPAN, "ops", 21),
  });
  ASSERT_EQ(response.roots_size(), 1);  // s1: its parent "ext" is not recorded
  const auto& root = response.roots(0);
  EXPECT_EQ(root.event().span_id(), "s1");
  ASSERT_EQ(root.children_size(), 2);
  EXPECT_EQ(root.children(0).event().span_id(), "c1");
  EXPECT_EQ(root.children(1).event().span_id(), "c2");
  ASSERT_EQ(root.children(0).children_size(), 1);
  EXPECT_EQ(root.children(0).children(0).event().service(), "ops");
  EXPECT_EQ(response.span_count(), 4);
  ASSERT_EQ(response.trace_ids_size(), 1);
}

TEST(TraceViewTest, OtlpJsonHasTheDocumentedShape) {
  auto server = Span("00f067aa0ba902b7", "", shop::v1::EVENT_KIND_SERVER_SPAN, "ecp", 1000);
  server.set_status_code(9);
  server.set_status_message("out of stock");
  (*server.mutable_attributes())["rpc.grpc.status_code"] = "9";
  auto client =
      Span("00f067aa0ba902b8", "00f067aa0ba902b7", shop::v1::EVENT_KIND_CLIENT_SPAN, "ecp", 1001);
  auto business =
      Span("00f067aa0ba902b9", "00f067aa0ba902b7", shop::v1::EVENT_KIND_BUSINESS, "ops", 1002);
  auto json = nlohmann::json::parse(ToOtlpJson({server, client, business}));
  ASSERT_TRUE(json["resourceSpans"].is_array());
  ASSERT_EQ(json["resourceSpans"].size(), 1u);  // the business event rides on its parent
  const auto& rs = json["resourceSpans"][0];
  EXPECT_EQ(rs["resource"]["attributes"][0]["key"], "service.name");
  EXPECT_EQ(rs["resource"]["attributes"][0]["value"]["stringValue"], "ecp");
  const auto& spans = rs["scopeSpans"][0]["spans"];
  ASSERT_EQ(spans.size(), 2u);
  const auto& s = spans[0];
  EXPECT_EQ(s["traceId"], kTrace);
  EXPECT_EQ(s["spanId"], "00f067aa0ba902b7");
  EXPECT_FALSE(s.contains("parentSpanId"));
  EXPECT_EQ(s["kind"], 2);
  EXPECT_EQ(s["startTimeUnixNano"], "1000000000");
  EXPECT_EQ(s["endTimeUnixNano"], "1010000000");
  EXPECT_EQ(s["status"]["code"], 2);
  EXPECT_EQ(s["status"]["message"], "out of stock");
  ASSERT_EQ(s["events"].size(), 1u);
  EXPECT_EQ(s["events"][0]["timeUnixNano"], "1002000000");
  EXPECT_EQ(spans[1]["kind"], 3);
  EXPECT_EQ(spans[1]["parentSpanId"], "00f067aa0ba902b7");
  bool int_status = false;
  for (const auto& a : s["attributes"]) {
    if (a["key"] == "rpc.grpc.status_code") int_status = a["value"]["intValue"] == "9";
  }
  EXPECT_TRUE(int_status);
}

}  // namespace
}  // namespace shop::logging
