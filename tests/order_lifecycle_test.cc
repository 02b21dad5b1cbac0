// Seed 001 TC002, TC003, TC006, TC007, TC009, TC010 and the order lifecycle
// of seeds 002/003; exactly-once placement, no overselling, reservation
// expiry and crash recovery. Real processes, PostgreSQL and gateway stand-in.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "core/ids.h"
#include "shop/ops/v1/ops.grpc.pb.h"
#include "shop/v1/audit.grpc.pb.h"
#include "shop/v1/ecp.grpc.pb.h"
#include "shop/v1/ims.grpc.pb.h"
#include "tests/client.h"
#include "tests/harness.h"
#include "tests/invariants.h"

namespace shop::testing {
namespace {

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mesh_.ok()) << mesh_.error();
    customer_ = NewId("cust");
    ecp_ = shop::v1::CustomerService::NewStub(mesh_.Channel("ecp"));
    staff_ = shop::ops::v1::OrderProcessingService::NewStub(mesh_.Channel("ops", "staff"));
  }

  grpc::Status Place(const shop::v1::PlaceOrderRequest& request, shop::v1::Order* order,
                     const std::string& customer = "") {
    grpc::ClientContext ctx;
    PrepareCall(ctx, customer.empty() ? customer_ : customer);
    shop::v1::PlaceOrderResponse response;
    grpc::Status status = ecp_->PlaceOrder(&ctx, request, &response);
    if (order != nullptr) *order = response.order();
    return status;
  }

  shop::v1::Order PlaceConfirmed(const std::vector<std::pair<std::string, int>>& items) {
    shop::v1::Order order;
    grpc::Status status = Place(MakeOrder(items, "pm_card_visa"), &order);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(order.status(), shop::v1::ORDER_STATUS_CONFIRMED);
    return order;
  }

  grpc::Status Cancel(const std::string& order_id, shop::v1::Order* order) {
    grpc::ClientContext ctx;
    PrepareCall(ctx, customer_);
    shop::v1::CancelOrderRequest request;
    request.set_order_id(order_id);
    request.set_reason("changed my mind");
    shop::v1::CancelOrderResponse response;
    grpc::Status status = ecp_->CancelOrder(&ctx, request, &response);
    *order = response.order();
    return status;
  }

  shop::v1::Order Get(const std::string& order_id) {
    grpc::ClientContext ctx;
    PrepareCall(ctx, customer_);
    shop::v1::GetOrderRequest request;
    request.set_order_id(order_id);
    shop::v1::GetOrderResponse response;
    EXPECT_TRUE(ecp_->GetOrder(&ctx, request, &response).ok());
    return response.order();
  }

  std::string NewSku(int units) { return CreateSku(mesh_, units); }

  Mesh& mesh_ = SharedMesh();
  std::string customer_;
  std::unique_ptr<shop::v1::CustomerService::Stub> ecp_;
  std::unique_ptr<shop::ops::v1::OrderProcessingService::Stub> staff_;
};

// TC002: the payment is recorded, with each attempt at the gateway, and only
// a token is stored.
TEST_F(LifecycleTest, PaymentIsRecordedWithItsGatewayAttempts) {
  shop::v1::Order order;
  ASSERT_TRUE(
      Place(MakeOrder({{"SCALE-01", 1}}, Tokenize(mesh_, "4242424242424242")), &order).ok());
  pqxx::connection connection(mesh_.db_url("payments"));
  pqxx::work w(connection);
  pqxx::row payment = w.exec_params1(
      "SELECT status, amount_minor, captured_minor, payment_method_token FROM payments "
      "WHERE payment_id = $1",
      order.payment_id());
  EXPECT_EQ(payment[0].as<std::string>(), "CAPTURED");
  EXPECT_EQ(payment[1].as<int64_t>(), 3834);  // 29.95 + 8% tax 2.40 + 5.99 shipping
  EXPECT_EQ(payment[2].as<int64_t>(), 3834);
  EXPECT_EQ(payment[3].as<std::string>().rfind("pm_", 0), 0u);
  std::vector<std::string> attempts;
  for (const auto& row : w.exec_params(
           "SELECT operation || ':' || outcome FROM payment_attempts WHERE payment_id = $1 "
           "ORDER BY attempt_id",
           order.payment_id())) {
    attempts.push_back(row[0].as<std::string>());
  }
  EXPECT_EQ(attempts, (std::vector<std::string>{"AUTHORIZE:SUCCEEDED", "CAPTURE:SUCCEEDED"}));
}

// TC003: the order record carries priced lines, totals, addresses, history
// and a saga journal of every step.
TEST_F(LifecycleTest, OrderRecordCarriesLinesTotalsHistoryAndJournal) {
  shop::v1::Order placed = PlaceConfirmed({{"MUG-CLASSIC", 3}});
  shop::v1::Order order = Get(placed.order_id());
  ASSERT_EQ(order.lines_size(), 1);
  EXPECT_EQ(order.lines(0).name(), "Classic mug");
  EXPECT_EQ(order.lines(0).unit_price().units(), 12);
  EXPECT_EQ(order.lines(0).line_total().units(), 36);
  EXPECT_EQ(order.totals().grand_total().units(), 44);  // 36 + 2.88 + 5.99 = 44.87
  EXPECT_EQ(order.totals().grand_total().nanos(), 870'000'000);
  EXPECT_EQ(order.billing_address().city(), "New York");  // defaults to shipping
  ASSERT_EQ(order.status_history_size(), 2);
  EXPECT_EQ(order.status_history(0).status(), shop::v1::ORDER_STATUS_PENDING);
  EXPECT_EQ(order.status_history(1).status(), shop::v1::ORDER_STATUS_CONFIRMED);
  EXPECT_EQ(order.status_history(1).actor(), "spiffe://shop.local/ns/shop/sa/ecp");
  pqxx::connection connection(mesh_.db_url("ops"));
  pqxx::work w(connection);
  std::vector<std::string> steps;
  for (const auto& row :
       w.exec_params("SELECT step || ':' || state FROM saga_steps WHERE order_id = $1 ORDER BY seq",
                     placed.order_id())) {
    steps.push_back(row[0].as<std::string>());
  }
  EXPECT_EQ(steps,
            (std::vector<std::string>{"reserve:STARTED", "reserve:DONE", "authorize:STARTED",
                                      "authorize:DONE", "commit_stock:STARTED", "commit_stock:DONE",
                                      "capture:STARTED", "capture:DONE"}));
}

// TC006: an unknown payment method is INVALID_ARGUMENT; the stock goes back.
TEST_F(LifecycleTest, UnknownPaymentMethodIsInvalidArgumentAndReleasesStock) {
  const auto before = Stock(mesh_, "FILTER-100");
  shop::v1::Order order;
  grpc::Status status = Place(MakeOrder({{"FILTER-100", 2}}, "pm_does_not_exist"), &order);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReasonOf(status), "INVALID_PAYMENT_METHOD");
  EXPECT_EQ(QueryOps(mesh_, "SELECT status FROM orders WHERE order_id = $1", OrderIdOf(status)),
            "PAYMENT_FAILED");
  EXPECT_EQ(Stock(mesh_, "FILTER-100").available(), before.available());
}

// TC007: the confirmation e-mail is queued with the confirmation itself.
TEST_F(LifecycleTest, ConfirmationIsQueuedAsANotification) {
  shop::v1::Order order = PlaceConfirmed({{"FILTER-100", 1}});
  EXPECT_EQ(
      QueryOps(mesh_, "SELECT kind FROM notification_outbox WHERE order_id = $1", order.order_id()),
      "ORDER_CONFIRMATION");
}

// TC009: cancelling refunds, restocks, records the refund id; twice is the same.
TEST_F(LifecycleTest, CancelRefundsRestocksAndIsIdempotent) {
  const auto before = Stock(mesh_, "KETTLE-GOOSE");
  shop::v1::Order order = PlaceConfirmed({{"KETTLE-GOOSE", 2}});
  EXPECT_EQ(Stock(mesh_, "KETTLE-GOOSE").sold(), before.sold() + 2);
  shop::v1::Order cancelled;
  grpc::Status status = Cancel(order.order_id(), &cancelled);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(cancelled.status(), shop::v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(cancelled.payment_status(), shop::v1::PAYMENT_STATUS_REFUNDED);
  EXPECT_FALSE(cancelled.refund_id().empty());
  EXPECT_EQ(cancelled.status_history().rbegin()->note(), "cancelled: changed my mind");
  const auto after = Stock(mesh_, "KETTLE-GOOSE");
  EXPECT_EQ(after.sold(), before.sold());
  EXPECT_EQ(after.available(), before.available());
  nlohmann::json ledger = FetchLedger(mesh_, order.order_id());
  EXPECT_EQ(ledger["totals"]["captured"], ledger["totals"]["refunded"]);
  EXPECT_GT(ledger["totals"]["refunded"].get<int64_t>(), 0);

  shop::v1::Order again;
  ASSERT_TRUE(Cancel(order.order_id(), &again).ok());
  EXPECT_EQ(again.refund_id(), cancelled.refund_id());
  EXPECT_EQ(FetchLedger(mesh_, order.order_id())["totals"]["refunded"],
            ledger["totals"]["refunded"]);
  EXPECT_EQ(QueryOps(mesh_,
                     "SELECT kind FROM notification_outbox WHERE order_id = $1 "
                     "ORDER BY notification_id DESC LIMIT 1",
                     order.order_id()),
            "ORDER_CANCELLATION");
}

// TC010: the gateway is down: UNAVAILABLE, nothing charged, stock released.
TEST_F(LifecycleTest, GatewayDownIsUnavailableChargesNothingAndReleasesStock) {
  const auto before = Stock(mesh_, "BEANS-1KG");
  mesh_.Stop("fakepay", SIGTERM);
  shop::v1::Order order;
  grpc::Status status = Place(MakeOrder({{"BEANS-1KG", 1}}, "pm_card_visa"), &order);
  ASSERT_TRUE(mesh_.StartAgain("fakepay")) << mesh_.error();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(ReasonOf(status), "PAYMENT_GATEWAY_UNAVAILABLE");
  EXPECT_NE(status.error_message().find("payment service unavailable"), std::string::npos);
  const std::string order_id = OrderIdOf(status);
  EXPECT_EQ(QueryOps(mesh_, "SELECT status FROM orders WHERE order_id = $1", order_id),
            "PAYMENT_FAILED");
  const auto after = Stock(mesh_, "BEANS-1KG");
  EXPECT_EQ(after.available(), before.available());
  EXPECT_EQ(after.reserved(), before.reserved());
  nlohmann::json ledger = FetchLedger(mesh_, order_id);
  EXPECT_EQ(ledger["totals"]["captured"], 0);
  EXPECT_EQ(ledger["totals"]["authorized"], ledger["totals"]["voided"]);
}

// Seeds 002/003: staff move an order through fulfilment; every transition
// is guarded and recorded; customers cannot do it.
TEST_F(LifecycleTest, StaffMoveOrdersThroughFulfilmentAndIllegalStepsAreRefused) {
  shop::v1::Order order = PlaceConfirmed({{"MUG-CLASSIC", 1}});
  auto call = [&](auto method, auto request, auto* response) {
    grpc::ClientContext ctx;
    PrepareCall(ctx, "");
    return ((*staff_).*method)(&ctx, request, response);
  };
  shop::ops::v1::ShipOrderRequest ship;
  ship.set_order_id(order.order_id());
  ship.set_carrier("UPS");
  ship.set_tracking_number("1Z999AA10123456784");
  shop::ops::v1::ShipOrderResponse shipped;
  grpc::Status early =
      call(&shop::ops::v1::OrderProcessingService::Stub::ShipOrder, ship, &shipped);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(early.error_message(),
            "order " + order.order_id() + " is CONFIRMED; it cannot become SHIPPED");

  shop::ops::v1::StartProcessingRequest processing;
  processing.set_order_id(order.order_id());
  shop::ops::v1::StartProcessingResponse processed;
  ASSERT_TRUE(
      call(&shop::ops::v1::OrderProcessingService::Stub::StartProcessing, processing, &processed)
          .ok());
  ASSERT_TRUE(call(&shop::ops::v1::OrderProcessingService::Stub::ShipOrder, ship, &shipped).ok());
  EXPECT_EQ(shipped.order().tracking().carrier(), "UPS");
  EXPECT_TRUE(shipped.order().tracking().has_ship_time());

  shop::v1::Order refused;
  grpc::Status cancel = Cancel(order.order_id(), &refused);
  EXPECT_EQ(cancel.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(cancel), "ILLEGAL_TRANSITION");

  shop::ops::v1::DeliverOrderRequest deliver;
  deliver.set_order_id(order.order_id());
  shop::ops::v1::DeliverOrderResponse delivered;
  ASSERT_TRUE(
      call(&shop::ops::v1::OrderProcessingService::Stub::DeliverOrder, deliver, &delivered).ok());
  shop::v1::Order tracked = Get(order.order_id());
  EXPECT_EQ(tracked.status(), shop::v1::ORDER_STATUS_DELIVERED);
  EXPECT_EQ(tracked.tracking().tracking_number(), "1Z999AA10123456784");
  std::vector<shop::v1::OrderStatus> history;
  for (const auto& change : tracked.status_history()) history.push_back(change.status());
  EXPECT_EQ(history, (std::vector<shop::v1::OrderStatus>{
                         shop::v1::ORDER_STATUS_PENDING, shop::v1::ORDER_STATUS_CONFIRMED,
                         shop::v1::ORDER_STATUS_PROCESSING, shop::v1::ORDER_STATUS_SHIPPED,
                         shop::v1::ORDER_STATUS_DELIVERED}));
  EXPECT_EQ(tracked.status_history(4).actor(), "spiffe://shop.local/ns/shop/sa/staff");

  // shopctl (a customer-facing client) may not ship orders.
  auto as_shopctl = shop::ops::v1::OrderProcessingService::NewStub(mesh_.Channel("ops", "shopctl"));
  grpc::ClientContext ctx;
  PrepareCall(ctx, "");
  EXPECT_EQ(as_shopctl->ShipOrder(&ctx, ship, &shipped).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// 20 concurrent PlaceOrder calls with one key: one order, one charge; the
// same key later (also after restarts) answers the same bytes.
TEST_F(LifecycleTest, ConcurrentPlacementsWithOneKeyMakeOneOrderAndOneCharge) {
  const shop::v1::PlaceOrderRequest request = MakeOrder({{"SCALE-01", 1}}, "pm_card_visa");
  std::vector<grpc::Status> statuses(20);
  std::vector<shop::v1::Order> orders(20);
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] { statuses[i] = Place(request, &orders[i]); });
  }
  for (auto& t : threads) t.join();
  std::string order_id, first_bytes;
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    if (statuses[i].ok()) {
      ++ok;
      if (order_id.empty()) {
        order_id = orders[i].order_id();
        first_bytes = orders[i].SerializeAsString();
      }
      EXPECT_EQ(orders[i].order_id(), order_id);
    } else {
      EXPECT_EQ(statuses[i].error_code(), grpc::StatusCode::ABORTED) << statuses[i].error_message();
      EXPECT_EQ(ReasonOf(statuses[i]), "ORDER_IN_PROGRESS");
    }
  }
  ASSERT_GE(ok, 1);
  EXPECT_EQ(QueryOps(mesh_, "SELECT count(*) FROM orders WHERE customer_id = $1", customer_), "1");
  nlohmann::json ledger = FetchLedger(mesh_, order_id);
  int authorizations = 0;
  for (const auto& e : ledger["entries"]) authorizations += e["type"] == "authorization";
  EXPECT_EQ(authorizations, 1);

  shop::v1::Order replay;
  ASSERT_TRUE(Place(request, &replay).ok());
  EXPECT_EQ(replay.SerializeAsString(), first_bytes);
  ASSERT_TRUE(mesh_.Restart("ops", SIGTERM)) << mesh_.error();
  ASSERT_TRUE(mesh_.Restart("ecp", SIGTERM)) << mesh_.error();
  ecp_ = shop::v1::CustomerService::NewStub(mesh_.Channel("ecp"));
  ASSERT_TRUE(Place(request, &replay).ok());
  EXPECT_EQ(replay.SerializeAsString(), first_bytes);
}

TEST_F(LifecycleTest, SameKeyWithAnotherRequestIsRefused) {
  shop::v1::PlaceOrderRequest request = MakeOrder({{"MUG-CLASSIC", 1}}, "pm_card_visa");
  ASSERT_TRUE(Place(request, nullptr).ok());
  request.mutable_lines(0)->set_quantity(2);
  grpc::Status status = Place(request, nullptr);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(status), "IDEMPOTENCY_KEY_REUSED");
  // Keys are per customer: another customer may use the same key.
  EXPECT_TRUE(Place(request, nullptr, NewId("cust")).ok());
}

// 50 concurrent buyers for the last 10 units: exactly 10 sold, never negative.
TEST_F(LifecycleTest, FiftyBuyersForTheLastTenUnits) {
  const std::string sku = NewSku(10);
  std::vector<grpc::Status> statuses(50);
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      statuses[i] = Place(MakeOrder({{sku, 1}}, "pm_card_visa"), nullptr, NewId("buyer"));
    });
  }
  for (auto& t : threads) t.join();
  int sold = 0, out_of_stock = 0;
  for (const auto& s : statuses) {
    if (s.ok())
      ++sold;
    else if (ReasonOf(s) == "OUT_OF_STOCK")
      ++out_of_stock;
    else
      ADD_FAILURE() << s.error_message();
  }
  EXPECT_EQ(sold, 10);
  EXPECT_EQ(out_of_stock, 40);
  const auto stock = Stock(mesh_, sku);
  EXPECT_EQ(stock.available(), 0);
  EXPECT_EQ(stock.reserved(), 0);
  EXPECT_EQ(stock.sold(), 10);
  InvariantReport report = CheckInvariants(mesh_);
  EXPECT_TRUE(report.violations.empty()) << report.Summary();
}

// A reservation that is never committed goes back to stock after its TTL.
TEST_F(LifecycleTest, ReservationsExpireBackToStock) {
  const std::string sku = NewSku(5);
  auto ims = shop::v1::InventoryService::NewStub(mesh_.Channel("ims", "ops"));
  grpc::ClientContext ctx;
  PrepareCall(ctx, "");
  shop::v1::ReserveRequest reserve;
  reserve.set_order_id(NewId("ord"));
  auto* line = reserve.add_lines();
  line->set_sku(sku);
  line->set_quantity(4);
  reserve.set_ttl_seconds(1);
  shop::v1::ReserveResponse reserved;
  ASSERT_TRUE(ims->Reserve(&ctx, reserve, &reserved).ok());
  EXPECT_EQ(Stock(mesh_, sku).available(), 1);
  EXPECT_TRUE(
      WaitFor([&] { return Stock(mesh_, sku).available() == 5; }, std::chrono::seconds(15)));
  EXPECT_EQ(Stock(mesh_, sku).reserved(), 0);
  grpc::ClientContext commit_ctx;
  PrepareCall(commit_ctx, "");
  shop::v1::CommitRequest commit;
  commit.set_reservation_id(reserved.reservation().reservation_id());
  shop::v1::CommitResponse committed;
  EXPECT_EQ(ims->Commit(&commit_ctx, commit, &committed).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // No call released that stock, so IMS says so in the audit log, under the
  // order, inside a span of its own.
  auto audit = shop::v1::AuditLogService::NewStub(mesh_.Channel("logging", "sre"));
  shop::v1::AuditEvent expired;
  bool span_found = false;
  ASSERT_TRUE(WaitFor(
      [&] {
        grpc::ClientContext qctx;
        qctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        shop::v1::QueryRequest query;
        query.mutable_filter()->set_order_id(reserve.order_id());
        shop::v1::QueryResponse records;
        if (!audit->Query(&qctx, query, &records).ok()) return false;
        for (const auto& r : records.records()) {
          if (r.event().name() == "reservation.expired") expired = r.event();
          if (r.event().name() == "reservation.expire") span_found = true;
        }
        return !expired.event_id().empty() && span_found;
      },
      std::chrono::seconds(15)));
  EXPECT_EQ(expired.service(), "ims");
  const std::map<std::string, std::string> attributes(expired.attributes().begin(),
                                                      expired.attributes().end());
  EXPECT_EQ(attributes, (std::map<std::string, std::string>{
                            {"reservation_id", reserved.reservation().reservation_id()},
                            {"lines", "1"},
                            {"units", "4"}}));
  EXPECT_FALSE(expired.trace_id().empty());
}

// OPS is killed while the payment adapter holds its Authorize call; after a
// restart the recovery loop resumes the saga to CONFIRMED with one charge.
TEST_F(LifecycleTest, SagaKilledMidPaymentIsResumedByRecovery) {
  const auto before = Stock(mesh_, "SCALE-01");
  mesh_.process("pg-adapter")->Signal(SIGSTOP);  // Authorize will hang
  grpc::Status placed;
  std::thread client([&] {
    placed = Place(MakeOrder({{"SCALE-01", 2}}, "pm_card_visa"), nullptr);
  });
  std::string order_id;
  ASSERT_TRUE(WaitFor(
      [&] {
        order_id = QueryOps(mesh_,
                            "SELECT o.order_id FROM orders o JOIN saga_steps s USING (order_id) "
                            "WHERE o.customer_id = $1 AND s.step = 'authorize' "
                            "AND s.state = 'STARTED'",
                            customer_);
        return !order_id.empty();
      },
      std::chrono::seconds(30)));
  mesh_.Stop("ops", SIGKILL);
  client.join();
  EXPECT_FALSE(placed.ok());
  mesh_.process("pg-adapter")->Signal(SIGCONT);
  ASSERT_TRUE(mesh_.StartAgain("ops")) << mesh_.error();
  ASSERT_TRUE(WaitFor(
      [&] {
        return QueryOps(mesh_, "SELECT status FROM orders WHERE order_id = $1", order_id) ==
               "CONFIRMED";
      },
      std::chrono::seconds(40)))
      << QueryOps(mesh_, "SELECT status || '/' || saga_state FROM orders WHERE order_id = $1",
                  order_id);
  nlohmann::json ledger = FetchLedger(mesh_, order_id);
  int authorizations = 0;
  for (const auto& e : ledger["entries"]) authorizations += e["type"] == "authorization";
  EXPECT_EQ(authorizations, 1);
  EXPECT_GT(ledger["totals"]["captured"].get<int64_t>(), 0);
  EXPECT_EQ(Stock(mesh_, "SCALE-01").sold(), before.sold() + 2);
  EXPECT_EQ(QueryOps(mesh_,
                     "SELECT actor FROM order_status_history WHERE order_id = $1 "
                     "AND status = 'CONFIRMED'",
                     order_id),
            "ops-recovery");
  InvariantReport report = CheckInvariants(mesh_);
  EXPECT_TRUE(report.violations.empty()) << report.Summary();
}

}  // namespace
}  // namespace shop::testing
