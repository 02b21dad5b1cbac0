// What an OrderStore must do, as one suite that runs against every
// implementation: the in-memory fake the saga's unit tests use
// (order_store_fake_test.cc) and the PostgreSQL store
// (tests/order_store_postgres_test.cc). The PostgreSQL store is the truth: a
// rule the fake gets wrong fails here instead of hiding a bug in the saga's
// tests.
//
// The TEST_Ps below are definitions with external linkage: include this
// header in exactly one .cc per test binary, the one that instantiates the
// suite (INSTANTIATE_TEST_SUITE_P(<Name>, OrderStoreContract, ...)).
//
// What the port does not show is not asserted: the notification outbox
// (Transition's `notification`), the saga journal's rows (RecordStep) and
// lease expiry in time (the fake has no clock; FakeOrderStore::ExpireLeases
// stands for it).
#ifndef SHOP_SERVICES_OPS_ORDER_STORE_CONTRACT_H_
#define SHOP_SERVICES_OPS_ORDER_STORE_CONTRACT_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/testing/store_factory.h"
#include "google/rpc/error_details.pb.h"
#include "services/ops/order_store.h"

namespace shop::ops::contract {

// Makes a new, empty store for each test, named for the test names.
using OrderStoreFactory = shop::testing::StoreFactory<OrderStore>;

class OrderStoreContract : public ::testing::TestWithParam<OrderStoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make();
    ASSERT_NE(store_, nullptr);
  }

  static shop::v1::Order NewOrder(const std::string& order_id, const std::string& customer) {
    shop::v1::Order order;
    order.set_order_id(order_id);
    order.set_customer_id(customer);
    order.set_status(shop::v1::ORDER_STATUS_PENDING);
    auto* line = order.add_lines();
    line->set_sku("MUG-CLASSIC");
    line->set_quantity(2);
    auto* address = order.mutable_shipping_address();
    address->set_name("Ada Lovelace");
    address->set_line1("123 Main St");
    address->set_city("New York");
    address->set_postal_code("10001");
    address->set_country_code("US");
    *order.mutable_billing_address() = *address;
    return order;
  }

  static void SetMoney(int64_t units, int32_t nanos, shop::v1::Money* money) {
    money->set_currency_code("USD");
    money->set_units(units);
    money->set_nanos(nanos);
  }

  // `order` as the saga has it after reserving and pricing: 2 × 12.00 = 24.00,
  // tax 1.92, shipping 5.99, 31.91 in all.
  static void Price(shop::v1::Order& order) {
    auto* line = order.mutable_lines(0);
    line->set_name("Classic mug");
    SetMoney(12, 0, line->mutable_unit_price());
    SetMoney(24, 0, line->mutable_line_total());
    auto* totals = order.mutable_totals();
    SetMoney(24, 0, totals->mutable_subtotal());
    SetMoney(1, 920'000'000, totals->mutable_tax());
    SetMoney(5, 990'000'000, totals->mutable_shipping());
    SetMoney(31, 910'000'000, totals->mutable_grand_total());
  }

  static int64_t Micros(const google::protobuf::Timestamp& time) {
    return time.seconds() * 1'000'000 + time.nanos() / 1'000;
  }

  // Creates order `id` of `customer` with key `key`; the creator holds its lease.
  OrderRecord Create(const std::string& id, const std::string& customer = "cust_1",
                     const std::string& key = "") {
    auto created = store_->CreatePending(NewOrder(id, customer), key.empty() ? "key-" + id : key,
                                         "hash-" + id, "pm_card_visa", "spiffe://ecp");
    EXPECT_TRUE(created.ok()) << created.status();
    EXPECT_TRUE(created.ok() && created->created) << id;
    return created.ok() ? created->record : OrderRecord{};
  }

  // Moves order `id` from `from` to `to` with its stored fields (plus `change`).
  absl::Status Move(const std::string& id, shop::v1::OrderStatus from, shop::v1::OrderStatus to,
                    const std::string& note = "",
                    const std::function<void(shop::v1::Order&)>& change = nullptr) {
    absl::StatusOr<OrderRecord> record = store_->GetRecord(id);
    if (!record.ok()) return record.status();
    shop::v1::Order order = record->order;
    if (change) change(order);
    order.set_status(to);
    return store_->Transition(order, from, "staff", note, "");
  }

  absl::Status Confirm(const std::string& id) {
    absl::StatusOr<OrderRecord> record = store_->GetRecord(id);
    if (!record.ok()) return record.status();
    shop::v1::Order order = record->order;
    order.set_status(shop::v1::ORDER_STATUS_CONFIRMED);
    return store_->Transition(order, shop::v1::ORDER_STATUS_PENDING, "spiffe://ecp",
                              "payment captured", "ORDER_CONFIRMATION");
  }

  static std::vector<std::string> Ids(const OrderPage& page) {
    std::vector<std::string> ids;
    for (const auto& order : page.orders) ids.push_back(order.order_id());
    return ids;
  }

  static std::vector<std::string> Ids(const std::vector<OrderRecord>& records) {
    std::vector<std::string> ids;
    for (const auto& record : records) ids.push_back(record.order.order_id());
    return ids;
  }

  std::unique_ptr<OrderStore> store_;
};

TEST_P(OrderStoreContract, CreatePendingStoresARunningLeasedOrder) {
  // The caller's order may carry more than a new order has: none of it is stored.
  shop::v1::Order order = NewOrder("ord_1", "cust_1");
  order.set_status(shop::v1::ORDER_STATUS_CONFIRMED);
  order.set_reservation_id("res_1");
  order.set_payment_id("pay_1");
  Price(order);
  auto created = store_->CreatePending(order, "key-1", "hash-1", "pm_card_visa", "customer:cust_1");
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->created);
  const OrderRecord& record = created->record;
  EXPECT_EQ(record.order.order_id(), "ord_1");
  EXPECT_EQ(record.order.customer_id(), "cust_1");
  EXPECT_EQ(record.order.status(), shop::v1::ORDER_STATUS_PENDING);
  EXPECT_EQ(record.saga, SagaState::kRunning);
  EXPECT_EQ(record.target, shop::v1::ORDER_STATUS_UNSPECIFIED);
  EXPECT_TRUE(record.failure_status.ok());
  EXPECT_EQ(record.placement_response, "");
  EXPECT_EQ(record.payment_method_token, "pm_card_visa");
  EXPECT_EQ(record.request_hash, "hash-1");
  EXPECT_EQ(record.order.reservation_id(), "");
  EXPECT_EQ(record.order.payment_id(), "");
  EXPECT_FALSE(record.order.has_totals());
  ASSERT_EQ(record.order.lines_size(), 1);
  EXPECT_EQ(record.order.lines(0).sku(), "MUG-CLASSIC");
  EXPECT_EQ(record.order.lines(0).quantity(), 2);
  EXPECT_EQ(record.order.lines(0).name(), "");  // prices and names come from the reservation
  EXPECT_FALSE(record.order.lines(0).has_unit_price());
  EXPECT_GT(record.order.create_time().seconds(), 0);

  auto read = store_->GetRecord("ord_1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->order.SerializeAsString(), record.order.SerializeAsString());
  EXPECT_EQ(read->order.shipping_address().city(), "New York");
  EXPECT_EQ(read->order.billing_address().postal_code(), "10001");
  EXPECT_EQ(read->order.status_history_size(), 0);  // only Get shows the history
  auto full = store_->Get("ord_1");
  ASSERT_TRUE(full.ok()) << full.status();
  ASSERT_EQ(full->status_history_size(), 1);
  EXPECT_EQ(full->status_history(0).status(), shop::v1::ORDER_STATUS_PENDING);
  EXPECT_EQ(full->status_history(0).actor(), "customer:cust_1");
  EXPECT_EQ(full->status_history(0).note(), "order received");
  EXPECT_GT(full->status_history(0).change_time().seconds(), 0);
  EXPECT_FALSE(*store_->TryLease("ord_1"));  // the creator runs the saga
}

TEST_P(OrderStoreContract, OneOrderPerCustomerAndKey) {
  Create("ord_1", "cust_1", "key-a");
  auto again = store_->CreatePending(NewOrder("ord_2", "cust_1"), "key-a", "hash-other",
                                     "pm_card_mastercard", "spiffe://ecp");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->record.order.order_id(), "ord_1");
  EXPECT_EQ(again->record.request_hash, "hash-ord_1");  // the first request's
  EXPECT_EQ(again->record.payment_method_token, "pm_card_visa");
  EXPECT_EQ(store_->GetRecord("ord_2").status().code(), absl::StatusCode::kNotFound);
  // Keys are per customer.
  auto other = store_->CreatePending(NewOrder("ord_3", "cust_2"), "key-a", "hash-3", "pm_card_visa",
                                     "spiffe://ecp");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_TRUE(other->created);
  EXPECT_EQ(other->record.order.order_id(), "ord_3");
  // The pair is the key, not its concatenation: ids may contain '/'.
  Create("ord_4", "cust/x", "key");
  Create("ord_5", "cust", "x/key");
}

TEST_P(OrderStoreContract, AnOrderIdIsStoredOnce) {
  Create("ord_1", "cust_1", "key-a");
  // A new key with an id in use: the real store's primary key refuses it
  // (INTERNAL: ids are generated, so this is a bug, not a request to answer).
  auto clash = store_->CreatePending(NewOrder("ord_1", "cust_2"), "key-b", "hash-b", "pm_card_visa",
                                     "spiffe://ecp");
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kInternal);
  auto kept = store_->GetRecord("ord_1");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->order.customer_id(), "cust_1");
  EXPECT_EQ(kept->request_hash, "hash-ord_1");
  // Nothing of the refused order stayed: its key is still free.
  auto later = store_->CreatePending(NewOrder("ord_2", "cust_2"), "key-b", "hash-b", "pm_card_visa",
                                     "spiffe://ecp");
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_TRUE(later->created);
}

TEST_P(OrderStoreContract, UnknownOrdersAreNotFound) {
  EXPECT_EQ(store_->GetRecord("ord_none").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("ord_none").status().code(), absl::StatusCode::kNotFound);
  shop::v1::Order ghost = NewOrder("ord_none", "cust_1");
  ghost.set_status(shop::v1::ORDER_STATUS_CONFIRMED);
  absl::Status moved = store_->Transition(ghost, shop::v1::ORDER_STATUS_PENDING, "a", "", "");
  EXPECT_EQ(moved.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(moved.message(), "order ord_none not found");
  EXPECT_EQ(
      store_->RecordPaymentEvent({"ord_none", "evt_1", "charge.refunded", ""}).status().code(),
      absl::StatusCode::kNotFound);
  // saga_steps references orders: journaling a step of no order is refused.
  EXPECT_EQ(store_->RecordStep("ord_none", SagaStep::kReserve, StepState::kStarted, "").code(),
            absl::StatusCode::kInternal);
  EXPECT_FALSE(*store_->TryLease("ord_none"));
  // Updates of nothing succeed and create nothing.
  EXPECT_TRUE(store_->SaveProgress(ghost).ok());
  EXPECT_TRUE(store_
                  ->BeginCompensation("ord_none", shop::v1::ORDER_STATUS_CANCELLED,
                                      absl::CancelledError("x"))
                  .ok());
  EXPECT_TRUE(store_->SavePlacementResponse("ord_none", "answer").ok());
  EXPECT_TRUE(store_->DropLease("ord_none").ok());
  EXPECT_EQ(store_->GetRecord("ord_none").status().code(), absl::StatusCode::kNotFound);
  auto claimed = store_->ClaimAbandoned(10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_TRUE(claimed->empty());
}

TEST_P(OrderStoreContract, TransitionChecksTheStatusItLeaves) {
  Create("ord_1");
  shop::v1::Order shipped = NewOrder("ord_1", "cust_1");
  shipped.set_status(shop::v1::ORDER_STATUS_SHIPPED);
  shipped.set_payment_id("pay_1");
  absl::Status wrong =
      store_->Transition(shipped, shop::v1::ORDER_STATUS_CONFIRMED, "staff", "", "");
  EXPECT_EQ(wrong.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(wrong), shop::v1::ILLEGAL_TRANSITION);
  EXPECT_EQ(wrong.message(), "order ord_1 is PENDING; it cannot become SHIPPED");
  // ...and changed nothing: no field, no history, no saga state, no lease.
  auto unchanged = store_->GetRecord("ord_1");
  ASSERT_TRUE(unchanged.ok()) << unchanged.status();
  EXPECT_EQ(unchanged->order.status(), shop::v1::ORDER_STATUS_PENDING);
  EXPECT_EQ(unchanged->order.payment_id(), "");
  EXPECT_EQ(unchanged->saga, SagaState::kRunning);
  EXPECT_EQ(store_->Get("ord_1")->status_history_size(), 1);
  EXPECT_FALSE(*store_->TryLease("ord_1"));

  // With the status it leaves: every field is written too, the saga is
  // done, the lease gone and the change is in the history.
  absl::StatusOr<OrderRecord> record = store_->GetRecord("ord_1");
  ASSERT_TRUE(record.ok()) << record.status();
  shop::v1::Order confirmed = record->order;
  confirmed.set_status(shop::v1::ORDER_STATUS_CONFIRMED);
  confirmed.set_payment_id("pay_1");
  confirmed.set_payment_status(shop::v1::PAYMENT_STATUS_CAPTURED);
  ASSERT_TRUE(store_
                  ->Transition(confirmed, shop::v1::ORDER_STATUS_PENDING, "spiffe://ecp",
                               "payment captured", "ORDER_CONFIRMATION")
                  .ok());
  record = store_->GetRecord("ord_1");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->order.status(), shop::v1::ORDER_STATUS_CONFIRMED);
  EXPECT_EQ(record->order.payment_id(), "pay_1");
  EXPECT_EQ(record->order.payment_status(), shop::v1::PAYMENT_STATUS_CAPTURED);
  EXPECT_EQ(record->saga, SagaState::kDone);
  EXPECT_TRUE(*store_->TryLease("ord_1"));  // the lease went with the saga
  auto order = store_->Get("ord_1");
  ASSERT_TRUE(order.ok()) << order.status();
  ASSERT_EQ(order->status_history_size(), 2);
  EXPECT_EQ(order->status_history(0).status(), shop::v1::ORDER_STATUS_PENDING);
  EXPECT_EQ(order->status_history(1).status(), shop::v1::ORDER_STATUS_CONFIRMED);
  EXPECT_EQ(order->status_history(1).actor(), "spiffe://ecp");
  EXPECT_EQ(order->status_history(1).note(), "payment captured");
  EXPECT_GE(Micros(order->status_history(1).change_time()),
            Micros(order->status_history(0).change_time()));
  // The old status is no longer the one to leave.
  EXPECT_EQ(Move("ord_1", shop::v1::ORDER_STATUS_PENDING, shop::v1::ORDER_STATUS_CANCELLED).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_P(OrderStoreContract, ShippingAndDeliveryAreTimedAndTracked) {
  Create("ord_1");
  ASSERT_TRUE(Confirm("ord_1").ok());
  ASSERT_TRUE(
      Move("ord_1", shop::v1::ORDER_STATUS_CONFIRMED, shop::v1::ORDER_STATUS_PROCESSING).ok());
  EXPECT_FALSE(store_->Get("ord_1")->has_tracking());  // no carrier, no tracking
  ASSERT_TRUE(Move("ord_1", shop::v1::ORDER_STATUS_PROCESSING, shop::v1::ORDER_STATUS_SHIPPED,
                   "UPS 1Z999",
                   [](shop::v1::Order& order) {
                     order.mutable_tracking()->set_carrier("UPS");
                     order.mutable_tracking()->set_tracking_number("1Z999");
                   })
                  .ok());
  auto shipped = store_->Get("ord_1");
  ASSERT_TRUE(shipped.ok()) << shipped.status();
  EXPECT_EQ(shipped->tracking().carrier(), "UPS");
  EXPECT_EQ(shipped->tracking().tracking_number(), "1Z999");
  EXPECT_GT(shipped->tracking().ship_time().seconds(), 0);  // the store's clock, not the caller's
  EXPECT_FALSE(shipped->tracking().has_delivery_time());
  ASSERT_TRUE(Move("ord_1", shop::v1::ORDER_STATUS_SHIPPED, shop::v1::ORDER_STATUS_DELIVERED).ok());
  auto delivered = store_->Get("ord_1");
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(delivered->tracking().tracking_number(), "1Z999");
  EXPECT_EQ(Micros(delivered->tracking().ship_time()), Micros(shipped->tracking().ship_time()));
  EXPECT_GE(Micros(delivered->tracking().delivery_time()),
            Micros(delivered->tracking().ship_time()));
  std::vector<shop::v1::OrderStatus> history;
  for (const auto& change : delivered->status_history()) history.push_back(change.status());
  EXPECT_EQ(history, (std::vector<shop::v1::OrderStatus>{
                         shop::v1::ORDER_STATUS_PENDING, shop::v1::ORDER_STATUS_CONFIRMED,
                         shop::v1::ORDER_STATUS_PROCESSING, shop::v1::ORDER_STATUS_SHIPPED,
                         shop::v1::ORDER_STATUS_DELIVERED}));
  EXPECT_EQ(delivered->status_history(3).note(), "UPS 1Z999");
  EXPECT_EQ(delivered->status_history(4).note(), "");  // no note reads back empty
  EXPECT_EQ(delivered->status_history(4).actor(), "staff");
}

TEST_P(OrderStoreContract, SaveProgressWritesTheSagasFieldsOnly) {
  OrderRecord created = Create("ord_1");
  shop::v1::Order progressed = created.order;
  progressed.set_status(shop::v1::ORDER_STATUS_CONFIRMED);  // not SaveProgress's to change
  progressed.set_reservation_id("res_1");
  progressed.set_payment_id("pay_1");
  progressed.set_payment_status(shop::v1::PAYMENT_STATUS_AUTHORIZED);
  Price(progressed);
  SetMoney(999, 0, progressed.mutable_lines(0)->mutable_line_total());  // derived, not stored
  // Nor are these the saga's to change once the order exists.
  progressed.set_customer_id("cust_2");
  progressed.mutable_shipping_address()->set_city("Boston");
  progressed.mutable_lines(0)->set_sku("MUG-OTHER");
  progressed.mutable_lines(0)->set_quantity(5);
  auto* extra = progressed.add_lines();
  extra->set_sku("TEE-BLACK");
  extra->set_quantity(1);
  ASSERT_TRUE(store_->SaveProgress(progressed).ok());

  auto read = store_->GetRecord("ord_1");
  ASSERT_TRUE(read.ok()) << read.status();
  const shop::v1::Order& order = read->order;
  EXPECT_EQ(order.status(), shop::v1::ORDER_STATUS_PENDING);
  EXPECT_EQ(read->saga, SagaState::kRunning);
  EXPECT_EQ(order.reservation_id(), "res_1");
  EXPECT_EQ(order.payment_id(), "pay_1");
  EXPECT_EQ(order.payment_status(), shop::v1::PAYMENT_STATUS_AUTHORIZED);
  EXPECT_EQ(order.totals().grand_total().currency_code(), "USD");
  EXPECT_EQ(order.totals().grand_total().units(), 31);
  EXPECT_EQ(order.totals().grand_total().nanos(), 910'000'000);
  EXPECT_EQ(order.totals().tax().units(), 1);
  EXPECT_EQ(order.totals().tax().nanos(), 920'000'000);
  EXPECT_EQ(order.customer_id(), "cust_1");
  EXPECT_EQ(order.shipping_address().city(), "New York");
  ASSERT_EQ(order.lines_size(), 1);
  EXPECT_EQ(order.lines(0).sku(), "MUG-CLASSIC");
  EXPECT_EQ(order.lines(0).quantity(), 2);
  EXPECT_EQ(order.lines(0).name(), "Classic mug");
  EXPECT_EQ(order.lines(0).unit_price().currency_code(), "USD");
  EXPECT_EQ(order.lines(0).unit_price().units(), 12);
  EXPECT_EQ(order.lines(0).line_total().units(), 24);  // 2 × 12.00, whatever the caller said
  EXPECT_EQ(Micros(order.create_time()), Micros(created.order.create_time()));
  EXPECT_GE(Micros(order.update_time()), Micros(created.order.update_time()));
  EXPECT_FALSE(*store_->TryLease("ord_1"));  // progress is not a hand-over
}

TEST_P(OrderStoreContract, CompensationKeepsTheFailureAndReopensAFinishedSagaOnlyToCancel) {
  Create("ord_1");
  const absl::Status declined =
      ErrorWithReason(absl::StatusCode::kFailedPrecondition, "payment declined",
                      shop::v1::CARD_DECLINED, {{"order_id", "ord_1"}});
  ASSERT_TRUE(
      store_->BeginCompensation("ord_1", shop::v1::ORDER_STATUS_PAYMENT_FAILED, declined).ok());
  auto record = store_->GetRecord("ord_1");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->saga, SagaState::kCompensating);
  EXPECT_EQ(record->target, shop::v1::ORDER_STATUS_PAYMENT_FAILED);
  EXPECT_EQ(record->order.status(), shop::v1::ORDER_STATUS_PENDING);  // until it is undone
  // Kept whole, details included: a retry is answered with exactly this.
  EXPECT_EQ(record->failure_status, declined);
  EXPECT_EQ(ReasonOf(record->failure_status), shop::v1::CARD_DECLINED);
  // A later call without a failure keeps the one the caller got.
  ASSERT_TRUE(
      store_->BeginCompensation("ord_1", shop::v1::ORDER_STATUS_FAILED, absl::OkStatus()).ok());
  record = store_->GetRecord("ord_1");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->target, shop::v1::ORDER_STATUS_FAILED);
  EXPECT_EQ(record->failure_status, declined);

  Create("ord_2");
  ASSERT_TRUE(Confirm("ord_2").ok());
  ASSERT_TRUE(store_->BeginCompensation("ord_2", shop::v1::ORDER_STATUS_FAILED, declined).ok());
  record = store_->GetRecord("ord_2");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->saga, SagaState::kDone);  // a confirmed order stays confirmed
  EXPECT_EQ(record->target, shop::v1::ORDER_STATUS_UNSPECIFIED);
  EXPECT_TRUE(record->failure_status.ok());
  ASSERT_TRUE(
      store_->BeginCompensation("ord_2", shop::v1::ORDER_STATUS_CANCELLED, absl::OkStatus()).ok());
  record = store_->GetRecord("ord_2");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->saga, SagaState::kCompensating);
  EXPECT_EQ(record->target, shop::v1::ORDER_STATUS_CANCELLED);
  EXPECT_TRUE(record->failure_status.ok());
}

TEST_P(OrderStoreContract, TheFirstPlacementAnswerIsKept) {
  Create("ord_1");
  ASSERT_TRUE(store_->SavePlacementResponse("ord_1", std::string("first\0answer", 12)).ok());
  ASSERT_TRUE(store_->SavePlacementResponse("ord_1", "second").ok());
  EXPECT_EQ(store_->GetRecord("ord_1")->placement_response, std::string("first\0answer", 12));
  // An empty answer is an answer too (a NULL column is none).
  Create("ord_2");
  ASSERT_TRUE(store_->SavePlacementResponse("ord_2", "").ok());
  ASSERT_TRUE(store_->SavePlacementResponse("ord_2", "second").ok());
  EXPECT_EQ(store_->GetRecord("ord_2")->placement_response, "");
}

TEST_P(OrderStoreContract, LeasesAreExclusiveUntilDropped) {
  Create("ord_1");
  EXPECT_FALSE(*store_->TryLease("ord_1"));
  ASSERT_TRUE(store_->DropLease("ord_1").ok());
  // A journaled step renews a lease, never takes one.
  ASSERT_TRUE(store_->RecordStep("ord_1", SagaStep::kCapture, StepState::kFailed, "down").ok());
  EXPECT_TRUE(*store_->TryLease("ord_1"));
  EXPECT_FALSE(*store_->TryLease("ord_1"));
  ASSERT_TRUE(store_->RecordStep("ord_1", SagaStep::kReserve, StepState::kStarted, "").ok());
  EXPECT_FALSE(*store_->TryLease("ord_1"));  // a journaled step keeps the lease
  ASSERT_TRUE(store_->DropLease("ord_1").ok());
  ASSERT_TRUE(store_->DropLease("ord_1").ok());  // dropping a free lease is fine
  EXPECT_TRUE(*store_->TryLease("ord_1"));
}

TEST_P(OrderStoreContract, EveryStepAndStateCanBeJournaled) {
  Create("ord_1");
  for (SagaStep step : {SagaStep::kReserve, SagaStep::kAuthorize, SagaStep::kCommitStock,
                        SagaStep::kCapture, SagaStep::kCompensate, SagaStep::kCancel}) {
    for (StepState state : {StepState::kStarted, StepState::kDone, StepState::kFailed}) {
      absl::Status recorded = store_->RecordStep("ord_1", step, state, "detail");
      EXPECT_TRUE(recorded.ok()) << SagaStepName(step) << ":" << StepStateName(state) << " "
                                 << recorded;
    }
  }
  EXPECT_TRUE(store_->RecordStep("ord_1", SagaStep::kReserve, StepState::kDone, "").ok());
}

TEST_P(OrderStoreContract, RecoveryClaimsOnlyUnleasedUnfinishedSagasAndEachOnce) {
  Create("ord_live");
  Create("ord_abandoned");
  Create("ord_done");
  ASSERT_TRUE(store_->DropLease("ord_abandoned").ok());
  ASSERT_TRUE(Confirm("ord_done").ok());  // finished, lease gone with it
  auto claimed = store_->ClaimAbandoned(10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_EQ(Ids(*claimed), std::vector<std::string>{"ord_abandoned"});
  auto again = store_->ClaimAbandoned(10);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->empty());  // the claim is a lease
  EXPECT_FALSE(*store_->TryLease("ord_abandoned"));
}

TEST_P(OrderStoreContract, RecoveryClaimsTheLongestWaitingSagaFirst) {
  Create("ord_a");
  Create("ord_b");
  Create("ord_c");
  for (const char* id : {"ord_a", "ord_b", "ord_c"}) ASSERT_TRUE(store_->DropLease(id).ok());
  // Compensation and progress are news: they make a saga the most recent.
  const absl::Status declined = absl::FailedPreconditionError("payment declined");
  ASSERT_TRUE(
      store_->BeginCompensation("ord_a", shop::v1::ORDER_STATUS_PAYMENT_FAILED, declined).ok());
  ASSERT_TRUE(store_->SaveProgress(store_->GetRecord("ord_b")->order).ok());
  // Oldest first: c (untouched since created), then a, then b. One at a
  // time: within one claim the order of the records is not promised.
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    auto claimed = store_->ClaimAbandoned(1);
    ASSERT_TRUE(claimed.ok()) << claimed.status();
    ASSERT_LE(claimed->size(), 1u);
    if (claimed->empty()) break;
    order.push_back((*claimed)[0].order.order_id());
    if (order.back() == "ord_a") {  // claimed with what recovery needs to finish it
      EXPECT_EQ((*claimed)[0].saga, SagaState::kCompensating);
      EXPECT_EQ((*claimed)[0].target, shop::v1::ORDER_STATUS_PAYMENT_FAILED);
      EXPECT_EQ((*claimed)[0].failure_status, declined);
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"ord_c", "ord_a", "ord_b"}));
}

TEST_P(OrderStoreContract, APaymentEventIsRecordedOnce) {
  Create("ord_1");
  Create("ord_2");
  auto first = store_->RecordPaymentEvent({"ord_1", "evt_1", "charge.dispute.created", "x"});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  auto again = store_->RecordPaymentEvent({"ord_1", "evt_1", "charge.dispute.created", "x"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(*again);
  // Event ids are the gateway's, unique across orders.
  auto elsewhere = store_->RecordPaymentEvent({"ord_2", "evt_1", "charge.refunded", ""});
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status();
  EXPECT_FALSE(*elsewhere);
  auto other = store_->RecordPaymentEvent({"ord_1", "evt_2", "charge.refunded", ""});
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_TRUE(*other);
}

TEST_P(OrderStoreContract, ListShowsOneCustomersOrdersNewestFirstInPages) {
  Create("ord_a1", "cust_a");
  Create("ord_b1", "cust_b");
  Create("ord_a2", "cust_a");
  Create("ord_a3", "cust_a");
  auto first = store_->List("cust_a", 2, "", shop::v1::ORDER_STATUS_UNSPECIFIED);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(Ids(*first), (std::vector<std::string>{"ord_a3", "ord_a2"}));
  ASSERT_FALSE(first->next_page_token.empty());
  ASSERT_EQ(first->orders[0].lines_size(), 1);
  EXPECT_EQ(first->orders[0].status_history_size(), 0);  // a list shows no history
  auto second =
      store_->List("cust_a", 2, first->next_page_token, shop::v1::ORDER_STATUS_UNSPECIFIED);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(Ids(*second), (std::vector<std::string>{"ord_a1"}));
  EXPECT_TRUE(second->next_page_token.empty());
  // A page that ends exactly at the last order has no next page.
  auto exact = store_->List("cust_a", 3, "", shop::v1::ORDER_STATUS_UNSPECIFIED);
  ASSERT_TRUE(exact.ok()) << exact.status();
  EXPECT_EQ(Ids(*exact), (std::vector<std::string>{"ord_a3", "ord_a2", "ord_a1"}));
  EXPECT_TRUE(exact->next_page_token.empty());
  auto nobody = store_->List("cust_none", 2, "", shop::v1::ORDER_STATUS_UNSPECIFIED);
  ASSERT_TRUE(nobody.ok()) << nobody.status();
  EXPECT_TRUE(nobody->orders.empty());
  EXPECT_TRUE(nobody->next_page_token.empty());

  ASSERT_TRUE(Confirm("ord_a2").ok());
  auto confirmed = store_->List("cust_a", 10, "", shop::v1::ORDER_STATUS_CONFIRMED);
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  EXPECT_EQ(Ids(*confirmed), (std::vector<std::string>{"ord_a2"}));
  auto pending = store_->List("cust_a", 1, "", shop::v1::ORDER_STATUS_PENDING);
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_EQ(Ids(*pending), (std::vector<std::string>{"ord_a3"}));
  auto pending_next =
      store_->List("cust_a", 1, pending->next_page_token, shop::v1::ORDER_STATUS_PENDING);
  ASSERT_TRUE(pending_next.ok()) << pending_next.status();
  EXPECT_EQ(Ids(*pending_next), (std::vector<std::string>{"ord_a1"}));

  absl::Status bad =
      store_->List("cust_a", 2, "not a token", shop::v1::ORDER_STATUS_UNSPECIFIED).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(bad, bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "page_token");
}

}  // namespace shop::ops::contract

#endif  // SHOP_SERVICES_OPS_ORDER_STORE_CONTRACT_H_
