#include "services/ops/order_processor.h"

#include <gtest/gtest.h>

#include <map>

#include "core/audit.h"
#include "core/status.h"
#include "google/rpc/error_details.pb.h"

namespace shop::ops {
namespace {

using shop::v1::Order;

class FakeOrderStore final : public OrderStore {
 public:
  absl::StatusOr<Created> CreatePending(const Order& order, const std::string& key,
                                        const std::string& hash, const std::string&,
                                        const std::string&) override {
    auto it = keys.find(order.customer_id() + "/" + key);
    if (it != keys.end()) {
      return Created{orders[it->second], false, hashes[it->second], failures[it->second]};
    }
    keys[order.customer_id() + "/" + key] = order.order_id();
    orders[order.order_id()] = order;
    hashes[order.order_id()] = hash;
    return Created{order, true, hash, absl::OkStatus()};
  }
  absl::Status Update(const Order& order, const std::string&, const std::string&,
                      const absl::Status& failure) override {
    if (orders[order.order_id()].status() != order.status()) history.push_back(order.status());
    orders[order.order_id()] = order;
    if (!failure.ok()) failures[order.order_id()] = failure;
    return absl::OkStatus();
  }
  absl::Status RecordStep(const std::string&, const std::string& step, const std::string& state,
                          const std::string&) override {
    steps.push_back(step + ":" + state);
    return absl::OkStatus();
  }
  absl::StatusOr<Order> Get(const std::string& order_id) override {
    auto it = orders.find(order_id);
    if (it == orders.end()) return absl::NotFoundError("order " + order_id + " not found");
    return it->second;
  }
  absl::StatusOr<OrderPage> List(const std::string&, int, const std::string&,
                                 shop::v1::OrderStatus) override {
    return OrderPage{};
  }
  absl::Status EnqueueNotification(const std::string& order_id, const std::string& kind) override {
    notifications.push_back(kind + ":" + order_id);
    return absl::OkStatus();
  }
  std::map<std::string, std::string> keys;
  std::map<std::string, Order> orders;
  std::map<std::string, std::string> hashes;
  std::map<std::string, absl::Status> failures;
  std::vector<std::string> steps;
  std::vector<shop::v1::OrderStatus> history;
  std::vector<std::string> notifications;
};

class FakeInventory final : public InventoryClient {
 public:
  absl::StatusOr<shop::v1::Reservation> Reserve(
      const std::string& order_id,
      const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) override {
    calls.push_back("reserve");
    if (!reserve_error.ok()) return reserve_error;
    shop::v1::Reservation reservation;
    reservation.set_reservation_id("res_1");
    reservation.set_order_id(order_id);
    for (const auto& item : lines) {
      auto* line = reservation.add_lines();
      line->set_sku(item.sku());
      line->set_name("Classic mug");
      line->set_quantity(item.quantity());
      line->mutable_unit_price()->set_currency_code("USD");
      line->mutable_unit_price()->set_units(12);
    }
    return reservation;
  }
  absl::StatusOr<shop::v1::Reservation> Commit(const std::string&) override {
    calls.push_back("commit");
    return shop::v1::Reservation{};
  }
  absl::StatusOr<shop::v1::Reservation> Release(const std::string& id,
                                                const std::string& reason) override {
    calls.push_back("release:" + id + ":" + reason);
    return shop::v1::Reservation{};
  }
  absl::Status reserve_error;
  std::vector<std::string> calls;
};

class FakePayments final : public PaymentClient {
 public:
  absl::StatusOr<shop::v1::Payment> Authorize(const std::string& order_id,
                                              const shop::v1::Money& amount, const std::string&,
                                              const std::string& key) override {
    calls.push_back("authorize:" + key);
    authorized_amount = amount;
    if (!authorize_error.ok()) return authorize_error;
    shop::v1::Payment payment;
    payment.set_payment_id("pay_1");
    payment.set_order_id(order_id);
    return payment;
  }
  absl::StatusOr<shop::v1::Payment> Capture(const std::string&, const std::string& key) override {
    calls.push_back("capture:" + key);
    return shop::v1::Payment{};
  }
  absl::StatusOr<shop::v1::Payment> Void(const std::string&, const std::string& key) override {
    calls.push_back("void:" + key);
    return shop::v1::Payment{};
  }
  absl::Status authorize_error;
  shop::v1::Money authorized_amount;
  std::vector<std::string> calls;
};

class RecordingAudit final : public AuditSink {
 public:
  void Emit(shop::v1::AuditEvent event) override { names.push_back(event.name()); }
  std::vector<std::string> names;
};

shop::v1::ProcessOrderRequest GoodRequest() {
  shop::v1::ProcessOrderRequest request;
  request.set_customer_id("cust_1");
  auto* line = request.add_lines();
  line->set_sku("MUG-CLASSIC");
  line->set_quantity(2);
  auto* address = request.mutable_shipping_address();
  address->set_name("Ada Lovelace");
  address->set_line1("123 Main St");
  address->set_city("New York");
  address->set_region("NY");
  address->set_postal_code("10001");
  address->set_country_code("US");
  request.set_payment_method_token("pm_card_visa");
  request.set_idempotency_key("key-1");
  return request;
}

class OrderProcessorTest : public ::testing::Test {
 protected:
  FakeOrderStore store_;
  FakeInventory inventory_;
  FakePayments payments_;
  RecordingAudit audit_;
  OrderProcessor processor_{&store_, &inventory_, &payments_, &audit_, PricingPolicy{}};
};

TEST_F(OrderProcessorTest, HappyPathConfirmsAfterCommitAndCapture) {
  auto order = processor_.ProcessOrder(GoodRequest(), "spiffe://ecp");
  ASSERT_TRUE(order.ok()) << order.status();
  EXPECT_EQ(order->status(), shop::v1::ORDER_STATUS_CONFIRMED);
  EXPECT_EQ(order->payment_status(), shop::v1::PAYMENT_STATUS_CAPTURED);
  EXPECT_EQ(inventory_.calls, (std::vector<std::string>{"reserve", "commit"}));
  const std::string id = order->order_id();
  EXPECT_EQ(payments_.calls,
            (std::vector<std::string>{"authorize:" + id + ":authorize", "capture:" + id + ":capture"}));
  // 2 × 12.00 = 24.00; tax 1.92; shipping 5.99 → 31.91 authorized.
  EXPECT_EQ(payments_.authorized_amount.units(), 31);
  EXPECT_EQ(payments_.authorized_amount.nanos(), 910'000'000);
  EXPECT_EQ(store_.steps, (std::vector<std::string>{
                              "reserve:STARTED", "reserve:DONE", "authorize:STARTED",
                              "authorize:DONE", "commit_stock:STARTED", "commit_stock:DONE",
                              "capture:STARTED", "capture:DONE"}));
  EXPECT_EQ(store_.notifications, std::vector<std::string>{"ORDER_CONFIRMATION:" + id});
  EXPECT_EQ(audit_.names, (std::vector<std::string>{"order.placed", "order.confirmed"}));
}

TEST_F(OrderProcessorTest, OutOfStockFailsWithoutTouchingPayments) {
  absl::Status shortage = ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                          "not enough stock", "OUT_OF_STOCK");
  inventory_.reserve_error = shortage;
  auto order = processor_.ProcessOrder(GoodRequest(), "spiffe://ecp");
  EXPECT_EQ(order.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(order.status()), "OUT_OF_STOCK");
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(GetDetail(order.status(), info));
  ASSERT_EQ(store_.orders.size(), 1u);
  const Order& stored = store_.orders.begin()->second;
  EXPECT_EQ(info.metadata().at("order_id"), stored.order_id());
  EXPECT_EQ(stored.status(), shop::v1::ORDER_STATUS_FAILED);
  EXPECT_EQ(stored.failure_reason(), "OUT_OF_STOCK");
  EXPECT_TRUE(payments_.calls.empty());
}

TEST_F(OrderProcessorTest, DeclineReleasesTheReservation) {
  payments_.authorize_error = ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                              "payment declined", "CARD_DECLINED");
  auto order = processor_.ProcessOrder(GoodRequest(), "spiffe://ecp");
  EXPECT_EQ(ErrorReason(order.status()), "CARD_DECLINED");
  EXPECT_EQ(inventory_.calls, (std::vector<std::string>{"reserve", "release:res_1:CARD_DECLINED"}));
  const Order& stored = store_.orders.begin()->second;
  EXPECT_EQ(stored.status(), shop::v1::ORDER_STATUS_PAYMENT_FAILED);
  EXPECT_EQ(stored.payment_status(), shop::v1::PAYMENT_STATUS_DECLINED);
}

TEST_F(OrderProcessorTest, GatewayDownIsUnavailableAndReleasesStock) {
  payments_.authorize_error = ErrorWithReason(absl::StatusCode::kUnavailable,
                                              "payment service unavailable",
                                              "PAYMENT_GATEWAY_UNAVAILABLE");
  auto order = processor_.ProcessOrder(GoodRequest(), "spiffe://ecp");
  EXPECT_EQ(order.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(inventory_.calls.back(), "release:res_1:PAYMENT_GATEWAY_UNAVAILABLE");
  EXPECT_EQ(store_.orders.begin()->second.payment_status(), shop::v1::PAYMENT_STATUS_FAILED);
}

TEST_F(OrderProcessorTest, SameKeyReplaysWithoutASecondSaga) {
  auto first = processor_.ProcessOrder(GoodRequest(), "spiffe://ecp");
  ASSERT_TRUE(first.ok());
  auto second = processor_.ProcessOrder(GoodRequest(), "spiffe://ecp");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->order_id(), first->order_id());
  EXPECT_EQ(payments_.calls.size(), 2u);  // one authorize, one capture
}

TEST_F(OrderProcessorTest, SameKeyReplaysTheSameFailure) {
  inventory_.reserve_error = ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                             "not enough stock", "OUT_OF_STOCK");
  auto first = processor_.ProcessOrder(GoodRequest(), "spiffe://ecp");
  auto second = processor_.ProcessOrder(GoodRequest(), "spiffe://ecp");
  EXPECT_EQ(second.status(), first.status());
  EXPECT_EQ(inventory_.calls.size(), 1u);
}

TEST_F(OrderProcessorTest, SameKeyOtherRequestIsRefused) {
  ASSERT_TRUE(processor_.ProcessOrder(GoodRequest(), "spiffe://ecp").ok());
  shop::v1::ProcessOrderRequest other = GoodRequest();
  other.mutable_lines(0)->set_quantity(3);
  auto second = processor_.ProcessOrder(other, "spiffe://ecp");
  EXPECT_EQ(ErrorReason(second.status()), "IDEMPOTENCY_KEY_REUSED");
}

TEST_F(OrderProcessorTest, BadRequestStoresNothing) {
  shop::v1::ProcessOrderRequest request = GoodRequest();
  request.clear_lines();
  request.set_payment_method_token("4242424242424242");
  request.mutable_shipping_address()->clear_city();
  auto order = processor_.ProcessOrder(request, "spiffe://ecp");
  EXPECT_EQ(order.status().code(), absl::StatusCode::kInvalidArgument);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(order.status(), bad_request));
  EXPECT_EQ(bad_request.field_violations_size(), 3);
  EXPECT_TRUE(store_.orders.empty());
  EXPECT_TRUE(inventory_.calls.empty());
}

TEST_F(OrderProcessorTest, OtherCustomersOrdersAreNotFound) {
  auto order = processor_.ProcessOrder(GoodRequest(), "spiffe://ecp");
  ASSERT_TRUE(order.ok());
  EXPECT_TRUE(processor_.LookupOrder(order->order_id(), "cust_1").ok());
  auto other = processor_.LookupOrder(order->order_id(), "cust_2");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(other.status().message(), "order " + order->order_id() + " not found");
}

}  // namespace
}  // namespace shop::ops
