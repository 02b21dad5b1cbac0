// The order flow of seed 000 / seed 001 (TC001, TC004, TC005, TC008) across
// real processes, PostgreSQL and the HTTPS payment-gateway stand-in.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "core/grpc/grpc_status.h"
#include "core/ids.h"
#include "core/status.h"
#include "core/trace.h"
#include "google/rpc/error_details.pb.h"
#include "shop/v1/audit.grpc.pb.h"
#include "shop/v1/ecp.grpc.pb.h"
#include "tests/client.h"
#include "tests/harness.h"
#include "tests/invariants.h"

namespace shop::testing {
namespace {

class OrderFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mesh_.ok()) << mesh_.error();
    customer_ = NewId("cust");
    ecp_ = shop::v1::CustomerService::NewStub(mesh_.Channel("ecp"));
  }

  void Prepare(grpc::ClientContext& ctx, const std::string& trace_id = "") {
    PrepareCall(ctx, customer_, trace_id);
  }
  shop::v1::PlaceOrderRequest Order(const std::vector<std::pair<std::string, int>>& items,
                                    const std::string& payment_method) {
    return MakeOrder(items, payment_method);
  }
  shop::v1::StockLevel Stock(const std::string& sku) { return testing::Stock(mesh_, sku); }
  nlohmann::json Ledger(const std::string& order_id) { return FetchLedger(mesh_, order_id); }
  std::string Tokenize(const std::string& number) { return testing::Tokenize(mesh_, number); }
  std::string OrderStatusInDb(const std::string& order_id) {
    return QueryOps(mesh_, "SELECT status FROM orders WHERE order_id = $1", order_id);
  }

  Mesh& mesh_ = SharedMesh();
  std::string customer_;
  std::unique_ptr<shop::v1::CustomerService::Stub> ecp_;
};

// TC001: order created, payment processed, stock reduced after authorization.
TEST_F(OrderFlowTest, SuccessfulOrderIsConfirmedChargedAndStockCommitted) {
  const auto mugs_before = Stock("MUG-CLASSIC");
  const auto beans_before = Stock("BEANS-1KG");
  const std::string trace_id = NewTraceId();
  grpc::ClientContext ctx;
  Prepare(ctx, trace_id);
  shop::v1::PlaceOrderResponse response;
  grpc::Status status = ecp_->PlaceOrder(
      &ctx, Order({{"MUG-CLASSIC", 2}, {"BEANS-1KG", 1}}, Tokenize("4242424242424242")), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const shop::v1::Order& order = response.order();
  EXPECT_EQ(order.status(), shop::v1::ORDER_STATUS_CONFIRMED);
  EXPECT_EQ(order.payment_status(), shop::v1::PAYMENT_STATUS_CAPTURED);
  EXPECT_EQ(order.customer_id(), customer_);
  // 2 × 12.00 + 24.50 = 48.50; tax 8% = 3.88; shipping 5.99 (under 50.00).
  EXPECT_EQ(order.totals().subtotal().units(), 48);
  EXPECT_EQ(order.totals().subtotal().nanos(), 500'000'000);
  EXPECT_EQ(order.totals().tax().units(), 3);
  EXPECT_EQ(order.totals().tax().nanos(), 880'000'000);
  EXPECT_EQ(order.totals().shipping().nanos(), 990'000'000);
  EXPECT_EQ(order.totals().grand_total().units(), 58);
  EXPECT_EQ(order.totals().grand_total().nanos(), 370'000'000);

  const auto mugs_after = Stock("MUG-CLASSIC");
  EXPECT_EQ(mugs_after.available(), mugs_before.available() - 2);
  EXPECT_EQ(mugs_after.sold(), mugs_before.sold() + 2);
  EXPECT_EQ(mugs_after.reserved(), mugs_before.reserved());
  EXPECT_EQ(Stock("BEANS-1KG").sold(), beans_before.sold() + 1);

  nlohmann::json ledger = Ledger(order.order_id());
  EXPECT_EQ(ledger["totals"]["authorized"], 5837);
  EXPECT_EQ(ledger["totals"]["captured"], 5837);
  EXPECT_EQ(ledger["totals"]["refunded"], 0);
  EXPECT_EQ(OrderStatusInDb(order.order_id()), "CONFIRMED");

  // Every service that served a call reported it to the audit log, under
  // the caller's trace.
  auto audit = shop::v1::AuditLogService::NewStub(mesh_.Channel("logging", "sre"));
  std::set<std::string> services;
  ASSERT_TRUE(WaitFor(
      [&] {
        grpc::ClientContext qctx;
        qctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        shop::v1::QueryRequest query;
        query.mutable_filter()->set_trace_id(trace_id);
        shop::v1::QueryResponse records;
        if (!audit->Query(&qctx, query, &records).ok()) return false;
        services.clear();
        for (const auto& r : records.records()) services.insert(r.event().service());
        return services.size() >= 4;
      },
      std::chrono::seconds(15)))
      << "services seen: " << services.size();
  EXPECT_EQ(services, (std::set<std::string>{"ecp", "ops", "ims", "pg-adapter"}));
}

// TC005: not enough stock: FAILED_PRECONDITION naming the SKU with requested
// and available quantities; nothing charged, stock unchanged.
TEST_F(OrderFlowTest, OutOfStockNamesTheShortageAndChargesNothing) {
  const auto before = Stock("GRINDER-HAND");
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::PlaceOrderResponse response;
  grpc::Status status = ecp_->PlaceOrder(
      &ctx, Order({{"GRINDER-HAND", before.available() + 5}, {"MUG-CLASSIC", 1}}, "pm_card_visa"),
      &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  absl::Status error = FromGrpcStatus(status);
  EXPECT_EQ(ErrorReason(error), "OUT_OF_STOCK");
  shop::v1::StockShortage shortage;
  ASSERT_TRUE(GetDetail(error, shortage));
  ASSERT_EQ(shortage.items_size(), 1);
  EXPECT_EQ(shortage.items(0).sku(), "GRINDER-HAND");
  EXPECT_EQ(shortage.items(0).requested_quantity(), before.available() + 5);
  EXPECT_EQ(shortage.items(0).available_quantity(), before.available());

  google::rpc::ErrorInfo info;
  ASSERT_TRUE(GetDetail(error, info));
  const std::string order_id = info.metadata().at("order_id");
  EXPECT_EQ(OrderStatusInDb(order_id), "FAILED");
  const auto after = Stock("GRINDER-HAND");
  EXPECT_EQ(after.available(), before.available());
  EXPECT_EQ(after.reserved(), before.reserved());
  EXPECT_EQ(Ledger(order_id)["entries"].size(), 0u);

  // The failed call is in the audit log under its order, though it failed.
  auto audit = shop::v1::AuditLogService::NewStub(mesh_.Channel("logging", "sre"));
  EXPECT_TRUE(WaitFor(
      [&] {
        grpc::ClientContext qctx;
        qctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        shop::v1::QueryRequest query;
        query.mutable_filter()->set_order_id(order_id);
        shop::v1::QueryResponse records;
        if (!audit->Query(&qctx, query, &records).ok()) return false;
        for (const auto& r : records.records()) {
          if (r.event().name() == "shop.v1.CustomerService/PlaceOrder" &&
              r.event().status_code() == grpc::StatusCode::FAILED_PRECONDITION) {
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(15)));
}

// TC004: a declined card: PAYMENT_FAILED, the reservation released.
TEST_F(OrderFlowTest, DeclinedCardReleasesTheReservation) {
  const auto before = Stock("KETTLE-GOOSE");
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::PlaceOrderResponse response;
  grpc::Status status =
      ecp_->PlaceOrder(&ctx, Order({{"KETTLE-GOOSE", 1}}, Tokenize("4000000000009995")), &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  absl::Status error = FromGrpcStatus(status);
  EXPECT_EQ(ErrorReason(error), "INSUFFICIENT_FUNDS");
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(GetDetail(error, info));
  const std::string order_id = info.metadata().at("order_id");
  EXPECT_EQ(OrderStatusInDb(order_id), "PAYMENT_FAILED");
  const auto after = Stock("KETTLE-GOOSE");
  EXPECT_EQ(after.available(), before.available());
  EXPECT_EQ(after.reserved(), before.reserved());
  EXPECT_EQ(after.sold(), before.sold());
  nlohmann::json ledger = Ledger(order_id);
  EXPECT_EQ(ledger["totals"]["captured"], 0);
  EXPECT_EQ(ledger["totals"]["authorized"], 0);

  // The generic decline card maps to CARD_DECLINED.
  grpc::ClientContext ctx2;
  Prepare(ctx2);
  status = ecp_->PlaceOrder(&ctx2, Order({{"KETTLE-GOOSE", 1}}, Tokenize("4000000000000002")),
                            &response);
  EXPECT_EQ(ErrorReason(FromGrpcStatus(status)), "CARD_DECLINED");
}

// TC008: the customer sees their orders, newest first; nobody else does.
TEST_F(OrderFlowTest, CustomersSeeOnlyTheirOwnOrdersNewestFirst) {
  std::vector<std::string> placed;
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    Prepare(ctx);
    shop::v1::PlaceOrderResponse response;
    ASSERT_TRUE(ecp_->PlaceOrder(&ctx, Order({{"FILTER-100", 1}}, "pm_card_visa"), &response).ok());
    placed.push_back(response.order().order_id());
  }
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::ListOrdersRequest list;
  list.set_page_size(2);
  shop::v1::ListOrdersResponse page;
  ASSERT_TRUE(ecp_->ListOrders(&ctx, list, &page).ok());
  ASSERT_EQ(page.orders_size(), 2);
  EXPECT_EQ(page.orders(0).order_id(), placed[2]);
  EXPECT_EQ(page.orders(1).order_id(), placed[1]);
  ASSERT_FALSE(page.next_page_token().empty());
  grpc::ClientContext ctx2;
  Prepare(ctx2);
  list.set_page_token(page.next_page_token());
  ASSERT_TRUE(ecp_->ListOrders(&ctx2, list, &page).ok());
  ASSERT_EQ(page.orders_size(), 1);
  EXPECT_EQ(page.orders(0).order_id(), placed[0]);
  EXPECT_TRUE(page.next_page_token().empty());

  grpc::ClientContext get_ctx;
  Prepare(get_ctx);
  shop::v1::GetOrderRequest get;
  get.set_order_id(placed[0]);
  shop::v1::GetOrderResponse got;
  ASSERT_TRUE(ecp_->GetOrder(&get_ctx, get, &got).ok());
  EXPECT_EQ(got.order().lines(0).sku(), "FILTER-100");
  EXPECT_EQ(got.order().shipping_address().city(), "New York");

  customer_ = NewId("cust");  // somebody else
  grpc::ClientContext other;
  Prepare(other);
  EXPECT_EQ(ecp_->GetOrder(&other, get, &got).error_code(), grpc::StatusCode::NOT_FOUND);
}

// Bad input: INVALID_ARGUMENT with one field violation per problem, and no
// order row anywhere.
TEST_F(OrderFlowTest, BadOrderIsRejectedWithFieldViolationsAndStoresNothing) {
  shop::v1::PlaceOrderRequest request =
      Order({{"MUG-CLASSIC", 0}, {"bad sku", 1}}, "4242424242424242");
  request.mutable_shipping_address()->set_country_code("USA");
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::PlaceOrderResponse response;
  grpc::Status status = ecp_->PlaceOrder(&ctx, request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(FromGrpcStatus(status), bad_request));
  std::vector<std::string> fields;
  for (const auto& v : bad_request.field_violations()) fields.push_back(v.field());
  EXPECT_EQ(fields,
            (std::vector<std::string>{"lines[0].quantity", "lines[1].sku",
                                      "shipping_address.country_code", "payment_method_token"}));
  pqxx::connection connection(mesh_.db_url("ops"));
  pqxx::work w(connection);
  EXPECT_EQ(
      w.exec_params1("SELECT count(*) FROM orders WHERE customer_id = $1", customer_)[0].as<int>(),
      0);
}

TEST_F(OrderFlowTest, UnknownSkuIsInvalidArgumentAndStoresNothing) {
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::PlaceOrderResponse response;
  grpc::Status status =
      ecp_->PlaceOrder(&ctx, Order({{"NO-SUCH-SKU", 1}}, "pm_card_visa"), &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(FromGrpcStatus(status), bad_request));
  EXPECT_EQ(bad_request.field_violations(0).description(), "unknown SKU NO-SUCH-SKU");
  EXPECT_EQ(QueryOps(mesh_, "SELECT count(*) FROM orders WHERE customer_id = $1", customer_), "0");
}

// Invalid UTF-8 reaches validation (protos/lenient_utf8.h), which names the field.
TEST_F(OrderFlowTest, InvalidUtf8IsInvalidArgumentNamingTheField) {
  shop::v1::PlaceOrderRequest request = Order({{"MUG-CLASSIC", 1}}, "pm_card_visa");
  request.mutable_shipping_address()->set_city(std::string("New \xff\xfe York"));
  request.mutable_shipping_address()->set_name(std::string("\xc0\xaf", 2));  // overlong
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::PlaceOrderResponse response;
  grpc::Status status = ecp_->PlaceOrder(&ctx, request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(FromGrpcStatus(status), bad_request));
  std::vector<std::string> fields;
  for (const auto& v : bad_request.field_violations()) fields.push_back(v.field());
  EXPECT_EQ(fields, (std::vector<std::string>{"shipping_address.name", "shipping_address.city"}));
  EXPECT_EQ(QueryOps(mesh_, "SELECT count(*) FROM orders WHERE customer_id = $1", customer_), "0");

  // Cancelling with a reason that is not UTF-8: also named, nothing changes.
  grpc::ClientContext cancel_ctx;
  Prepare(cancel_ctx);
  shop::v1::CancelOrderRequest cancel;
  cancel.set_order_id("ord_x");
  cancel.set_reason(std::string("\xff", 1));
  shop::v1::CancelOrderResponse cancelled;
  grpc::Status refused = ecp_->CancelOrder(&cancel_ctx, cancel, &cancelled);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(OrderFlowTest, CallsWithoutAnEndUserAreUnauthenticated) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  shop::v1::PlaceOrderResponse response;
  grpc::Status status =
      ecp_->PlaceOrder(&ctx, Order({{"MUG-CLASSIC", 1}}, "pm_card_visa"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace shop::testing
