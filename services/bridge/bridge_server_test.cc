// The real bridge on a loopback port in front of a fake backend (the test-only
// EchoService and LibraryService over real gRPC, plaintext), driven by a plain
// HTTP client. The fake counts calls: a refused request never reaches it.
#include "services/bridge/bridge_server.h"

#include <arpa/inet.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "core/span.h"
#include "core/trace.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "services/bridge/testdata/bridge_test.grpc.pb.h"

namespace shop::bridge {
namespace {

using nlohmann::json;
using shop::bridgetest::Book;
using shop::bridgetest::EchoRequest;
using shop::bridgetest::EchoResponse;
using shop::v1::AuditEvent;

constexpr char kOrigin[] = "https://app.example";

// What every fake method does: count, record, answer as the request asks.
class FakeBackend final : public shop::bridgetest::EchoService::Service,
                          public shop::bridgetest::LibraryService::Service {
 public:
  std::atomic<int> calls{0};
  absl::Notification release;  // lets hanging calls go at teardown

  grpc::Status Echo(grpc::ServerContext* ctx, const EchoRequest* request,
                    EchoResponse* response) override {
    return Answer("Echo", ctx, *request, response);
  }
  grpc::Status EchoSpecial(grpc::ServerContext* ctx, const EchoRequest* request,
                           EchoResponse* response) override {
    return Answer("EchoSpecial", ctx, *request, response);
  }
  grpc::Status Cancel(grpc::ServerContext* ctx, const EchoRequest* request,
                      EchoResponse* response) override {
    return Answer("Cancel", ctx, *request, response);
  }
  grpc::Status GetFile(grpc::ServerContext* ctx, const EchoRequest* request,
                       EchoResponse* response) override {
    return Answer("GetFile", ctx, *request, response);
  }
  grpc::Status Probe(grpc::ServerContext* ctx, const EchoRequest* request,
                     EchoResponse* response) override {
    return Answer("Probe", ctx, *request, response);
  }
  grpc::Status DeleteEcho(grpc::ServerContext* ctx, const shop::bridgetest::DeleteEchoRequest*,
                          shop::bridgetest::Empty*) override {
    ++calls;
    ctx->AddInitialMetadata("x-echo-method", "DeleteEcho");
    return grpc::Status::OK;
  }
  grpc::Status Watch(grpc::ServerContext* ctx, const EchoRequest* request,
                     grpc::ServerWriter<EchoResponse>* writer) override {
    const int call = ++calls;
    ctx->AddInitialMetadata("x-echo-method", "Watch");
    for (int i = 0; i < request->stream_count(); ++i) {
      EchoResponse response;
      *response.mutable_request() = *request;
      response.set_call_number(call);
      response.set_sequence(i);
      writer->Write(response);
    }
    return Failure(*request);
  }
  grpc::Status GetBook(grpc::ServerContext* ctx, const shop::bridgetest::GetBookRequest* request,
                       Book* book) override {
    ++calls;
    book->set_name(request->name());
    book->set_title("Dune");
    book->set_pages(412);
    return grpc::Status::OK;
  }
  grpc::Status UpdateBook(grpc::ServerContext* ctx,
                          const shop::bridgetest::UpdateBookRequest* request, Book* book) override {
    ++calls;
    *book = request->book();
    if (request->allow_missing()) book->add_authors("allow_missing");
    return grpc::Status::OK;
  }
  grpc::Status CreateBook(grpc::ServerContext* ctx,
                          const shop::bridgetest::CreateBookRequest* request, Book* book) override {
    ++calls;
    *book = request->book();
    book->set_name(absl::StrCat(request->parent(), "/books/new"));
    book->add_authors(request->idempotency_key());
    return grpc::Status::OK;
  }

 private:
  static grpc::Status Failure(const EchoRequest& request) {
    if (request.fail_code() == 0) return grpc::Status::OK;
    google::rpc::Status status;
    status.set_code(request.fail_code());
    status.set_message(request.fail_message());
    google::rpc::ErrorInfo info;
    info.set_reason("TEST_REASON");
    info.set_domain("shop.local");
    (*info.mutable_metadata())["code"] = std::to_string(request.fail_code());
    status.add_details()->PackFrom(info);
    if (request.fail_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      google::rpc::BadRequest bad_request;
      auto* violation = bad_request.add_field_violations();
      violation->set_field("count");
      violation->set_description("too many");
      status.add_details()->PackFrom(bad_request);
    }
    return grpc::Status(static_cast<grpc::StatusCode>(request.fail_code()), request.fail_message(),
                        status.SerializeAsString());
  }

  grpc::Status Answer(const std::string& method, grpc::ServerContext* ctx,
                      const EchoRequest& request, EchoResponse* response) {
    const int call = ++calls;
    ctx->AddInitialMetadata("x-echo-method", method);
    ctx->AddInitialMetadata("x-shop-internal", "must not leak");
    ctx->AddTrailingMetadata("x-echo-trailer", "done");
    if (request.hang()) {
      // Outlast the caller's deadline, so that the caller's clock decides;
      // teardown releases the wait.
      release.WaitForNotificationWithDeadline(absl::FromChrono(ctx->deadline()) + absl::Seconds(5));
      return grpc::Status(grpc::StatusCode::CANCELLED, "gave up");
    }
    *response->mutable_request() = request;
    for (const auto& [key, value] : ctx->client_metadata()) {
      const std::string k(key.data(), key.size());
      if (k == "user-agent" || k.rfind("grpc-", 0) == 0) continue;
      (*response->mutable_metadata())[k] = std::string(value.data(), value.size());
    }
    response->set_call_number(call);
    return Failure(request);
  }
};

struct Bridge {
  std::unique_ptr<BridgeServer> server;
  int port = 0;
};

// Collects the events emitted to it (the bridge's spans).
class CapturingSink final : public AuditSink {
 public:
  void Emit(AuditEvent event) override {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(event));
  }

  void Clear() {
    absl::MutexLock lock(&mu_);
    events_.clear();
  }

  // The events of trace `trace_id` so far.
  std::vector<AuditEvent> OfTrace(const std::string& trace_id) const {
    absl::MutexLock lock(&mu_);
    return OfTraceLocked(trace_id);
  }

  // Waits until `count` events of the trace are in (a stream's span ends
  // after its last chunk went out, so possibly after the client has it), or
  // 10 s passed.
  std::vector<AuditEvent> WaitForTrace(const std::string& trace_id, size_t count = 1) const {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return OfTraceLocked(trace_id).size() >= count;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
    return OfTraceLocked(trace_id);
  }

 private:
  std::vector<AuditEvent> OfTraceLocked(const std::string& trace_id) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    std::vector<AuditEvent> out;
    for (const AuditEvent& event : events_) {
      if (event.trace_id() == trace_id) out.push_back(event);
    }
    return out;
  }

  mutable absl::Mutex mu_;
  std::vector<AuditEvent> events_ ABSL_GUARDED_BY(mu_);
};

// Makes a capturing sink the process sink for one test. The sink itself
// lives on: a stream of an earlier test may end its span while it is
// installed (tests look only at their own traces).
class ScopedCapture {
 public:
  ScopedCapture() : sink_(Shared()) {
    sink_.Clear();
    SetProcessAuditSink(&sink_);
  }
  ~ScopedCapture() { SetProcessAuditSink(nullptr); }
  ScopedCapture(const ScopedCapture&) = delete;
  ScopedCapture& operator=(const ScopedCapture&) = delete;
  CapturingSink* operator->() const { return &sink_; }

 private:
  static CapturingSink& Shared() {
    static CapturingSink* sink = new CapturingSink;
    return *sink;
  }
  CapturingSink& sink_;
};

// A caller's traceparent in trace `trace_id`.
constexpr char kCallerSpanId[] = "00f067aa0ba902b7";
std::string CallerTraceparent(const std::string& trace_id) {
  return absl::StrCat("00-", trace_id, "-", kCallerSpanId, "-01");
}

std::map<std::string, std::string> Attributes(const AuditEvent& event) {
  return {event.attributes().begin(), event.attributes().end()};
}

std::unique_ptr<RouteTable> TestRoutes() {
  RouteTable::Options options;
  options.reserved_paths = {kHealthPath, kOpenApiPath};
  auto table = RouteTable::Build({EchoRequest::descriptor()->file()}, options);
  EXPECT_TRUE(table.ok()) << table.status();
  return *std::move(table);
}

// The test API's routes unless `routes` is given.
Bridge StartBridge(int backend_port, std::vector<std::string> cors_origins,
                   std::shared_ptr<const RouteTable> routes = nullptr) {
  if (routes == nullptr) routes = TestRoutes();
  BackendSpec spec;
  spec.default_address = absl::StrCat("127.0.0.1:", backend_port);
  auto backends = Backends::Create(spec, routes->services(), [](const std::string& address) {
    return absl::StatusOr<std::shared_ptr<grpc::Channel>>(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  });
  EXPECT_TRUE(backends.ok()) << backends.status();
  BridgeOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 8;
  options.max_body_bytes = 64 << 10;
  options.max_header_bytes = 32 << 10;
  options.forwarding.default_timeout = absl::Seconds(10);
  options.forwarding.max_timeout = absl::Seconds(20);
  options.cors_origins = std::move(cors_origins);
  auto server = BridgeServer::Start(options, routes, *std::move(backends));
  EXPECT_TRUE(server.ok()) << server.status();
  Bridge bridge;
  bridge.port = (*server)->port();
  bridge.server = *std::move(server);
  return bridge;
}

class BridgeServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    backend_ = new FakeBackend;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &backend_port_);
    builder.RegisterService(static_cast<shop::bridgetest::EchoService::Service*>(backend_));
    builder.RegisterService(static_cast<shop::bridgetest::LibraryService::Service*>(backend_));
    grpc_server_ = builder.BuildAndStart().release();
    ASSERT_NE(grpc_server_, nullptr);
    bridge_ = new Bridge(StartBridge(backend_port_, {kOrigin}));
  }
  static void TearDownTestSuite() {
    backend_->release.Notify();
    delete bridge_;
    grpc_server_->Shutdown();
    delete grpc_server_;
    delete backend_;
  }
  void SetUp() override { calls_before_ = backend_->calls.load(); }

  int BackendCalls() const { return backend_->calls.load() - calls_before_; }

  static httplib::Client Client(int port = 0) {
    httplib::Client client("127.0.0.1", port == 0 ? bridge_->port : port);
    client.set_url_encode(false);
    client.set_read_timeout(std::chrono::seconds(30));
    return client;
  }

  // Sends raw bytes on a new connection and returns the whole answer.
  static std::string Raw(const std::string& bytes) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(bridge_->port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    // Read one response: headers, then Content-Length bytes (a half-closed
    // socket would make the server drop its answer).
    std::string answer;
    char buffer[4096];
    ssize_t n;
    while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) {
      answer.append(buffer, static_cast<size_t>(n));
      const size_t end = answer.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      const size_t length = answer.find("Content-Length: ");
      const size_t body = length == std::string::npos
                              ? 0
                              : std::stoul(answer.substr(length + 16, answer.find("\r\n", length)));
      if (answer.size() >= end + 4 + body) break;
    }
    close(fd);
    return answer;
  }

  static int RawStatus(const std::string& answer) {
    int status = 0;
    if (answer.size() > 12) status = std::atoi(answer.substr(9, 3).c_str());
    return status;
  }
  static json RawBody(const std::string& answer) {
    const size_t start = answer.find("\r\n\r\n");
    return json::parse(answer.substr(start == std::string::npos ? 0 : start + 4), nullptr, false);
  }

  // Checks a JSON error response: HTTP status, gRPC code, message part.
  static void ExpectError(const httplib::Result& result, int http_status, int code,
                          const std::string& message_part) {
    ASSERT_TRUE(result) << "no response";
    EXPECT_EQ(result->status, http_status) << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
    json body = json::parse(result->body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << result->body;
    EXPECT_EQ(body["code"], code) << result->body;
    EXPECT_NE(body["message"].get<std::string>().find(message_part), std::string::npos)
        << result->body;
    EXPECT_TRUE(body["details"].is_array());
  }

  static FakeBackend* backend_;
  static grpc::Server* grpc_server_;
  static int backend_port_;
  static Bridge* bridge_;
  int calls_before_ = 0;
};

FakeBackend* BridgeServerTest::backend_ = nullptr;
grpc::Server* BridgeServerTest::grpc_server_ = nullptr;
int BridgeServerTest::backend_port_ = 0;
Bridge* BridgeServerTest::bridge_ = nullptr;

TEST_F(BridgeServerTest, HealthNeedsNoBackend) {
  auto result = Client().Get("/healthz");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, R"({"status":"SERVING"})");
  ExpectError(Client().Post("/healthz", "", "application/json"), 405, 12, "allowed: GET");
  EXPECT_EQ(BackendCalls(), 0);
}

TEST_F(BridgeServerTest, OpenApiListsEveryAnnotatedMethod) {
  auto result = Client().Get("/openapi.json");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  json doc = json::parse(result->body, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["openapi"], "3.0.3");
  std::set<std::string> operations;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items())
      operations.insert(op["operationId"].get<std::string>());
  }
  std::unique_ptr<RouteTable> routes = TestRoutes();
  for (const Route& route : routes->routes()) {
    const std::string id =
        absl::StrCat(route.method->service()->name(), "_", route.method->name(),
                     route.binding_index == 0 ? "" : std::to_string(route.binding_index + 1));
    EXPECT_TRUE(operations.count(id)) << id;
  }
  EXPECT_EQ(BackendCalls(), 0);
}

TEST_F(BridgeServerTest, RoutesEveryKindOfTemplate) {
  auto method_of = [](const httplib::Result& result) {
    return result ? result->get_header_value("Grpc-Metadata-X-Echo-Method") : "no response";
  };
  auto client = Client();
  auto get = client.Get("/v1/echo/e%201");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(method_of(get), "Echo");
  EXPECT_EQ(json::parse(get->body)["request"]["id"], "e 1");
  EXPECT_EQ(method_of(client.Get("/v1/echo/special")), "EchoSpecial");
  EXPECT_EQ(method_of(client.Post("/v1/echo/e1:cancel", "{}", "application/json")), "Cancel");
  EXPECT_EQ(method_of(client.Post("/v1/echo", R"({"id": "posted"})", "application/json")), "Echo");
  auto nested = client.Get("/v1/echo/e1/nested/lbl");
  ASSERT_TRUE(nested);
  EXPECT_EQ(json::parse(nested->body)["request"]["nested"]["label"], "lbl");
  auto file = client.Get("/v1/files/a/b%2Fc/d.txt");
  ASSERT_TRUE(file);
  EXPECT_EQ(method_of(file), "GetFile");
  EXPECT_EQ(json::parse(file->body)["request"]["path"], "a/b%2Fc/d.txt");
  auto deleted = client.Delete("/v1/echo/e1");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200);
  EXPECT_EQ(deleted->body, "{}");
  auto head = client.Head("/v1/echo/e1/probe");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(method_of(head), "Probe");

  auto book = client.Get("/v1/shelves/s1/books/b1");
  ASSERT_TRUE(book);
  EXPECT_EQ(
      json::parse(book->body),
      json::parse(R"({"name":"shelves/s1/books/b1","title":"Dune","pages":"412","authors":[]})"));
  auto title = client.Get("/v1/shelves/s1/books/b1/title");
  ASSERT_TRUE(title);
  EXPECT_EQ(title->body, R"("Dune")");
  auto update = client.Patch("/v1/shelves/s1/books/b1?allow_missing=true", R"({"title": "New"})",
                             "application/json; charset=utf-8");
  ASSERT_TRUE(update);
  EXPECT_EQ(update->status, 200) << update->body;
  EXPECT_EQ(json::parse(update->body)["name"], "shelves/s1/books/b1");
  EXPECT_EQ(json::parse(update->body)["title"], "New");
  EXPECT_EQ(json::parse(update->body)["authors"][0], "allow_missing");
  EXPECT_EQ(BackendCalls(), 11);
}

TEST_F(BridgeServerTest, QueryParametersReachTheBackendTyped) {
  auto result = Client().Get(
      "/v1/echo/"
      "e1?count=3&big=9007199254740993&flag=true&color=GREEN&tags=a&tags=b&nested.inner.depth=2"
      "&at=2024-01-02T03:04:05Z");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200) << result->body;
  json request = json::parse(result->body)["request"];
  EXPECT_EQ(request["count"], 3);
  EXPECT_EQ(request["big"], "9007199254740993");
  EXPECT_EQ(request["flag"], true);
  EXPECT_EQ(request["color"], "GREEN");
  EXPECT_EQ(request["tags"], json::parse(R"(["a","b"])"));
  EXPECT_EQ(request["nested"]["inner"]["depth"], 2);
  EXPECT_EQ(request["at"], "2024-01-02T03:04:05Z");
}

TEST_F(BridgeServerTest, EveryGrpcCodeHasItsHttpStatusAndTypedDetails) {
  const std::map<int, int> table = {
      {1, 499}, {2, 500},  {3, 400},  {4, 504},  {5, 404},  {6, 409},  {7, 403},  {8, 429},
      {9, 400}, {10, 409}, {11, 400}, {12, 501}, {13, 500}, {14, 503}, {15, 500}, {16, 401}};
  auto client = Client();
  for (const auto& [code, http] : table) {
    auto result =
        client.Get(absl::StrCat("/v1/echo/e1?fail_code=", code, "&fail_message=failure+", code));
    ExpectError(result, http, code, absl::StrCat("failure ", code));
    json body = json::parse(result->body);
    ASSERT_GE(body["details"].size(), 1u) << result->body;
    EXPECT_EQ(body["details"][0]["@type"], "type.googleapis.com/google.rpc.ErrorInfo");
    EXPECT_EQ(body["details"][0]["reason"], "TEST_REASON");
    EXPECT_EQ(body["details"][0]["metadata"]["code"], std::to_string(code));
    if (code == 3) {
      EXPECT_EQ(body["details"][1]["@type"], "type.googleapis.com/google.rpc.BadRequest");
      EXPECT_EQ(body["details"][1]["fieldViolations"][0]["field"], "count");
    }
    // Metadata still comes back on errors.
    EXPECT_EQ(result->get_header_value("Grpc-Metadata-X-Echo-Method"), "Echo");
  }
  EXPECT_EQ(BackendCalls(), 16);
}

TEST_F(BridgeServerTest, ForwardsAuthorizationAndMetadataButNeverInternalHeaders) {
  httplib::Headers headers = {
      {"Authorization", "Bearer t0k"},   {"Grpc-Metadata-Foo", "bar"},
      {"X-Shop-Customer-Id", "mallory"}, {"Grpc-Metadata-X-Shop-Customer-Id", "mallory"},
      {"x-shop-authz", "allow"},         {"Cookie", "session=1"}};
  auto result = Client().Get("/v1/echo/e1", headers);
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  json metadata = json::parse(result->body)["metadata"];
  EXPECT_EQ(metadata["authorization"], "Bearer t0k");
  EXPECT_EQ(metadata["foo"], "bar");
  for (const auto& [key, value] : metadata.items()) {
    EXPECT_NE(key.rfind("x-shop-", 0), 0u) << key;
    EXPECT_NE(key, "cookie");
  }
  EXPECT_EQ(result->get_header_value("Grpc-Metadata-X-Echo-Method"), "Echo");
  EXPECT_EQ(result->get_header_value("Grpc-Trailer-X-Echo-Trailer"), "done");
  EXPECT_FALSE(result->has_header("Grpc-Metadata-X-Shop-Internal"));
}

TEST_F(BridgeServerTest, GrpcTimeoutBecomesTheDeadline) {
  auto result = Client().Get("/v1/echo/e1?hang=true", {{"Grpc-Timeout", "200m"}});
  ExpectError(result, 504, 4, "Deadline Exceeded");
  EXPECT_EQ(BackendCalls(), 1);
}

TEST_F(BridgeServerTest, ServerStreamingIsNdjsonWithAFinalErrorLine) {
  auto client = Client();
  auto ok = client.Get("/v1/echo/e1:watch?stream_count=3");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("Content-Type"), "application/x-ndjson");
  EXPECT_EQ(ok->get_header_value("Transfer-Encoding"), "chunked");
  EXPECT_EQ(ok->get_header_value("Grpc-Metadata-X-Echo-Method"), "Watch");
  std::vector<std::string> lines = absl::StrSplit(ok->body, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << ok->body;
  for (int i = 0; i < 3; ++i) {
    json line = json::parse(lines[i])["result"];
    EXPECT_EQ(line["sequence"], i);
    EXPECT_EQ(line["request"]["id"], "e1");
  }

  auto failed = client.Get("/v1/echo/e1:watch?stream_count=2&fail_code=10&fail_message=conflict");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 200);
  lines = absl::StrSplit(failed->body, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << failed->body;
  json error = json::parse(lines[2]);
  EXPECT_EQ(error["error"]["code"], 10);
  EXPECT_EQ(error["error"]["message"], "conflict");
  EXPECT_EQ(error["error"]["details"][0]["reason"], "TEST_REASON");

  // Failing before the first message: an ordinary error response.
  ExpectError(client.Get("/v1/echo/e1:watch?fail_code=5&fail_message=gone"), 404, 5, "gone");
  auto empty = client.Get("/v1/echo/e1:watch");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 200);
  EXPECT_EQ(empty->body, "");
  EXPECT_EQ(BackendCalls(), 4);
}

TEST_F(BridgeServerTest, TraceIsContinuedOrStartedWithTheBridgesSpanAndAlwaysReturned) {
  const std::string incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto continued = Client().Get("/v1/echo/e1", {{"traceparent", incoming}, {"tracestate", "v=1"}});
  ASSERT_TRUE(continued);
  json metadata = json::parse(continued->body)["metadata"];
  const std::string sent = metadata["traceparent"];
  std::optional<TraceContext> backend = ParseTraceparent(sent);
  ASSERT_TRUE(backend.has_value()) << sent;
  // Same trace, the bridge's own span (the caller's is its parent).
  EXPECT_EQ(backend->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(backend->span_id, "00f067aa0ba902b7");
  EXPECT_EQ(continued->get_header_value("traceparent"), sent);
  EXPECT_EQ(metadata["tracestate"], "v=1");

  auto started = Client().Get("/v1/echo/e1");
  ASSERT_TRUE(started);
  const std::string traceparent = started->get_header_value("traceparent");
  EXPECT_TRUE(ParseTraceparent(traceparent).has_value()) << traceparent;
  EXPECT_EQ(json::parse(started->body)["metadata"]["traceparent"], traceparent);

  // Errors the bridge raises itself carry one too, in the caller's trace.
  auto not_found = Client().Get("/nope", {{"traceparent", incoming}});
  ASSERT_TRUE(not_found);
  std::optional<TraceContext> returned =
      ParseTraceparent(not_found->get_header_value("traceparent"));
  ASSERT_TRUE(returned.has_value());
  EXPECT_EQ(returned->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(returned->span_id, "00f067aa0ba902b7");
}

TEST_F(BridgeServerTest, EachRequestIsAServerSpanBetweenTheCallerAndTheBackend) {
  ScopedCapture spans;
  const std::string trace_id = NewTraceId();
  auto result = Client().Get("/v1/echo/e1?count=2", {{"traceparent", CallerTraceparent(trace_id)},
                                                     {"User-Agent", "span-test/1.0"},
                                                     {"Authorization", "Bearer s3cret"},
                                                     {"Cookie", "session=s3cret"}});
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  const std::string sent = json::parse(result->body)["metadata"]["traceparent"];
  EXPECT_EQ(result->get_header_value("traceparent"), sent);
  std::optional<TraceContext> backend = ParseTraceparent(sent);
  ASSERT_TRUE(backend.has_value()) << sent;

  std::vector<AuditEvent> events = spans->WaitForTrace(trace_id);
  ASSERT_EQ(events.size(), 1u);
  const AuditEvent& span = events[0];
  EXPECT_EQ(span.kind(), shop::v1::EVENT_KIND_SERVER_SPAN);
  EXPECT_EQ(span.service(), "bridge");
  EXPECT_EQ(span.name(), "GET /v1/echo/{id}");
  EXPECT_FALSE(span.event_id().empty());
  // The caller's span is the parent; the backend's parent is this span.
  EXPECT_EQ(span.parent_span_id(), kCallerSpanId);
  EXPECT_EQ(span.span_id().size(), 16u);
  EXPECT_NE(span.span_id(), span.parent_span_id());
  EXPECT_EQ(backend->trace_id, trace_id);
  EXPECT_EQ(backend->span_id, span.span_id());
  EXPECT_EQ(span.status_code(), 0);
  EXPECT_EQ(span.status_message(), "");
  EXPECT_TRUE(absl::StartsWith(span.peer_address(), "127.0.0.1:")) << span.peer_address();
  EXPECT_NE(span.peer_address(), absl::StrCat("127.0.0.1:", bridge_->port));
  using google::protobuf::util::TimeUtil;
  EXPECT_GT(span.start_time().seconds(), 0);
  EXPECT_LE(TimeUtil::TimestampToNanoseconds(span.start_time()),
            TimeUtil::TimestampToNanoseconds(span.end_time()));
  EXPECT_EQ(Attributes(span),
            (std::map<std::string, std::string>{{"http.request.method", "GET"},
                                                {"http.route", "/v1/echo/{id}"},
                                                {"url.path", "/v1/echo/e1"},
                                                {"http.response.status_code", "200"},
                                                {"user_agent.original", "span-test/1.0"},
                                                {"rpc.system", "grpc"},
                                                {"rpc.service", "shop.bridgetest.EchoService"},
                                                {"rpc.method", "Echo"}}));
  EXPECT_EQ(span.DebugString().find("s3cret"), std::string::npos) << span.DebugString();
}

TEST_F(BridgeServerTest, ErrorSpansCarryTheCodeOfTheErrorBody) {
  ScopedCapture spans;
  auto client = Client();
  // A backend error, in a trace the bridge starts.
  auto failed = client.Get("/v1/echo/e1?fail_code=5&fail_message=gone");
  ExpectError(failed, 404, 5, "gone");
  std::optional<TraceContext> started = ParseTraceparent(failed->get_header_value("traceparent"));
  ASSERT_TRUE(started.has_value());
  std::vector<AuditEvent> events = spans->WaitForTrace(started->trace_id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name(), "GET /v1/echo/{id}");
  EXPECT_EQ(events[0].span_id(), started->span_id);
  EXPECT_EQ(events[0].parent_span_id(), "");
  EXPECT_EQ(events[0].status_code(), 5);
  EXPECT_EQ(events[0].status_message(), "gone");
  EXPECT_EQ(Attributes(events[0])["http.response.status_code"], "404");

  // The bridge's own errors: no route (the name never holds the path), a
  // bad body, a body over the limit (refused by cpp-httplib itself).
  struct Case {
    std::string trace_id;
    httplib::Result result;
    std::string name;
    int code;
    std::string http_status;
  };
  auto traced = [](const std::string& trace_id) {
    return httplib::Headers{{"traceparent", CallerTraceparent(trace_id)},
                            {"User-Agent", "span-test/1.0"}};
  };
  const std::string no_route = NewTraceId();
  const std::string bad_body = NewTraceId();
  const std::string too_large = NewTraceId();
  std::vector<Case> cases;
  cases.push_back(
      {no_route, client.Get("/v1/nowhere/x1", traced(no_route)), "GET <unmatched>", 5, "404"});
  cases.push_back({bad_body, client.Post("/v1/echo", traced(bad_body), "{", "application/json"),
                   "POST /v1/echo", 3, "400"});
  cases.push_back(
      {too_large,
       client.Post("/v1/echo", traced(too_large), std::string(100 << 10, ' '), "application/json"),
       "POST <unmatched>", 8, "413"});
  for (const Case& c : cases) {
    ASSERT_TRUE(c.result) << c.name;
    json body = json::parse(c.result->body);
    EXPECT_EQ(body["code"], c.code) << c.result->body;
    std::optional<TraceContext> returned =
        ParseTraceparent(c.result->get_header_value("traceparent"));
    ASSERT_TRUE(returned.has_value()) << c.name;
    EXPECT_EQ(returned->trace_id, c.trace_id);
    events = spans->WaitForTrace(c.trace_id);
    ASSERT_EQ(events.size(), 1u) << c.name;
    EXPECT_EQ(events[0].name(), c.name);
    EXPECT_EQ(events[0].span_id(), returned->span_id);
    EXPECT_EQ(events[0].parent_span_id(), kCallerSpanId);
    EXPECT_EQ(events[0].status_code(), c.code) << c.name;
    EXPECT_EQ(events[0].status_message(), body["message"]) << c.name;
    std::map<std::string, std::string> attributes = Attributes(events[0]);
    EXPECT_EQ(attributes["http.response.status_code"], c.http_status) << c.name;
    EXPECT_EQ(attributes.count("rpc.service"), c.name == "POST /v1/echo" ? 1u : 0u) << c.name;
  }
  EXPECT_EQ(Attributes(spans->OfTrace(no_route)[0]),
            (std::map<std::string, std::string>{{"http.request.method", "GET"},
                                                {"url.path", "/v1/nowhere/x1"},
                                                {"http.response.status_code", "404"},
                                                {"user_agent.original", "span-test/1.0"}}));
  EXPECT_EQ(BackendCalls(), 1);
}

TEST_F(BridgeServerTest, AStreamsSpanEndsWithTheStream) {
  ScopedCapture spans;
  const std::string trace_id = NewTraceId();
  auto result = Client().Get("/v1/echo/e1:watch?stream_count=2&fail_code=10&fail_message=conflict",
                             {{"traceparent", CallerTraceparent(trace_id)}});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  std::vector<AuditEvent> events = spans->WaitForTrace(trace_id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name(), "GET /v1/echo/{id}:watch");
  EXPECT_EQ(events[0].status_code(), 10);  // as in the final error line
  EXPECT_EQ(events[0].status_message(), "conflict");
  EXPECT_EQ(Attributes(events[0])["http.response.status_code"], "200");
  EXPECT_EQ(Attributes(events[0])["rpc.method"], "Watch");

  const std::string ok_trace_id = NewTraceId();
  auto ok = Client().Get("/v1/echo/e1:watch?stream_count=2",
                         {{"traceparent", CallerTraceparent(ok_trace_id)}});
  ASSERT_TRUE(ok);
  events = spans->WaitForTrace(ok_trace_id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].status_code(), 0);
}

TEST_F(BridgeServerTest, HealthChecksAndPreflightsHaveNoSpan) {
  ScopedCapture spans;
  const std::string trace_id = NewTraceId();
  auto client = Client();
  auto health = client.Get("/healthz", {{"traceparent", CallerTraceparent(trace_id)}});
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto preflight = client.Options("/v1/echo/e1", {{"traceparent", CallerTraceparent(trace_id)},
                                                  {"Origin", kOrigin},
                                                  {"Access-Control-Request-Method", "GET"}});
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  // A request's span ends before its (non-streamed) response is written:
  // none can still come.
  EXPECT_TRUE(spans->OfTrace(trace_id).empty());
  // While the bridge's own document is a traced request.
  auto openapi = client.Get("/openapi.json", {{"traceparent", CallerTraceparent(trace_id)}});
  ASSERT_TRUE(openapi);
  std::vector<AuditEvent> events = spans->OfTrace(trace_id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name(), "GET /openapi.json");
}

TEST_F(BridgeServerTest, SpansNameTheOrderTheirPathBinds) {
  // The shop's own API has {order_id} routes; the fake backend does not
  // implement them (UNIMPLEMENTED), which is enough for the span.
  RouteTable::Options options;
  options.reserved_paths = {kHealthPath, kOpenApiPath};
  auto routes = RouteTable::Build(RouteTable::GeneratedFiles(), options);
  ASSERT_TRUE(routes.ok()) << routes.status();
  Bridge shop_api = StartBridge(backend_port_, {}, *std::move(routes));
  ScopedCapture spans;
  const std::string trace_id = NewTraceId();
  auto order = Client(shop_api.port)
                   .Get("/v1/orders/ord_123", {{"traceparent", CallerTraceparent(trace_id)}});
  ExpectError(order, 501, 12, "");
  std::vector<AuditEvent> events = spans->WaitForTrace(trace_id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name(), "GET /v1/orders/{order_id}");
  EXPECT_EQ(events[0].order_id(), "ord_123");
  EXPECT_EQ(events[0].status_code(), 12);
  EXPECT_EQ(Attributes(events[0])["rpc.service"], "shop.v1.CustomerService");
  EXPECT_EQ(Attributes(events[0])["rpc.method"], "GetOrder");

  // Not an id (a space): no order_id.
  const std::string odd_trace_id = NewTraceId();
  auto odd = Client(shop_api.port)
                 .Get("/v1/orders/ord%20123", {{"traceparent", CallerTraceparent(odd_trace_id)}});
  ASSERT_TRUE(odd);
  events = spans->WaitForTrace(odd_trace_id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name(), "GET /v1/orders/{order_id}");
  EXPECT_EQ(events[0].order_id(), "");
}

TEST_F(BridgeServerTest, IdempotencyKeyHeaderSetsTheField) {
  auto created = Client().Post("/v1/shelves/s1/books", {{"Idempotency-Key", "key-1"}},
                               R"({"title": "T"})", "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 200) << created->body;
  EXPECT_EQ(json::parse(created->body)["authors"][0], "key-1");
  EXPECT_EQ(json::parse(created->body)["name"], "shelves/s1/books/new");

  auto same = Client().Post("/v1/echo", {{"Idempotency-Key", "k"}}, R"({"idempotencyKey": "k"})",
                            "application/json");
  ASSERT_TRUE(same);
  EXPECT_EQ(json::parse(same->body)["request"]["idempotencyKey"], "k");
  EXPECT_EQ(BackendCalls(), 2);
  ExpectError(Client().Post("/v1/echo", {{"Idempotency-Key", "other"}},
                            R"({"idempotencyKey": "k"})", "application/json"),
              400, 3, "Idempotency-Key header and the request disagree");
  EXPECT_EQ(BackendCalls(), 2);
}

TEST_F(BridgeServerTest, CorsPreflightAndActualRequests) {
  auto client = Client();
  auto preflight =
      client.Options("/v1/echo/e1", {{"Origin", kOrigin},
                                     {"Access-Control-Request-Method", "DELETE"},
                                     {"Access-Control-Request-Headers", "grpc-metadata-foo"}});
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Origin"), kOrigin);
  EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Methods"), "DELETE, GET");
  EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Headers"),
            "authorization, content-type, idempotency-key, grpc-timeout, traceparent, tracestate, "
            "grpc-metadata-foo");
  EXPECT_EQ(preflight->get_header_value("Access-Control-Max-Age"), "600");

  ExpectError(client.Options("/v1/echo/e1", {{"Origin", "https://evil.example"},
                                             {"Access-Control-Request-Method", "GET"}}),
              403, 7, "origin https://evil.example is not allowed");
  ExpectError(
      client.Options("/nope", {{"Origin", kOrigin}, {"Access-Control-Request-Method", "GET"}}), 404,
      5, "no route");

  auto actual = client.Get("/v1/echo/e1", {{"Origin", kOrigin}});
  ASSERT_TRUE(actual);
  EXPECT_EQ(actual->get_header_value("Access-Control-Allow-Origin"), kOrigin);
  const std::string exposed = actual->get_header_value("Access-Control-Expose-Headers");
  EXPECT_NE(exposed.find("traceparent"), std::string::npos) << exposed;
  EXPECT_NE(exposed.find("Grpc-Metadata-X-Echo-Method"), std::string::npos) << exposed;
  EXPECT_NE(exposed.find("Grpc-Trailer-X-Echo-Trailer"), std::string::npos) << exposed;
  auto foreign = client.Get("/v1/echo/e1", {{"Origin", "https://evil.example"}});
  ASSERT_TRUE(foreign);
  EXPECT_FALSE(foreign->has_header("Access-Control-Allow-Origin"));
  // Errors are readable by the page too.
  auto error = client.Get("/nope", {{"Origin", kOrigin}});
  ASSERT_TRUE(error);
  EXPECT_EQ(error->get_header_value("Access-Control-Allow-Origin"), kOrigin);
  EXPECT_EQ(BackendCalls(), 2);

  Bridge any = StartBridge(backend_port_, {"*"});
  auto wildcard = Client(any.port).Get("/v1/echo/e1", {{"Origin", "https://x.example"}});
  ASSERT_TRUE(wildcard);
  EXPECT_EQ(wildcard->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_FALSE(wildcard->has_header("Access-Control-Allow-Credentials"));
}

TEST_F(BridgeServerTest, BadJsonAndWrongTypesNeverReachTheBackend) {
  auto client = Client();
  auto malformed = client.Post("/v1/echo", R"({"id": )", "application/json");
  ExpectError(malformed, 400, 3, "malformed JSON");
  json body = json::parse(malformed->body);
  EXPECT_EQ(body["details"][0]["@type"], "type.googleapis.com/google.rpc.BadRequest");
  EXPECT_EQ(body["details"][0]["fieldViolations"][0]["field"], "body");
  ExpectError(client.Post("/v1/echo", R"({"count": "many"})", "application/json"), 400, 3, "count");
  ExpectError(client.Post("/v1/echo", R"({"colour": "RED"})", "application/json"), 400, 3,
              "colour");
  ExpectError(client.Post("/v1/echo", "[1]", "application/json"), 400, 3, "must be a JSON object");
  ExpectError(client.Post("/v1/echo", "{\"id\": \"\xff\"}", "application/json"), 400, 3, "UTF-8");
  ExpectError(client.Get("/v1/echo/e1?count=many"), 400, 3, "count: \"many\" is not a valid int32");
  ExpectError(client.Get("/v1/echo/e1?colour=RED"), 400, 3, "colour: unknown query parameter");
  ExpectError(client.Get("/v1/echo/e1?big=1&big=2"), 400, 3, "given more than once");
  ExpectError(client.Post("/v1/echo?count=1", "{}", "application/json"), 400, 3,
              "query parameters are not accepted");
  EXPECT_EQ(BackendCalls(), 0);
}

TEST_F(BridgeServerTest, RoutingAndProtocolErrorsNeverReachTheBackend) {
  auto client = Client();
  ExpectError(client.Get("/v1/nowhere"), 404, 5, "no route for /v1/nowhere");
  auto wrong_method = client.Put("/v1/echo/e1", "{}", "application/json");
  ExpectError(wrong_method, 405, 12, "method PUT is not allowed");
  EXPECT_EQ(wrong_method->get_header_value("Allow"), "DELETE, GET");
  ExpectError(client.Post("/v1/echo", "id=1", "application/x-www-form-urlencoded"), 415, 3,
              "must be application/json");
  ExpectError(client.Post("/v1/echo", "{}", "application/json; charset=latin1"), 415, 3,
              "must be application/json");
  ExpectError(client.Post("/v1/echo", std::string(100 << 10, ' '), "application/json"), 413, 8,
              "larger than 65536 bytes");
  ExpectError(client.Get("/v1/echo/e1", {{"Grpc-Timeout", "soon"}}), 400, 3, "bad Grpc-Timeout");
  ExpectError(client.Get("/v1/echo/e1", {{"Grpc-Metadata-Foo", "caf\xc3\xa9"}}), 400, 3,
              "characters gRPC cannot carry");
  // Without a body, Content-Type does not matter.
  auto no_body = client.Get("/v1/echo/e1", {{"Content-Type", "text/plain"}});
  ASSERT_TRUE(no_body);
  EXPECT_EQ(no_body->status, 200);
  EXPECT_EQ(BackendCalls(), 1);  // only the last, valid one
}

TEST_F(BridgeServerTest, GarbageInPathQueryAndHeadersIsAJsonError) {
  auto client = Client();
  ExpectError(client.Get("/v1/echo/%zz"), 400, 3, "percent-encoding");
  ExpectError(client.Get("/v1/echo/%FF"), 400, 3, "UTF-8");
  ExpectError(client.Get("/v1/echo/e1?tags=%"), 400, 3, "percent-encoding");
  ExpectError(client.Get("/v1/echo/e1?tags=%C3%28"), 400, 3, "UTF-8");

  std::string answer =
      Raw("GET /v1/echo/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(RawStatus(answer), 400) << answer;
  EXPECT_EQ(RawBody(answer)["code"], 3) << answer;

  // One header line over cpp-httplib's 8192-byte limit: refused by the library.
  answer = Raw("GET /v1/echo/e1 HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') +
               "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(RawStatus(answer), 400) << answer.substr(0, 200);
  EXPECT_EQ(RawBody(answer)["code"], 3) << answer.substr(0, 300);
  // Headers over --max_header_bytes together: 431.
  httplib::Headers many;
  for (int i = 0; i < 6; ++i) many.emplace("X-Pad-" + std::to_string(i), std::string(7000, 'p'));
  ExpectError(client.Get("/v1/echo/e1", many), 431, 8, "request headers exceed 32768 bytes");
  // A request line over the library's URI limit: 414.
  answer = Raw("GET /v1/echo/" + std::string(9000, 'a') +
               " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(RawStatus(answer), 414) << answer.substr(0, 200);
  EXPECT_EQ(RawBody(answer)["code"], 3);
  // Not HTTP at all, and an unknown method.
  answer = Raw("\x16\x03\x01garbage\r\n\r\n");
  EXPECT_EQ(RawStatus(answer), 400) << answer;
  answer = Raw("BREW /v1/echo/e1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(RawStatus(answer), 400) << answer;
  EXPECT_EQ(RawBody(answer)["code"], 3);
  EXPECT_EQ(BackendCalls(), 0);

  // The server still serves.
  auto after = client.Get("/healthz");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(BridgeServerTest, ShutdownStopsServingAndCancelsHangingCalls) {
  Bridge bridge = StartBridge(backend_port_, {});
  std::thread caller([&] {
    auto result = Client(bridge.port).Get("/v1/echo/e1?hang=true", {{"Grpc-Timeout", "20S"}});
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 499) << result->body;  // cancelled by the shutdown
  });
  // Wait until the call is in the backend (no sleep: poll the counter with yields).
  while (BackendCalls() == 0) std::this_thread::yield();
  bridge.server->Shutdown(absl::ZeroDuration());
  caller.join();
  EXPECT_FALSE(Client(bridge.port).Get("/healthz"));
}

}  // namespace
}  // namespace shop::bridge
