#include "core/grpc/audit_exporter.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>

#include <atomic>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "core/grpc/call_context.h"
#include "core/grpc/interceptors.h"
#include "core/grpc/tls.h"
#include "core/ids.h"
#include "core/testing/recording_sink.h"
#include "core/trace.h"
#include "gtest/gtest.h"
#include "shop/v1/audit.grpc.pb.h"

namespace shop {
namespace {

using shop::v1::AuditEvent;

// The audit log as a fake behind the real gRPC interface: stores event ids
// in arrival order, deduplicates, and can be "down" (UNAVAILABLE).
class FakeAuditLog final : public shop::v1::AuditLogService::Service {
 public:
  grpc::Status Ingest(grpc::ServerContext* ctx, grpc::ServerReader<shop::v1::IngestRequest>* reader,
                      shop::v1::IngestResponse* response) override {
    shop::v1::IngestRequest request;
    std::vector<std::string> ids;
    while (reader->Read(&request)) {
      for (const auto& event : request.events()) ids.push_back(event.event_id());
    }
    absl::MutexLock lock(&mu_);
    if (down_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "down for the test");
    for (auto& id : ids) {
      if (seen_.insert(id).second) {
        stored_.push_back(id);
      } else {
        ++duplicates_;
      }
    }
    return grpc::Status::OK;
  }
  grpc::Status Query(grpc::ServerContext* ctx, const shop::v1::QueryRequest* request,
                     shop::v1::QueryResponse* response) override {
    // Used to look at what a client interceptor sent.
    for (const auto& [key, value] : ctx->client_metadata()) {
      if (key == kTraceparentHeader) {
        absl::MutexLock lock(&mu_);
        last_traceparent_ = std::string(value.data(), value.size());
      }
    }
    return grpc::Status::OK;
  }

  void SetDown(bool down) {
    absl::MutexLock lock(&mu_);
    down_ = down;
  }
  std::vector<std::string> stored() {
    absl::MutexLock lock(&mu_);
    return stored_;
  }
  int duplicates() {
    absl::MutexLock lock(&mu_);
    return duplicates_;
  }
  std::string last_traceparent() {
    absl::MutexLock lock(&mu_);
    return last_traceparent_;
  }

 private:
  absl::Mutex mu_;
  bool down_ = false;
  std::set<std::string> seen_;
  std::vector<std::string> stored_;
  int duplicates_ = 0;
  std::string last_traceparent_;
};

using CapturingSink = shop::testing::RecordingSink;

AuditEvent Event(int i) {
  AuditEvent event;
  event.set_event_id(NewUuid());
  event.set_kind(shop::v1::EVENT_KIND_BUSINESS);
  event.set_name("test.event." + std::to_string(i));
  return event;
}

bool WaitUntil(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));  // polling a condition, with a deadline
  }
  return done();
}

class AuditExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&log_);
    server_ = builder.BuildAndStart();
    char tmpl[] = "/tmp/audit-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override {
    server_->Shutdown();
    std::system(("rm -rf " + dir_).c_str());
  }

  std::unique_ptr<AuditExporter> StartExporter() {
    AuditExporterOptions options;
    options.service = "test";
    options.channel_for_test = server_->InProcessChannel(grpc::ChannelArguments());
    options.spool_path = dir_ + "/audit.spool";
    options.max_backoff = std::chrono::milliseconds(50);
    options.max_batch = 64;
    options.linger = std::chrono::milliseconds(20);
    options.stop_flush_timeout = std::chrono::milliseconds(200);
    auto exporter = AuditExporter::Start(options);
    EXPECT_TRUE(exporter.ok()) << exporter.status();
    return std::move(*exporter);
  }

  FakeAuditLog log_;
  std::unique_ptr<grpc::Server> server_;
  std::string dir_;
};

TEST_F(AuditExporterTest, OutageSpoolsEverythingAndReplaysInOrderExactlyOnce) {
  auto exporter = StartExporter();
  std::vector<std::string> sent;
  for (int i = 0; i < 100; ++i) {
    AuditEvent event = Event(i);
    sent.push_back(event.event_id());
    exporter->Emit(event);
  }
  ASSERT_TRUE(exporter->Flush(std::chrono::seconds(20)));
  log_.SetDown(true);
  for (int i = 100; i < 1100; ++i) {
    AuditEvent event = Event(i);
    sent.push_back(event.event_id());
    exporter->Emit(event);
  }
  // While the log is down everything ends up on disk, not in memory.
  ASSERT_TRUE(WaitUntil([&] { return exporter->stats().spool_pending == 1000; }))
      << "spool_pending=" << exporter->stats().spool_pending;
  EXPECT_EQ(exporter->stats().queued, 0);
  EXPECT_GE(exporter->stats().failed_attempts, 1);
  log_.SetDown(false);
  ASSERT_TRUE(exporter->Flush(std::chrono::seconds(20)));
  EXPECT_EQ(log_.stored(), sent);  // every event, once, in emission order
  AuditExporterStats stats = exporter->stats();
  EXPECT_EQ(stats.exported, 1100);
  EXPECT_EQ(stats.spooled, 1000);
  EXPECT_EQ(stats.dropped, 0);
  EXPECT_EQ(stats.spool_pending, 0);
}

TEST_F(AuditExporterTest, SpoolOutlivesTheProcessAndIsReplayedAtStart) {
  std::vector<std::string> sent;
  log_.SetDown(true);
  {
    auto exporter = StartExporter();
    for (int i = 0; i < 50; ++i) {
      AuditEvent event = Event(i);
      sent.push_back(event.event_id());
      exporter->Emit(event);
    }
    // Destroyed while the log is down: what is queued goes to the spool.
  }
  EXPECT_TRUE(log_.stored().empty());
  log_.SetDown(false);
  auto again = StartExporter();
  EXPECT_EQ(again->stats().spool_pending, 50);
  ASSERT_TRUE(again->Flush(std::chrono::seconds(20)));
  EXPECT_EQ(log_.stored(), sent);
  EXPECT_EQ(again->stats().dropped, 0);
}

TEST_F(AuditExporterTest, FullQueueDropsAndCountsWithoutBlocking) {
  AuditExporterOptions options;
  options.service = "test";
  options.channel_for_test = server_->InProcessChannel(grpc::ChannelArguments());
  options.max_queue = 10;
  options.spill_threshold = 1000;  // no spool: memory only
  options.stop_flush_timeout = std::chrono::milliseconds(100);
  log_.SetDown(true);
  auto exporter = AuditExporter::Start(options);
  ASSERT_TRUE(exporter.ok());
  for (int i = 0; i < 200; ++i) (*exporter)->Emit(Event(i));
  AuditExporterStats stats = (*exporter)->stats();
  EXPECT_GT(stats.dropped, 0);
  EXPECT_EQ(stats.dropped + stats.queued, 200);  // what is not kept is counted
  log_.SetDown(false);
}

TEST_F(AuditExporterTest, ClientInterceptorRecordsAClientSpanAndPassesItsOwnSpanOn) {
  CapturingSink sink;
  SetProcessAuditSink(&sink);
  SetProcessIdentity("ecp", "spiffe://shop.local/ns/shop/sa/ecp");
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(MakeClientInterceptorFactory("in-process", true));
  auto channel = server_->experimental().InProcessChannelWithInterceptors(grpc::ChannelArguments(),
                                                                          std::move(factories));
  auto stub = shop::v1::AuditLogService::NewStub(channel);
  std::string parent_span, trace_id;
  {
    Span step("edge.place_order");
    parent_span = step.trace().span_id;
    trace_id = step.trace().trace_id;
    grpc::ClientContext ctx;
    PrepareClientContext(ctx, std::chrono::seconds(5));
    shop::v1::QueryRequest request;
    request.mutable_filter()->set_order_id("ord_42");
    shop::v1::QueryResponse response;
    ASSERT_TRUE(stub->Query(&ctx, request, &response).ok());
  }
  SetProcessAuditSink(nullptr);
  auto events = sink.events();
  ASSERT_EQ(events.size(), 2u);
  const AuditEvent& client = events[0];
  EXPECT_EQ(client.kind(), shop::v1::EVENT_KIND_CLIENT_SPAN);
  EXPECT_EQ(client.name(), "shop.v1.AuditLogService/Query");
  EXPECT_EQ(client.trace_id(), trace_id);
  EXPECT_EQ(client.parent_span_id(), parent_span);
  EXPECT_EQ(client.caller(), "spiffe://shop.local/ns/shop/sa/ecp");
  EXPECT_EQ(client.order_id(), "ord_42");  // read from the request message
  EXPECT_EQ(client.attributes().at("rpc.system"), "grpc");
  EXPECT_EQ(client.attributes().at("rpc.service"), "shop.v1.AuditLogService");
  EXPECT_EQ(client.attributes().at("rpc.method"), "Query");
  EXPECT_EQ(client.attributes().at("rpc.grpc.status_code"), "0");
  // The server saw the client span as its parent.
  EXPECT_EQ(log_.last_traceparent(), FormatTraceparent(trace_id, client.span_id()));
}

}  // namespace
}  // namespace shop
