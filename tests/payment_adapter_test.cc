// The payment adapter against the HTTPS gateway stand-in: typed declines,
// the circuit breaker, and no card number anywhere in the mesh.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/ids.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/pg-adapter/curl_gateway_client.h"
#include "services/pg-adapter/webhooks.h"
#include "shop/v1/ecp.grpc.pb.h"
#include "tests/client.h"
#include "tests/harness.h"
#include "tests/invariants.h"

namespace shop::testing {
namespace {

class PaymentAdapterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mesh_.ok()) << mesh_.error();
    customer_ = NewId("cust");
    ecp_ = shop::v1::CustomerService::NewStub(mesh_.Channel("ecp"));
  }
  grpc::Status Place(const std::string& payment_method, const std::string& sku = "FILTER-100") {
    grpc::ClientContext ctx;
    PrepareCall(ctx, customer_);
    shop::v1::PlaceOrderResponse response;
    return ecp_->PlaceOrder(&ctx, MakeOrder({{sku, 1}}, payment_method), &response);
  }
  grpc::health::v1::HealthCheckResponse::ServingStatus GatewayHealth() {
    auto health = grpc::health::v1::Health::NewStub(mesh_.Channel("pg-adapter"));
    grpc::ClientContext ctx;
    PrepareCall(ctx, "", "", 5);
    grpc::health::v1::HealthCheckRequest request;
    request.set_service("shop.v1.PaymentGatewayService");
    grpc::health::v1::HealthCheckResponse response;
    health->Check(&ctx, request, &response);
    return response.status();
  }

  Mesh& mesh_ = SharedMesh();
  std::string customer_;
  std::unique_ptr<shop::v1::CustomerService::Stub> ecp_;
};

// Stripe's published test cards, each declined with its own typed reason.
TEST_F(PaymentAdapterTest, EveryDeclineReasonIsTypedAndReleasesStock) {
  const std::vector<std::pair<std::string, std::string>> cards = {
      {"4000000000009995", "INSUFFICIENT_FUNDS"}, {"4000000000000002", "CARD_DECLINED"},
      {"4000000000000069", "EXPIRED_CARD"},       {"4000000000000127", "INCORRECT_CVC"},
      {"4000000000000119", "PROCESSING_ERROR"},
  };
  const auto before = Stock(mesh_, "FILTER-100");
  for (const auto& [card, reason] : cards) {
    grpc::Status status = Place(Tokenize(mesh_, card));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << card;
    EXPECT_EQ(ReasonOf(status), reason) << card;
    EXPECT_EQ(QueryOps(mesh_, "SELECT status FROM orders WHERE order_id = $1", OrderIdOf(status)),
              "PAYMENT_FAILED");
  }
  EXPECT_EQ(Stock(mesh_, "FILTER-100").available(), before.available());
}

// The gateway goes down: the circuit opens (calls fail fast, health says so)
// and closes again once a probe gets through after the cool-down.
TEST_F(PaymentAdapterTest, CircuitOpensWhileTheGatewayIsDownAndClosesAfterIt) {
  EXPECT_EQ(GatewayHealth(), grpc::health::v1::HealthCheckResponse::SERVING);
  mesh_.Stop("fakepay", SIGTERM);
  grpc::Status status;
  for (int i = 0; i < 5; ++i) {
    status = Place("pm_card_visa");
    ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    if (status.error_message().find("circuit open") != std::string::npos) break;
  }
  EXPECT_NE(status.error_message().find("circuit open"), std::string::npos);
  EXPECT_EQ(GatewayHealth(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);

  ASSERT_TRUE(mesh_.StartAgain("fakepay")) << mesh_.error();
  // After the cool-down (2 s in tests) the next order is the probe.
  EXPECT_TRUE(WaitFor([&] { return Place("pm_card_visa").ok(); }, std::chrono::seconds(20)));
  EXPECT_EQ(GatewayHealth(), grpc::health::v1::HealthCheckResponse::SERVING);
}

// The gateway's webhooks: signed, deduplicated, forwarded to ops; forged
// and replayed deliveries refused.
TEST_F(PaymentAdapterTest, WebhooksAreVerifiedDeduplicatedAndForwarded) {
  grpc::ClientContext ctx;
  PrepareCall(ctx, customer_);
  shop::v1::PlaceOrderResponse placed;
  ASSERT_TRUE(
      ecp_->PlaceOrder(&ctx, MakeOrder({{"MUG-CLASSIC", 1}}, "pm_card_visa"), &placed).ok());
  const std::string order_id = placed.order().order_id();
  const std::string event_id = NewId("evt");
  const std::string body =
      absl::StrCat(R"({"id":")", event_id, R"(","type":"charge.dispute.created","data":{"object":)",
                   R"({"object":"dispute","payment_intent":"pi_x","reason":"fraudulent",)",
                   R"("metadata":{"order_id":")", order_id, R"("}}}})");
  auto deliver = [&](int64_t timestamp, const std::string& secret, const std::string& payload) {
    auto transport = payments::CurlGatewayClient::Create(
        {absl::StrCat("https://127.0.0.1:", mesh_.webhook_port()), mesh_.pki() + "/ca.crt",
         "unused"});
    payments::GatewayRequest request;
    request.path = "/webhooks/gateway";
    request.json_body = payload;
    request.extra_headers = {absl::StrCat("Stripe-Signature: t=", timestamp, ",v1=",
                                          payments::WebhookSignature(secret, timestamp, payload))};
    return (*transport)->Send(request, absl::Seconds(10)).http_status;
  };
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  // Only this test's events (the gateway also reports the capture by itself).
  const std::string count_sql =
      "SELECT count(*) FROM payment_events WHERE order_id = $1 "
      "AND event_type = 'charge.dispute.created'";
  EXPECT_EQ(deliver(now, mesh_.webhook_secret(), body), 200);
  EXPECT_EQ(QueryOps(mesh_, count_sql, order_id), "1");
  EXPECT_EQ(deliver(now, mesh_.webhook_secret(), body), 200);  // a redelivery
  EXPECT_EQ(QueryOps(mesh_, count_sql, order_id), "1");
  EXPECT_EQ(deliver(now, "whsec_forged_secret_000000", body), 400);
  EXPECT_EQ(deliver(now - 3600, mesh_.webhook_secret(), body), 400);  // a replay of an old one
  std::string other = body;
  other.replace(other.find(event_id), event_id.size(), NewId("evt"));
  EXPECT_EQ(deliver(now, mesh_.webhook_secret(), other + " "), 200);  // a new event is applied
  EXPECT_EQ(QueryOps(mesh_, count_sql, order_id), "2");
}

// A flaky gateway (20 % 5xx, 5 % timeouts, 5 % resets, the last two after
// the gateway acted): every order ends consistent and none is charged twice.
TEST_F(PaymentAdapterTest, FlakyGatewayRunEndsConsistentWithoutDoubleCharges) {
  auto transport = GatewayClient(mesh_);
  ASSERT_NE(transport, nullptr);
  auto set_faults = [&](int e500, int timeouts, int resets) {
    payments::GatewayRequest request;
    request.path = "/v1/test/faults";
    request.form = {{"error_500_percent", std::to_string(e500)},
                    {"timeout_percent", std::to_string(timeouts)},
                    {"reset_percent", std::to_string(resets)}};
    return transport->Send(request, absl::Seconds(5)).http_status;
  };
  ASSERT_EQ(set_faults(20, 5, 5), 200);
  const int kOrders = 40;
  std::map<std::string, int> outcomes;
  for (int i = 0; i < kOrders; ++i) {
    const std::string payment = i % 8 == 7 ? "pm_card_chargeDeclined" : "pm_card_visa";
    grpc::Status status = Place(payment, i % 2 ? "FILTER-100" : "MUG-CLASSIC");
    ++outcomes[status.ok() ? "OK" : ReasonOf(status)];
  }
  ASSERT_EQ(set_faults(0, 0, 0), 200);
  ASSERT_TRUE(WaitForSettledSagas(mesh_, std::chrono::seconds(90)));
  InvariantReport report = CheckInvariants(mesh_);
  pqxx::connection connection(mesh_.db_url("payments"));
  pqxx::work w(connection);
  const int retries =
      w.exec1("SELECT count(*) FROM payment_attempts WHERE outcome = 'ERROR'")[0].as<int>();
  std::string figures = absl::StrCat("flaky gateway: ", kOrders, " orders, ", retries,
                                     " failed tries retried; ", report.Summary(), "; outcomes:");
  for (const auto& [outcome, count] : outcomes) absl::StrAppend(&figures, " ", outcome, "=", count);
  std::printf("%s\n", figures.c_str());
  EXPECT_GT(retries, 0);
  EXPECT_GT(outcomes["OK"], kOrders / 2);
  EXPECT_TRUE(report.violations.empty()) << report.Summary();
}

// End to end: a dispute opened at the gateway arrives at ops through the
// stand-in's signed webhook and the adapter's endpoint.
TEST_F(PaymentAdapterTest, ADisputeAtTheGatewayReachesOps) {
  grpc::ClientContext ctx;
  PrepareCall(ctx, customer_);
  shop::v1::PlaceOrderResponse placed;
  ASSERT_TRUE(ecp_->PlaceOrder(&ctx, MakeOrder({{"SCALE-01", 1}}, "pm_card_visa"), &placed).ok());
  const std::string order_id = placed.order().order_id();
  const std::string intent =
      QueryOps(mesh_, "SELECT payment_id FROM orders WHERE order_id = $1", order_id);
  pqxx::connection connection(mesh_.db_url("payments"));
  pqxx::work w(connection);
  const std::string pi =
      w.exec_params1("SELECT gateway_intent_id FROM payments WHERE payment_id = $1", intent)[0]
          .as<std::string>();
  auto transport = GatewayClient(mesh_);
  ASSERT_NE(transport, nullptr);
  payments::GatewayRequest dispute;
  dispute.path = "/v1/test/disputes";
  dispute.form = {{"payment_intent", pi}};
  ASSERT_EQ(transport->Send(dispute, absl::Seconds(5)).http_status, 200);
  EXPECT_TRUE(WaitFor(
      [&] {
        return QueryOps(mesh_,
                        "SELECT count(*) FROM payment_events WHERE order_id = $1 "
                        "AND event_type = 'charge.dispute.created'",
                        order_id) == "1";
      },
      std::chrono::seconds(20)));
  // The capture's own event (payment_intent.succeeded) arrived too.
  EXPECT_TRUE(WaitFor(
      [&] {
        return QueryOps(mesh_,
                        "SELECT count(*) FROM payment_events WHERE order_id = $1 "
                        "AND event_type = 'payment_intent.succeeded'",
                        order_id) == "1";
      },
      std::chrono::seconds(20)));
}

// Card numbers go to the gateway only (tokenization); the mesh stores and
// logs tokens. Scan every log and every database of the mesh for them.
TEST_F(PaymentAdapterTest, NoCardNumberAppearsInAnyLogOrDatabaseOfTheMesh) {
  const std::vector<std::string> cards = {"4242424242424242", "4000000000009995",
                                          "4000000000000002", "4000000000000069"};
  for (const auto& card : cards) (void)Place(Tokenize(mesh_, card));
  // A client that sends a card number where a token belongs is refused.
  grpc::Status raw = Place("4242424242424242");
  EXPECT_EQ(raw.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Place("pm_4000000000000002").error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  std::string haystack;
  for (const char* service : {"ecp", "ops", "ims", "pg-adapter", "logging"}) {
    haystack += ReadFile(mesh_.root() + "/logs/" + service + ".log");
  }
  ASSERT_GT(haystack.size(), 1000u);  // the logs are there
  for (const char* database : {"ops", "ims", "payments", "logging"}) {
    const std::string dump = absl::StrCat(mesh_.root(), "/", database, ".sql");
    ASSERT_TRUE(
        RunCommand(absl::StrCat("/usr/lib/postgresql/15/bin/pg_dump -h 127.0.0.1 -p ",
                                mesh_.postgres_port(), " -U postgres ", database, " > ", dump)));
    haystack += ReadFile(dump);
  }
  // The scan sees real data: the tokens the mesh did store are in it.
  const std::string token = QueryOps(
      mesh_, "SELECT payment_method_token FROM orders WHERE customer_id = $1 LIMIT 1", customer_);
  ASSERT_EQ(token.rfind("pm_", 0), 0u);
  ASSERT_NE(haystack.find(token), std::string::npos);
  for (const auto& card : cards) {
    EXPECT_EQ(haystack.find(card), std::string::npos) << card << " found in the mesh";
    EXPECT_EQ(haystack.find(card.substr(0, 6) + " " + card.substr(6)), std::string::npos);
  }
}

}  // namespace
}  // namespace shop::testing
