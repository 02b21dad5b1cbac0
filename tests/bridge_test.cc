// The JSON bridge, driven with a plain HTTP client against the real mesh:
// the customer routes end to end with end-user JWTs, fulfilment by staff,
// the status mapping with typed details, bad input, the OpenAPI document,
// CORS, deadlines, and the bridge's span as the root of the trace.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/ids.h"
#include "core/jwt.h"
#include "core/trace.h"
#include "google/api/annotations.pb.h"
#include "google/protobuf/descriptor.h"
#include "shop/ops/v1/ops.pb.h"
#include "shop/v1/audit.grpc.pb.h"
#include "shop/v1/ecp.pb.h"
#include "shop/v1/ims.pb.h"
#include "shop/v1/payments.pb.h"
#include "tests/client.h"
#include "tests/harness.h"

namespace shop::testing {
namespace {

using nlohmann::json;

constexpr char kIssuer[] = "https://id.shopmesh.local";
constexpr char kAudience[] = "shopmesh";

const char kOrderBody[] =
    R"({"lines":[{"sku":"MUG-CLASSIC","quantity":1}],)"
    R"("shippingAddress":{"name":"Ada Lovelace","line1":"123 Main St","city":"New York",)"
    R"("region":"NY","postalCode":"10001","countryCode":"US"},)"
    R"("paymentMethodToken":"pm_card_visa"})";

class BridgeTest : public SuiteMeshTest {
 protected:
  void SetUp() override {
    SuiteMeshTest::SetUp();
    if (HasFatalFailure()) return;
    auto key = JwtSigningKey::FromPemFile(mesh_->pki() + "/jwt-signing.key", "dev-es256-1");
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = std::make_unique<JwtSigningKey>(std::move(*key));
  }

  std::string Token(const std::string& subject, std::vector<std::string> roles = {}) {
    JwtMintRequest request{kIssuer,
                           kAudience,
                           subject,
                           std::move(roles),
                           absl::Now(),
                           std::nullopt,
                           absl::Now() + absl::Minutes(10)};
    return Mint(request);
  }
  std::string Mint(const JwtMintRequest& request, const JwtSigningKey* key = nullptr) {
    auto token = MintJwt(key != nullptr ? *key : *key_, request);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : "";
  }

  httplib::Client Client() {
    httplib::Client client(mesh_->bridge_url());
    client.set_read_timeout(30, 0);
    return client;
  }
  httplib::Headers Auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
  // POST /v1/orders as `token`; returns the response.
  httplib::Result Place(const std::string& token, const std::string& key,
                        const std::string& body = kOrderBody) {
    httplib::Headers headers = Auth(token);
    headers.emplace("Idempotency-Key", key);
    return Client().Post("/v1/orders", headers, body, "application/json");
  }
  static std::string Reason(const json& error) {
    for (const auto& d : error.value("details", json::array())) {
      if (d.value("@type", "") == "type.googleapis.com/google.rpc.ErrorInfo")
        return d.value("reason", "");
    }
    return "";
  }

  std::unique_ptr<JwtSigningKey> key_;
};

TEST_F(BridgeTest, CustomerSessionBrowsePlaceTrackListCancel) {
  const std::string token = Token("bridge-alice");
  auto products = Client().Get("/v1/products?pageSize=3", Auth(token));
  ASSERT_TRUE(products);
  ASSERT_EQ(products->status, 200) << products->body;
  json catalog = json::parse(products->body);
  ASSERT_EQ(catalog["products"].size(), 3u);
  EXPECT_TRUE(catalog["products"][0].contains("unitPrice"));  // proto3 JSON names
  EXPECT_EQ(products->get_header_value("Content-Type").find("application/json"), 0u);

  const std::string key = NewId("bridge");
  auto placed = Place(token, key);
  ASSERT_TRUE(placed);
  ASSERT_EQ(placed->status, 200) << placed->body;
  json order = json::parse(placed->body)["order"];
  const std::string order_id = order["orderId"];
  EXPECT_EQ(order["status"], "ORDER_STATUS_CONFIRMED");
  EXPECT_EQ(order["customerId"], "bridge-alice");
  // The same Idempotency-Key replays the same order.
  auto again = Place(token, key);
  ASSERT_TRUE(again);
  EXPECT_EQ(json::parse(again->body)["order"]["orderId"], order_id);

  auto tracked = Client().Get("/v1/orders/" + order_id, Auth(token));
  ASSERT_TRUE(tracked);
  ASSERT_EQ(tracked->status, 200) << tracked->body;
  EXPECT_EQ(json::parse(tracked->body)["order"]["orderId"], order_id);

  auto listed = Client().Get("/v1/orders?pageSize=5&status=ORDER_STATUS_CONFIRMED", Auth(token));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  bool found = false;
  const json list = json::parse(listed->body);
  for (const auto& o : list["orders"]) found = found || o["orderId"] == order_id;
  EXPECT_TRUE(found) << order_id << " not in " << listed->body.substr(0, 200);

  auto cancelled = Client().Post("/v1/orders/" + order_id + ":cancel", Auth(token),
                                 R"({"reason":"changed my mind"})", "application/json");
  ASSERT_TRUE(cancelled);
  ASSERT_EQ(cancelled->status, 200) << cancelled->body;
  EXPECT_EQ(json::parse(cancelled->body)["order"]["status"], "ORDER_STATUS_CANCELLED");
}

TEST_F(BridgeTest, AnotherCustomersOrderIsNotFound) {
  auto placed = Place(Token("bridge-owner"), NewId("bridge"));
  ASSERT_TRUE(placed);
  ASSERT_EQ(placed->status, 200) << placed->body;
  const std::string order_id = json::parse(placed->body)["order"]["orderId"];
  auto peek = Client().Get("/v1/orders/" + order_id, Auth(Token("bridge-mallory")));
  ASSERT_TRUE(peek);
  EXPECT_EQ(peek->status, 404);
  EXPECT_EQ(json::parse(peek->body)["code"], 5);
  auto cancel = Client().Post("/v1/orders/" + order_id + ":cancel", Auth(Token("bridge-mallory")),
                              "{}", "application/json");
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->status, 404);
}

TEST_F(BridgeTest, EveryBadTokenIsUnauthenticatedWithItsReason) {
  const absl::Time now = absl::Now();
  auto other_key = JwtSigningKey::FromPemFile(mesh_->pki() + "/jwt-signing.key", "no-such-kid");
  ASSERT_TRUE(other_key.ok());
  const std::string good = Token("bridge-carol");
  std::string tampered = good;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  const std::string none =
      Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." +
      Base64UrlEncode(absl::StrCat(R"({"iss":")", kIssuer, R"(","aud":")", kAudience,
                                   R"(","sub":"bridge-carol","exp":)",
                                   absl::ToUnixSeconds(now) + 600, "}")) +
      ".";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {Mint({kIssuer,
             kAudience,
             "bridge-carol",
             {},
             now - absl::Hours(2),
             std::nullopt,
             now - absl::Hours(1)}),
       "TOKEN_EXPIRED"},
      {Mint({kIssuer,
             kAudience,
             "bridge-carol",
             {},
             now,
             now + absl::Hours(1),
             now + absl::Hours(2)}),
       "TOKEN_NOT_YET_VALID"},
      {Mint({"https://evil.example",
             kAudience,
             "bridge-carol",
             {},
             now,
             std::nullopt,
             now + absl::Minutes(5)}),
       "WRONG_ISSUER"},
      {Mint({kIssuer,
             "someone-else",
             "bridge-carol",
             {},
             now,
             std::nullopt,
             now + absl::Minutes(5)}),
       "WRONG_AUDIENCE"},
      {tampered, "BAD_SIGNATURE"},
      {none, "UNSUPPORTED_ALG"},
      {Mint({kIssuer, kAudience, "bridge-carol", {}, now, std::nullopt, now + absl::Minutes(5)},
            &*other_key),
       "UNKNOWN_KEY"},
  };
  for (const auto& [token, reason] : cases) {
    auto result = Client().Get("/v1/orders", Auth(token));
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 401) << reason << ": " << result->body;
    json error = json::parse(result->body);
    EXPECT_EQ(error["code"], 16) << reason;
    EXPECT_EQ(Reason(error), reason) << result->body;
  }
  // No token at all, and a forged x-shop-customer-id header through the bridge.
  auto anonymous = Client().Get("/v1/orders", {{"X-Shop-Customer-Id", "bridge-carol"}});
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(Reason(json::parse(anonymous->body)), "NOT_SIGNED_IN");
  auto good_result = Client().Get("/v1/orders", Auth(good));
  ASSERT_TRUE(good_result);
  EXPECT_EQ(good_result->status, 200) << good_result->body;
}

TEST_F(BridgeTest, StaffFulfilWhileCustomersMayNot) {
  auto placed = Place(Token("bridge-dave"), NewId("bridge"));
  ASSERT_TRUE(placed);
  ASSERT_EQ(placed->status, 200) << placed->body;
  const std::string order_id = json::parse(placed->body)["order"]["orderId"];
  auto denied = Client().Post("/v1/orders/" + order_id + ":startProcessing",
                              Auth(Token("bridge-dave")), "{}", "application/json");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403) << denied->body;
  EXPECT_EQ(Reason(json::parse(denied->body)), "STAFF_ONLY");

  const std::string staff = Token("bridge-sam", {"staff"});
  auto processing = Client().Post("/v1/orders/" + order_id + ":startProcessing", Auth(staff), "{}",
                                  "application/json");
  ASSERT_TRUE(processing);
  ASSERT_EQ(processing->status, 200) << processing->body;
  EXPECT_EQ(json::parse(processing->body)["order"]["status"], "ORDER_STATUS_PROCESSING");
  auto shipped = Client().Post("/v1/orders/" + order_id + ":ship", Auth(staff),
                               R"({"carrier":"UPS","trackingNumber":"1Z999"})", "application/json");
  ASSERT_TRUE(shipped);
  ASSERT_EQ(shipped->status, 200) << shipped->body;
  // Out of order: delivered twice is a precondition failure (400).
  auto delivered =
      Client().Post("/v1/orders/" + order_id + ":deliver", Auth(staff), "{}", "application/json");
  ASSERT_TRUE(delivered);
  ASSERT_EQ(delivered->status, 200) << delivered->body;
  auto again = Client().Post("/v1/orders/" + order_id + ":startProcessing", Auth(staff), "{}",
                             "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 400) << again->body;
  EXPECT_EQ(json::parse(again->body)["code"], 9);
  // The customer cannot cancel a delivered order either.
  auto cancel = Client().Post("/v1/orders/" + order_id + ":cancel", Auth(Token("bridge-dave")),
                              "{}", "application/json");
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->status, 400);
}

TEST_F(BridgeTest, WatchOrderStreamsEachStatusAsNdjson) {
  const std::string customer = Token("bridge-henry");
  auto placed = Place(customer, NewId("bridge"));
  ASSERT_TRUE(placed);
  ASSERT_EQ(placed->status, 200) << placed->body;
  const std::string order_id = json::parse(placed->body)["order"]["orderId"];

  absl::Mutex mu;
  std::vector<json> lines;
  std::string buffer, content_type;
  std::thread watcher([&] {
    httplib::Client client(mesh_->bridge_url());
    client.set_read_timeout(60, 0);
    httplib::Headers headers = Auth(customer);
    headers.emplace("Grpc-Timeout", "30S");
    client.Get(
        "/v1/orders/" + order_id + ":watch", headers,
        [&](const httplib::Response& response) {
          absl::MutexLock lock(&mu);
          content_type = response.get_header_value("Content-Type");
          return true;
        },
        [&](const char* data, size_t size) {
          absl::MutexLock lock(&mu);
          buffer.append(data, size);
          for (size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
            lines.push_back(json::parse(buffer.substr(0, nl), nullptr, false));
          }
          return true;
        });
  });
  auto count = [&] {
    absl::MutexLock lock(&mu);
    return lines.size();
  };
  const std::string staff = Token("bridge-sam", {"staff"});
  auto step = [&](const std::string& verb, const std::string& body, size_t expected_lines) {
    EXPECT_TRUE(WaitFor([&] { return count() >= expected_lines; }, std::chrono::seconds(20)))
        << "before " << verb;
    auto result =
        Client().Post("/v1/orders/" + order_id + ":" + verb, Auth(staff), body, "application/json");
    EXPECT_TRUE(result && result->status == 200) << verb;
  };
  step("startProcessing", "{}", 1);
  step("ship", R"({"carrier":"DHL","trackingNumber":"JD014600003SE"})", 2);
  step("deliver", "{}", 3);
  watcher.join();  // the stream ends by itself: DELIVERED is final
  absl::MutexLock lock(&mu);
  EXPECT_EQ(content_type.find("application/x-ndjson"), 0u) << content_type;
  std::vector<std::string> statuses;
  for (const auto& line : lines) statuses.push_back(line["result"]["order"]["status"]);
  EXPECT_EQ(statuses, (std::vector<std::string>{"ORDER_STATUS_CONFIRMED", "ORDER_STATUS_PROCESSING",
                                                "ORDER_STATUS_SHIPPED", "ORDER_STATUS_DELIVERED"}))
      << buffer;
}

TEST_F(BridgeTest, BackendErrorsMapToHttpWithTypedDetails) {
  const std::string token = Token("bridge-erin");
  // INVALID_ARGUMENT with BadRequest field violations.
  auto bad = Place(
      token, NewId("bridge"),
      R"({"lines":[{"sku":"MUG-CLASSIC","quantity":0}],"paymentMethodToken":"pm_card_visa"})");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  json error = json::parse(bad->body);
  EXPECT_EQ(error["code"], 3);
  bool field_violations = false;
  for (const auto& d : error["details"]) {
    if (d["@type"] == "type.googleapis.com/google.rpc.BadRequest") {
      field_violations = !d["fieldViolations"].empty();
    }
  }
  EXPECT_TRUE(field_violations) << bad->body;

  // FAILED_PRECONDITION out of stock with the typed StockShortage detail.
  std::string greedy = kOrderBody;
  greedy.replace(greedy.find("\"quantity\":1"), 12, "\"quantity\":999");
  auto short_stock = Place(token, NewId("bridge"), greedy);
  ASSERT_TRUE(short_stock);
  EXPECT_EQ(short_stock->status, 400) << short_stock->body;
  json shortage = json::parse(short_stock->body);
  EXPECT_EQ(shortage["code"], 9);
  EXPECT_EQ(Reason(shortage), "OUT_OF_STOCK");
  bool typed = false;
  for (const auto& d : shortage["details"]) {
    if (d["@type"] == "type.googleapis.com/shop.v1.StockShortage") {
      typed = d["items"][0]["sku"] == "MUG-CLASSIC";
    }
  }
  EXPECT_TRUE(typed) << short_stock->body;

  // DEADLINE_EXCEEDED from Grpc-Timeout: 504.
  httplib::Headers hurried = Auth(token);
  hurried.emplace("Grpc-Timeout", "1n");
  auto late = Client().Get("/v1/products", hurried);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 504) << late->body;

  // UNAVAILABLE while ECP is down: 503; fine again once it is back.
  mesh_->Stop("ecp", SIGTERM);
  auto down = Client().Get("/v1/products", Auth(token));
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503) << down->body;
  ASSERT_TRUE(mesh_->StartAgain("ecp"));
  // The bridge reconnects (gRPC's reconnect backoff): polled with a deadline.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto back = Client().Get("/v1/products", Auth(token));
        return back && back->status == 200;
      },
      std::chrono::seconds(30)));
}

TEST_F(BridgeTest, BadInputIsAJsonErrorAndNoOrderIsMade) {
  const std::string token = Token("bridge-frank");
  auto count_orders = [&] {
    return QueryOps(*mesh_, "SELECT count(*) FROM orders WHERE customer_id = $1", "bridge-frank");
  };
  const std::string before = count_orders();
  struct Case {
    std::string method, path, body, content_type;
    int status;
  };
  const std::vector<Case> cases = {
      {"POST", "/v1/orders", R"({"lines": [)", "application/json", 400},           // malformed
      {"POST", "/v1/orders", R"({"lines": "many"})", "application/json", 400},     // wrong type
      {"POST", "/v1/orders", R"({"linez": []})", "application/json", 400},         // unknown field
      {"POST", "/v1/orders", kOrderBody, "text/plain", 415},                       // media type
      {"GET", "/v1/nothing-here", "", "", 404},                                    // route
      {"DELETE", "/v1/orders", "", "", 405},                                       // method
      {"POST", "/v1/orders", std::string(2 << 20, ' '), "application/json", 413},  // size
  };
  for (const auto& c : cases) {
    httplib::Request request;
    request.method = c.method;
    request.path = c.path;
    request.body = c.body;
    request.headers = Auth(token);
    request.headers.emplace("Idempotency-Key", NewId("bad"));
    if (!c.content_type.empty()) request.headers.emplace("Content-Type", c.content_type);
    auto result = Client().send(request);
    ASSERT_TRUE(result) << c.method << " " << c.path;
    EXPECT_EQ(result->status, c.status) << c.method << " " << c.path << ": " << result->body;
    json error = json::parse(result->body, nullptr, false);
    ASSERT_TRUE(error.is_object()) << result->body;
    EXPECT_TRUE(error.contains("code") && error.contains("message")) << result->body;
    if (c.status == 405) EXPECT_FALSE(result->get_header_value("Allow").empty());
  }
  // An overlong header.
  httplib::Headers huge = Auth(token);
  huge.emplace("X-Padding", std::string(40000, 'x'));
  auto too_long = Client().Get("/v1/products", huge);
  ASSERT_TRUE(too_long);
  EXPECT_TRUE(too_long->status == 431 || too_long->status == 400) << too_long->status;
  EXPECT_EQ(count_orders(), before);
}

TEST_F(BridgeTest, OpenApiDocumentHasEveryAnnotatedMethod) {
  auto result = Client().Get("/openapi.json");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200);
  json doc = json::parse(result->body);
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  std::set<std::string> operations;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [verb, op] : item.items()) operations.insert(op.value("operationId", ""));
  }
  int annotated = 0;
  for (const google::protobuf::FileDescriptor* file :
       {shop::v1::PlaceOrderRequest::descriptor()->file(),
        shop::ops::v1::PlaceOrderRequest::descriptor()->file(),
        shop::v1::ReserveRequest::descriptor()->file(),
        shop::v1::AuthorizeRequest::descriptor()->file(),
        shop::v1::AuditEvent::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      for (int m = 0; m < file->service(s)->method_count(); ++m) {
        const auto* method = file->service(s)->method(m);
        if (!method->options().HasExtension(google::api::http)) continue;
        ++annotated;
        const std::string id = method->service()->name() + "_" + method->name();
        EXPECT_EQ(operations.count(id), 1u) << id << " missing from /openapi.json";
      }
    }
  }
  EXPECT_GE(annotated, 8);
}

TEST_F(BridgeTest, CorsAllowsTheConfiguredOriginOnly) {
  httplib::Headers preflight = {{"Origin", "https://shop.example"},
                                {"Access-Control-Request-Method", "POST"},
                                {"Access-Control-Request-Headers", "authorization, content-type"}};
  auto allowed = Client().Options("/v1/orders", preflight);
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 204);
  EXPECT_EQ(allowed->get_header_value("Access-Control-Allow-Origin"), "https://shop.example");
  preflight.erase("Origin");
  preflight.emplace("Origin", "https://evil.example");
  auto refused = Client().Options("/v1/orders", preflight);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->get_header_value("Access-Control-Allow-Origin"), "");
}

TEST_F(BridgeTest, TheBridgeSpanIsTheRootOfTheTrace) {
  const std::string trace_id = NewTraceId();
  const std::string browser_span = NewSpanId();
  httplib::Headers headers = Auth(Token("bridge-gina"));
  headers.emplace("Idempotency-Key", NewId("bridge"));
  headers.emplace("traceparent", FormatTraceparent(trace_id, browser_span));
  auto placed = Client().Post("/v1/orders", headers, kOrderBody, "application/json");
  ASSERT_TRUE(placed);
  ASSERT_EQ(placed->status, 200) << placed->body;
  auto returned = ParseTraceparent(placed->get_header_value("traceparent"));
  ASSERT_TRUE(returned.has_value());
  EXPECT_EQ(returned->trace_id, trace_id);

  auto audit = shop::v1::AuditLogService::NewStub(mesh_->Channel("logging", "sre"));
  shop::v1::GetTraceResponse tree;
  ASSERT_TRUE(WaitFor(
      [&] {
        grpc::ClientContext ctx;
        shop::v1::GetTraceRequest request;
        request.set_trace_id(trace_id);
        // Each process exports in its own batches: wait for the whole tree
        // (one root, the bridge's, down to ECP's span and what it called).
        return audit->GetTrace(&ctx, request, &tree).ok() && tree.roots_size() == 1 &&
               tree.roots(0).event().service() == "bridge" && tree.roots(0).children_size() > 0 &&
               tree.roots(0).children(0).children_size() > 0 &&
               tree.roots(0).children(0).children(0).children_size() > 0;
      },
      std::chrono::seconds(20)));
  const auto& root = tree.roots(0).event();
  EXPECT_EQ(root.service(), "bridge");
  EXPECT_EQ(root.kind(), shop::v1::EVENT_KIND_SERVER_SPAN);
  EXPECT_EQ(root.name(), "POST /v1/orders");
  EXPECT_EQ(root.parent_span_id(), browser_span);
  EXPECT_EQ(root.span_id(), returned->span_id);
  const auto& client = tree.roots(0).children(0).event();
  EXPECT_EQ(client.kind(), shop::v1::EVENT_KIND_CLIENT_SPAN);
  const auto& ecp = tree.roots(0).children(0).children(0).event();
  EXPECT_EQ(ecp.service(), "ecp");
  EXPECT_EQ(ecp.caller(), "spiffe://shop.local/ns/shop/sa/bridge");
  EXPECT_EQ(ecp.customer_id(), "bridge-gina");  // from the verified token
}

}  // namespace
}  // namespace shop::testing
