#include "services/ops/order_processor.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "core/span.h"
#include "core/status.h"
#include "google/rpc/error_details.pb.h"
#include "services/ops/fake_order_store.h"
#include "services/ops/lifecycle.h"
#include "shop/ops/v1/ops.pb.h"

namespace shop::ops {
namespace {

using shop::v1::OrderStatus;

// IMS with its rules: one reservation per order; commit, release, restock.
class FakeInventory final : public InventoryClient {
 public:
  absl::Status CheckSkusExist(
      const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) override {
    for (const auto& line : lines) {
      if (line.sku() == "NO-SUCH-SKU") {
        FieldViolations violations;
        violations.Add("lines.sku", "unknown SKU NO-SUCH-SKU");
        return violations.ToStatus("unknown SKU");
      }
    }
    return absl::OkStatus();
  }
  absl::StatusOr<shop::v1::Reservation> Reserve(
      const std::string& order_id,
      const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) override {
    calls.push_back("reserve");
    if (!down.ok()) return down;
    if (!reserve_error.ok()) return reserve_error;
    for (auto& [id, r] : reservations) {
      if (r.order_id() == order_id) return r;
    }
    shop::v1::Reservation r;
    r.set_reservation_id("res_" + std::to_string(reservations.size() + 1));
    r.set_order_id(order_id);
    r.set_status(shop::v1::RESERVATION_STATUS_RESERVED);
    for (const auto& item : lines) {
      auto* line = r.add_lines();
      line->set_sku(item.sku());
      line->set_name("Classic mug");
      line->set_quantity(item.quantity());
      line->mutable_unit_price()->set_currency_code("USD");
      line->mutable_unit_price()->set_units(12);
    }
    reservations[r.reservation_id()] = r;
    return r;
  }
  absl::StatusOr<shop::v1::Reservation> Commit(const std::string& id) override {
    calls.push_back("commit");
    if (!down.ok()) return down;
    reservations[id].set_status(shop::v1::RESERVATION_STATUS_COMMITTED);
    return reservations[id];
  }
  absl::StatusOr<shop::v1::Reservation> Release(const std::string& id, const std::string& order_id,
                                                const std::string&) override {
    calls.push_back("release");
    if (!down.ok()) return down;
    if (!release_down.ok()) return release_down;
    std::string key = id;
    for (auto& [rid, r] : reservations) {
      if (id.empty() && r.order_id() == order_id) key = rid;
    }
    if (key.empty()) return absl::NotFoundError("no reservation");
    auto& r = reservations[key];
    if (r.status() == shop::v1::RESERVATION_STATUS_COMMITTED ||
        r.status() == shop::v1::RESERVATION_STATUS_RESTOCKED) {
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "sold",
                             shop::v1::RESERVATION_COMMITTED);
    }
    r.set_status(shop::v1::RESERVATION_STATUS_RELEASED);
    return r;
  }
  absl::StatusOr<shop::v1::Reservation> Restock(const std::string& id,
                                                const std::string&) override {
    calls.push_back("restock");
    if (!down.ok()) return down;
    reservations[id].set_status(shop::v1::RESERVATION_STATUS_RESTOCKED);
    return reservations[id];
  }
  shop::v1::ReservationStatus StatusOf(const std::string& id) { return reservations[id].status(); }
  absl::Status down;
  absl::Status release_down;
  absl::Status reserve_error;
  std::map<std::string, shop::v1::Reservation> reservations;
  std::vector<std::string> calls;
};

// The payment adapter with its rules: keyed authorizations, void, refund.
class FakePayments final : public PaymentClient {
 public:
  absl::StatusOr<shop::v1::Payment> Authorize(const std::string& order_id,
                                              const shop::v1::Money& amount, const std::string&,
                                              const std::string& key) override {
    calls.push_back("authorize");
    authorized_amount = amount;
    if (!down.ok()) return down;
    if (by_key.count(key) == 0) {
      shop::v1::Payment p;
      p.set_payment_id("pay_" + std::to_string(by_key.size() + 1));
      p.set_order_id(order_id);
      p.set_status(authorize_error.ok() ? shop::v1::PAYMENT_STATUS_AUTHORIZED
                                        : shop::v1::PAYMENT_STATUS_DECLINED);
      by_key[key] = p.payment_id();
      payments[p.payment_id()] = p;
    }
    if (!authorize_error.ok()) return authorize_error;
    return payments[by_key[key]];
  }
  absl::StatusOr<shop::v1::Payment> Capture(const std::string& id, const std::string&) override {
    calls.push_back("capture");
    if (!down.ok()) return down;
    if (!capture_error.ok()) return capture_error;
    payments[id].set_status(shop::v1::PAYMENT_STATUS_CAPTURED);
    return payments[id];
  }
  absl::StatusOr<shop::v1::Payment> Void(const std::string& id, const std::string& key,
                                         const std::string&) override {
    calls.push_back("void");
    if (!down.ok()) return down;
    std::string pid = id.empty() && by_key.count(key) ? by_key[key] : id;
    if (pid.empty()) return absl::NotFoundError("no payment");
    auto& p = payments[pid];
    if (p.status() == shop::v1::PAYMENT_STATUS_CAPTURED) {
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "captured",
                             shop::v1::PAYMENT_CAPTURED);
    }
    if (p.status() == shop::v1::PAYMENT_STATUS_AUTHORIZED)
      p.set_status(shop::v1::PAYMENT_STATUS_VOIDED);
    return p;
  }
  absl::StatusOr<shop::v1::RefundResponse> Refund(const std::string& id, const std::string&,
                                                  const std::string&) override {
    calls.push_back("refund");
    if (!down.ok()) return down;
    payments[id].set_status(shop::v1::PAYMENT_STATUS_REFUNDED);
    shop::v1::RefundResponse response;
    *response.mutable_payment() = payments[id];
    response.set_refund_id("rfd_1");
    return response;
  }
  shop::v1::PaymentStatus StatusOf(const std::string& id) { return payments[id].status(); }
  absl::Status down, authorize_error, capture_error;
  std::map<std::string, std::string> by_key;
  std::map<std::string, shop::v1::Payment> payments;
  shop::v1::Money authorized_amount;
  std::vector<std::string> calls;
};

class RecordingAudit final : public AuditSink {
 public:
  void Emit(shop::v1::AuditEvent event) override { names.push_back(event.name()); }
  std::vector<std::string> names;
};

OrderRequest GoodRequest(const std::string& key = "key-1") {
  OrderRequest request;
  request.customer_id = "cust_1";
  auto* line = request.lines.Add();
  line->set_sku("MUG-CLASSIC");
  line->set_quantity(2);
  shop::v1::Address address;
  address.set_name("Ada Lovelace");
  address.set_line1("123 Main St");
  address.set_city("New York");
  address.set_region("NY");
  address.set_postal_code("10001");
  address.set_country_code("US");
  request.shipping_address = address;
  request.payment_method_token = "pm_card_visa";
  request.idempotency_key = key;
  return request;
}

absl::Status Unavailable() { return absl::UnavailableError("connection refused"); }

class OrderProcessorTest : public ::testing::Test {
 protected:
  FakeOrderStore store_;
  FakeInventory inventory_;
  FakePayments payments_;
  RecordingAudit audit_;
  OrderProcessor processor_{&store_, &inventory_, &payments_, &audit_, PricingPolicy{}};
};

TEST_F(OrderProcessorTest, HappyPathConfirmsAfterCommitAndCapture) {
  auto order = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  ASSERT_TRUE(order.ok()) << order.status();
  EXPECT_EQ(order->status(), shop::v1::ORDER_STATUS_CONFIRMED);
  EXPECT_EQ(order->payment_status(), shop::v1::PAYMENT_STATUS_CAPTURED);
  EXPECT_EQ(inventory_.calls, (std::vector<std::string>{"reserve", "commit"}));
  EXPECT_EQ(payments_.calls, (std::vector<std::string>{"authorize", "capture"}));
  // 2 × 12.00 = 24.00; tax 1.92; shipping 5.99 → 31.91 authorized.
  EXPECT_EQ(payments_.authorized_amount.units(), 31);
  EXPECT_EQ(payments_.authorized_amount.nanos(), 910'000'000);
  EXPECT_EQ(store_.steps,
            (std::vector<std::string>{"reserve:STARTED", "reserve:DONE", "authorize:STARTED",
                                      "authorize:DONE", "commit_stock:STARTED", "commit_stock:DONE",
                                      "capture:STARTED", "capture:DONE"}));
  EXPECT_EQ(store_.notifications,
            std::vector<std::string>{"ORDER_CONFIRMATION:" + order->order_id()});
  EXPECT_EQ(audit_.names, (std::vector<std::string>{"order.placed", "order.confirmed"}));
  EXPECT_EQ(store_.Only().saga, SagaState::kDone);
}

TEST_F(OrderProcessorTest, OutOfStockFailsWithoutAuthorizing) {
  inventory_.reserve_error = ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                             "not enough stock", shop::v1::OUT_OF_STOCK);
  auto order = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  EXPECT_EQ(ErrorReason(order.status()), "OUT_OF_STOCK");
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(GetDetail(order.status(), info));
  EXPECT_EQ(info.metadata().at("order_id"), store_.Only().order.order_id());
  EXPECT_EQ(store_.Only().order.status(), shop::v1::ORDER_STATUS_FAILED);
  EXPECT_EQ(store_.Only().order.failure_reason(), "OUT_OF_STOCK");
  EXPECT_EQ(std::count(payments_.calls.begin(), payments_.calls.end(), "authorize"), 0);
}

TEST_F(OrderProcessorTest, DeclineReleasesTheReservation) {
  payments_.authorize_error = ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                              "payment declined", shop::v1::CARD_DECLINED);
  auto order = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  EXPECT_EQ(ErrorReason(order.status()), "CARD_DECLINED");
  EXPECT_EQ(inventory_.StatusOf("res_1"), shop::v1::RESERVATION_STATUS_RELEASED);
  EXPECT_EQ(store_.Only().order.status(), shop::v1::ORDER_STATUS_PAYMENT_FAILED);
  EXPECT_EQ(store_.Only().order.payment_status(), shop::v1::PAYMENT_STATUS_DECLINED);
}

TEST_F(OrderProcessorTest, GatewayDownIsUnavailableAndReleasesStock) {
  payments_.authorize_error =
      ErrorWithReason(absl::StatusCode::kUnavailable, "payment service unavailable",
                      shop::v1::PAYMENT_GATEWAY_UNAVAILABLE);
  auto order = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  EXPECT_EQ(order.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(inventory_.StatusOf("res_1"), shop::v1::RESERVATION_STATUS_RELEASED);
  EXPECT_EQ(store_.Only().order.status(), shop::v1::ORDER_STATUS_PAYMENT_FAILED);
}

TEST_F(OrderProcessorTest, CaptureFailureRestocksAndVoids) {
  payments_.capture_error = ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                            "authorization expired", shop::v1::PROCESSING_ERROR);
  auto order = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  EXPECT_EQ(ErrorReason(order.status()), "PROCESSING_ERROR");
  EXPECT_EQ(inventory_.StatusOf("res_1"), shop::v1::RESERVATION_STATUS_RESTOCKED);
  EXPECT_EQ(payments_.StatusOf("pay_1"), shop::v1::PAYMENT_STATUS_VOIDED);
  EXPECT_EQ(store_.Only().order.status(), shop::v1::ORDER_STATUS_PAYMENT_FAILED);
}

TEST_F(OrderProcessorTest, TransientCaptureFailureIsFinishedForwardByRecovery) {
  payments_.capture_error = absl::UnavailableError("adapter restarting");
  auto order = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  EXPECT_EQ(order.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(ErrorReason(order.status()), "ORDER_IN_PROGRESS");
  EXPECT_EQ(store_.Only().order.status(), shop::v1::ORDER_STATUS_PENDING);
  EXPECT_EQ(store_.Only().saga, SagaState::kRunning);
  EXPECT_EQ(inventory_.StatusOf("res_1"), shop::v1::RESERVATION_STATUS_COMMITTED);
  payments_.capture_error = absl::OkStatus();
  EXPECT_EQ(processor_.RecoverAbandoned(), 1);
  EXPECT_EQ(store_.Only().order.status(), shop::v1::ORDER_STATUS_CONFIRMED);
  EXPECT_EQ(payments_.payments.size(), 1u);
  EXPECT_EQ(payments_.StatusOf("pay_1"), shop::v1::PAYMENT_STATUS_CAPTURED);
}

TEST_F(OrderProcessorTest, FailedCompensationIsFinishedByRecovery) {
  payments_.authorize_error = ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                              "payment declined", shop::v1::CARD_DECLINED);
  inventory_.release_down = Unavailable();  // the stock cannot go back yet
  auto order = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  EXPECT_EQ(ErrorReason(order.status()), "CARD_DECLINED");
  EXPECT_EQ(store_.Only().order.status(), shop::v1::ORDER_STATUS_PENDING);
  EXPECT_EQ(store_.Only().saga, SagaState::kCompensating);
  EXPECT_EQ(inventory_.StatusOf("res_1"), shop::v1::RESERVATION_STATUS_RESERVED);
  // Its owner still holds the lease: recovery keeps off.
  EXPECT_EQ(processor_.RecoverAbandoned(), 0);

  inventory_.release_down = absl::OkStatus();
  store_.ExpireLeases();  // the owner died
  EXPECT_EQ(processor_.RecoverAbandoned(), 1);
  EXPECT_EQ(store_.Only().order.status(), shop::v1::ORDER_STATUS_PAYMENT_FAILED);
  EXPECT_EQ(store_.Only().saga, SagaState::kDone);
  EXPECT_EQ(inventory_.StatusOf("res_1"), shop::v1::RESERVATION_STATUS_RELEASED);
  // A retry of the request now gets the decline it first got.
  EXPECT_EQ(ErrorReason(processor_.PlaceOrder(GoodRequest(), "spiffe://ecp").status()),
            "CARD_DECLINED");
}

TEST_F(OrderProcessorTest, AbandonedSagaIsResumedToConfirmedWithoutDoubleEffects) {
  auto placed = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  ASSERT_TRUE(placed.ok());
  // Put the order back mid-saga, as a crash before commit would leave it.
  auto& row = store_.rows.begin()->second;
  row.record.order.set_status(shop::v1::ORDER_STATUS_PENDING);
  row.record.saga = SagaState::kRunning;
  row.leased = false;
  inventory_.reservations["res_1"].set_status(shop::v1::RESERVATION_STATUS_RESERVED);
  payments_.payments["pay_1"].set_status(shop::v1::PAYMENT_STATUS_AUTHORIZED);
  EXPECT_EQ(processor_.RecoverAbandoned(), 1);
  EXPECT_EQ(store_.Only().order.status(), shop::v1::ORDER_STATUS_CONFIRMED);
  // Same reservation and same payment: one of each, ever.
  EXPECT_EQ(inventory_.reservations.size(), 1u);
  EXPECT_EQ(payments_.payments.size(), 1u);
  EXPECT_EQ(payments_.StatusOf("pay_1"), shop::v1::PAYMENT_STATUS_CAPTURED);
}

TEST_F(OrderProcessorTest, SameKeyReplaysTheFirstAnswer) {
  auto first = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  ASSERT_TRUE(first.ok());
  auto second = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->SerializeAsString(), first->SerializeAsString());
  EXPECT_EQ(payments_.calls.size(), 2u);  // one authorize, one capture
}

TEST_F(OrderProcessorTest, SameKeyReplaysTheSameFailure) {
  inventory_.reserve_error = ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                             "not enough stock", shop::v1::OUT_OF_STOCK);
  auto first = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  auto second = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  EXPECT_EQ(second.status(), first.status());
  EXPECT_EQ(std::count(inventory_.calls.begin(), inventory_.calls.end(), "reserve"), 1);
}

TEST_F(OrderProcessorTest, SameKeyWhileRunningIsAborted) {
  ASSERT_TRUE(processor_.PlaceOrder(GoodRequest(), "spiffe://ecp").ok());
  store_.rows.begin()->second.record.saga = SagaState::kRunning;  // as if still running
  auto again = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(ErrorReason(again.status()), "ORDER_IN_PROGRESS");
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(GetDetail(again.status(), retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 1);
}

TEST_F(OrderProcessorTest, SameKeyOtherRequestIsRefused) {
  ASSERT_TRUE(processor_.PlaceOrder(GoodRequest(), "spiffe://ecp").ok());
  OrderRequest other = GoodRequest();
  other.lines.Mutable(0)->set_quantity(3);
  auto second = processor_.PlaceOrder(other, "spiffe://ecp");
  EXPECT_EQ(ErrorReason(second.status()), "IDEMPOTENCY_KEY_REUSED");
}

TEST_F(OrderProcessorTest, BadRequestStoresNothing) {
  OrderRequest request = GoodRequest();
  request.lines.Clear();
  request.payment_method_token = "4242424242424242";
  request.shipping_address->clear_city();
  auto order = processor_.PlaceOrder(request, "spiffe://ecp");
  EXPECT_EQ(order.status().code(), absl::StatusCode::kInvalidArgument);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(order.status(), bad_request));
  EXPECT_EQ(bad_request.field_violations_size(), 3);
  EXPECT_TRUE(store_.rows.empty());
  EXPECT_TRUE(inventory_.calls.empty());
}

TEST_F(OrderProcessorTest, UnknownSkuIsRefusedBeforeAnythingIsStored) {
  OrderRequest request = GoodRequest();
  request.lines.Mutable(0)->set_sku("NO-SUCH-SKU");
  auto order = processor_.PlaceOrder(request, "spiffe://ecp");
  EXPECT_EQ(order.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_.rows.empty());
  EXPECT_TRUE(inventory_.calls.empty());
}

TEST_F(OrderProcessorTest, CancelRefundsRestocksAndIsIdempotent) {
  auto order = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  ASSERT_TRUE(order.ok());
  auto cancelled = processor_.CancelOrder(order->order_id(), "cust_1", "changed my mind", "c");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->status(), shop::v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(cancelled->refund_id(), "rfd_1");
  EXPECT_EQ(cancelled->payment_status(), shop::v1::PAYMENT_STATUS_REFUNDED);
  EXPECT_EQ(inventory_.StatusOf("res_1"), shop::v1::RESERVATION_STATUS_RESTOCKED);
  auto again = processor_.CancelOrder(order->order_id(), "cust_1", "", "c");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->refund_id(), "rfd_1");
  EXPECT_EQ(std::count(payments_.calls.begin(), payments_.calls.end(), "refund"), 1);
  EXPECT_EQ(processor_.CancelOrder(order->order_id(), "cust_2", "", "c").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(OrderProcessorTest, InterruptedCancellationIsFinishedByRecovery) {
  auto order = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  ASSERT_TRUE(order.ok());
  payments_.down = Unavailable();  // the refund cannot happen now
  auto cancelled = processor_.CancelOrder(order->order_id(), "cust_1", "", "c");
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_.Only().saga, SagaState::kCompensating);
  // Nobody may ship it meanwhile.
  EXPECT_EQ(processor_.StartProcessing(order->order_id(), "", "staff").status().code(),
            absl::StatusCode::kAborted);
  payments_.down = absl::OkStatus();
  EXPECT_EQ(processor_.RecoverAbandoned(), 1);
  EXPECT_EQ(store_.Only().order.status(), shop::v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(payments_.StatusOf("pay_1"), shop::v1::PAYMENT_STATUS_REFUNDED);
  EXPECT_EQ(inventory_.StatusOf("res_1"), shop::v1::RESERVATION_STATUS_RESTOCKED);
}

TEST_F(OrderProcessorTest, LifecycleAndIllegalTransitions) {
  auto order = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  ASSERT_TRUE(order.ok());
  const std::string id = order->order_id();
  auto shipped_too_early = processor_.ShipOrder(id, "UPS", "1Z999", "staff");
  EXPECT_EQ(shipped_too_early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(shipped_too_early.status().message(),
            "order " + id + " is CONFIRMED; it cannot become SHIPPED");
  ASSERT_TRUE(processor_.StartProcessing(id, "", "staff").ok());
  auto shipped = processor_.ShipOrder(id, "UPS", "1Z999", "staff");
  ASSERT_TRUE(shipped.ok()) << shipped.status();
  EXPECT_EQ(shipped->tracking().tracking_number(), "1Z999");
  auto cancel_shipped = processor_.CancelOrder(id, "cust_1", "", "c");
  EXPECT_EQ(cancel_shipped.status().message(),
            "order " + id + " is SHIPPED; it cannot become CANCELLED");
  ASSERT_TRUE(processor_.DeliverOrder(id, "", "staff").ok());
  std::vector<OrderStatus> history;
  for (const auto& change : store_.rows[id].history) history.push_back(change.status());
  EXPECT_EQ(history, (std::vector<OrderStatus>{
                         shop::v1::ORDER_STATUS_PENDING, shop::v1::ORDER_STATUS_CONFIRMED,
                         shop::v1::ORDER_STATUS_PROCESSING, shop::v1::ORDER_STATUS_SHIPPED,
                         shop::v1::ORDER_STATUS_DELIVERED}));
  EXPECT_EQ(processor_.ShipOrder(id, "", "", "staff").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(OrderProcessorTest, OtherCustomersOrdersAreNotFound) {
  auto order = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  ASSERT_TRUE(order.ok());
  EXPECT_TRUE(processor_.GetOrder(order->order_id(), "cust_1").ok());
  auto other = processor_.GetOrder(order->order_id(), "cust_2");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(other.status().message(), "order " + order->order_id() + " not found");
}

TEST_F(OrderProcessorTest, PaymentEventIsRecordedOncePerGatewayEvent) {
  auto order = processor_.PlaceOrder(GoodRequest(), "spiffe://ecp");
  ASSERT_TRUE(order.ok()) << order.status();
  audit_.names.clear();
  PaymentEvent request{order->order_id(), "evt_1", "charge.dispute.created", "dispute opened"};
  auto first = processor_.RecordPaymentEvent(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  auto again = processor_.RecordPaymentEvent(request);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(*again);  // a webhook delivered twice is recorded once
  EXPECT_EQ(store_.events, std::set<std::string>{"evt_1"});
  EXPECT_EQ(audit_.names, std::vector<std::string>{"order.payment_event"});
}

TEST_F(OrderProcessorTest, MalformedPaymentEventNamesEveryFieldAndStoresNothing) {
  PaymentEvent request{"", std::string(129, 'e'), "bad\ntype", "\xff\xfe not UTF-8"};
  auto recorded = processor_.RecordPaymentEvent(request);
  EXPECT_EQ(recorded.status().code(), absl::StatusCode::kInvalidArgument);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(recorded.status(), bad_request));
  std::set<std::string> fields;
  for (const auto& v : bad_request.field_violations()) fields.insert(v.field());
  EXPECT_EQ(fields,
            (std::set<std::string>{"order_id", "gateway_event_id", "event_type", "detail"}));
  EXPECT_TRUE(store_.events.empty());
  EXPECT_TRUE(audit_.names.empty());

  request = {"ord_1", "evt_1", "charge.refunded", std::string(201, 'd')};  // one byte too long
  recorded = processor_.RecordPaymentEvent(request);
  EXPECT_EQ(recorded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_.events.empty());
}

TEST(OrderRequestDigestTest, IsTheDigestOfTheWireRequestSoStoredKeysStillMatch) {
  // Before OrderRequest existed, ops hashed the deterministic serialization
  // of the request message; digests stored then must match a retry now.
  OrderRequest request = GoodRequest();
  shop::v1::Address billing = *request.shipping_address;
  billing.set_city("Boston");
  request.billing_address = billing;
  shop::ops::v1::PlaceOrderRequest wire;
  wire.set_customer_id(request.customer_id);
  *wire.mutable_lines() = request.lines;
  *wire.mutable_shipping_address() = *request.shipping_address;
  *wire.mutable_billing_address() = billing;
  wire.set_payment_method_token(request.payment_method_token);
  wire.set_idempotency_key(request.idempotency_key);
  std::string bytes;
  ASSERT_TRUE(wire.SerializeToString(&bytes));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  EXPECT_EQ(OrderRequestDigest(request),
            absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), 32)));

  OrderRequest other = request;
  other.lines.Mutable(0)->set_quantity(3);
  EXPECT_NE(OrderRequestDigest(other), OrderRequestDigest(request));
}

TEST(StatusMachineTest, Transitions) {
  EXPECT_TRUE(CanTransition(shop::v1::ORDER_STATUS_CONFIRMED, shop::v1::ORDER_STATUS_CANCELLED));
  EXPECT_TRUE(CanTransition(shop::v1::ORDER_STATUS_PROCESSING, shop::v1::ORDER_STATUS_CANCELLED));
  EXPECT_FALSE(CanTransition(shop::v1::ORDER_STATUS_SHIPPED, shop::v1::ORDER_STATUS_CANCELLED));
  EXPECT_FALSE(CanTransition(shop::v1::ORDER_STATUS_FAILED, shop::v1::ORDER_STATUS_CONFIRMED));
  EXPECT_FALSE(CanTransition(shop::v1::ORDER_STATUS_DELIVERED, shop::v1::ORDER_STATUS_SHIPPED));
}

}  // namespace
}  // namespace shop::ops
