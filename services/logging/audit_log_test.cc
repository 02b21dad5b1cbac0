#include "services/logging/audit_log.h"

#include <gtest/gtest.h>

#include "core/status.h"
#include "google/rpc/error_details.pb.h"

namespace shop::logging {
namespace {

class MemoryStore final : public AuditStore {
 public:
  absl::StatusOr<AppendResult> Append(const std::vector<shop::v1::AuditEvent>& events) override {
    AppendResult result;
    for (const auto& e : events) {
      bool seen = false;
      for (const auto& r : records) seen = seen || r.event().event_id() == e.event_id();
      if (seen) {
        ++result.duplicates;
        continue;
      }
      shop::v1::AuditRecord record;
      record.set_sequence(static_cast<int64_t>(records.size()) + 1);
      *record.mutable_event() = e;
      records.push_back(record);
      ++result.accepted;
    }
    return result;
  }
  absl::StatusOr<std::vector<shop::v1::AuditRecord>> Query(const QueryFilter& filter) override {
    std::vector<shop::v1::AuditRecord> out;
    for (const auto& r : records) {
      if (r.sequence() <= filter.after_sequence) continue;
      if (!filter.trace_id.empty() && r.event().trace_id() != filter.trace_id) continue;
      if (static_cast<int>(out.size()) == filter.limit + 1) break;
      out.push_back(r);
    }
    return out;
  }
  std::vector<shop::v1::AuditRecord> records;
};

shop::v1::AuditEvent Event(const std::string& id, const std::string& trace = "t1") {
  shop::v1::AuditEvent event;
  event.set_event_id(id);
  event.set_service("ops");
  event.set_name("shop.v1.OrderProcessingService/ProcessOrder");
  event.set_trace_id(trace);
  return event;
}

TEST(AuditLogTest, IngestIsIdempotentByEventId) {
  MemoryStore store;
  AuditLog log(&store);
  auto first = log.Ingest({Event("e1"), Event("e2")});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->accepted, 2);
  auto again = log.Ingest({Event("e2"), Event("e3")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->accepted, 1);
  EXPECT_EQ(again->duplicates, 1);
  EXPECT_EQ(store.records.size(), 3u);
}

TEST(AuditLogTest, MalformedBatchStoresNothing) {
  MemoryStore store;
  AuditLog log(&store);
  shop::v1::AuditEvent bad = Event("");
  shop::v1::AuditEvent nul = Event("e9");
  nul.set_name(std::string("a\0b", 3));
  auto result = log.Ingest({Event("e1"), bad, nul});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(result.status(), bad_request));
  EXPECT_EQ(bad_request.field_violations(0).field(), "events[1].event_id");
  EXPECT_EQ(bad_request.field_violations(1).field(), "events[2]");
  EXPECT_TRUE(store.records.empty());
}

TEST(AuditLogTest, QueryPagesInOrder) {
  MemoryStore store;
  AuditLog log(&store);
  ASSERT_TRUE(log.Ingest({Event("e1"), Event("e2"), Event("e3"), Event("x", "t2")}).ok());
  shop::v1::QueryRequest request;
  request.set_trace_id("t1");
  request.set_page_size(2);
  auto page = log.Query(request);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records_size(), 2);
  EXPECT_EQ(page->next_page_token(), "2");
  request.set_page_token(page->next_page_token());
  auto rest = log.Query(request);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->records_size(), 1);
  EXPECT_EQ(rest->records(0).event().event_id(), "e3");
  EXPECT_TRUE(rest->next_page_token().empty());
}

TEST(AuditLogTest, QueryNeedsAFilterAndAValidToken) {
  MemoryStore store;
  AuditLog log(&store);
  EXPECT_EQ(log.Query({}).status().code(), absl::StatusCode::kInvalidArgument);
  shop::v1::QueryRequest request;
  request.set_trace_id("t1");
  request.set_page_token("-3");
  EXPECT_EQ(log.Query(request).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shop::logging
