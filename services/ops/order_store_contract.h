// What an OrderStore must do, as one suite that runs against every
// implementation: the in-memory fake the saga's unit tests use
// (order_store_fake_test.cc) and the PostgreSQL store
// (tests/order_store_postgres_test.cc). A rule the fake gets wrong fails
// here instead of hiding a bug in the saga's tests.
//
// Include it in exactly one .cc per test binary and instantiate it.
#ifndef SHOP_SERVICES_OPS_ORDER_STORE_CONTRACT_H_
#define SHOP_SERVICES_OPS_ORDER_STORE_CONTRACT_H_

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "services/ops/order_store.h"

namespace shop::ops::contract {

// Makes a new, empty store for each test.
using OrderStoreFactory = std::function<std::unique_ptr<OrderStore>()>;

class OrderStoreContract : public ::testing::TestWithParam<OrderStoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam()();
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

  // Creates order `id` of `customer` with key `key`; the creator holds its lease.
  OrderRecord Create(const std::string& id, const std::string& customer = "cust_1",
                     const std::string& key = "") {
    auto created = store_->CreatePending(NewOrder(id, customer), key.empty() ? "key-" + id : key,
                                         "hash-" + id, "pm_card_visa", "spiffe://ecp");
    EXPECT_TRUE(created.ok()) << created.status();
    EXPECT_TRUE(created.ok() && created->created) << id;
    return created.ok() ? created->record : OrderRecord{};
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

  std::unique_ptr<OrderStore> store_;
};

TEST_P(OrderStoreContract, CreatePendingStoresARunningLeasedOrder) {
  OrderRecord created = Create("ord_1");
  EXPECT_EQ(created.order.order_id(), "ord_1");
  EXPECT_EQ(created.order.status(), shop::v1::ORDER_STATUS_PENDING);
  EXPECT_EQ(created.saga, SagaState::kRunning);
  EXPECT_EQ(created.payment_method_token, "pm_card_visa");
  EXPECT_EQ(created.request_hash, "hash-ord_1");
  auto read = store_->GetRecord("ord_1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->order.customer_id(), "cust_1");
  ASSERT_EQ(read->order.lines_size(), 1);
  EXPECT_EQ(read->order.lines(0).sku(), "MUG-CLASSIC");
  EXPECT_EQ(read->order.shipping_address().city(), "New York");
  EXPECT_FALSE(*store_->TryLease("ord_1"));  // the creator runs the saga
}

TEST_P(OrderStoreContract, OneOrderPerCustomerAndKey) {
  Create("ord_1", "cust_1", "key-a");
  auto again = store_->CreatePending(NewOrder("ord_2", "cust_1"), "key-a", "hash-other",
                                     "pm_card_visa", "spiffe://ecp");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->record.order.order_id(), "ord_1");
  EXPECT_EQ(again->record.request_hash, "hash-ord_1");  // the first request's
  EXPECT_EQ(store_->GetRecord("ord_2").status().code(), absl::StatusCode::kNotFound);
  // Keys are per customer.
  auto other = store_->CreatePending(NewOrder("ord_3", "cust_2"), "key-a", "hash-3", "pm_card_visa",
                                     "spiffe://ecp");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_TRUE(other->created);
}

TEST_P(OrderStoreContract, UnknownOrdersAreNotFound) {
  EXPECT_EQ(store_->GetRecord("ord_none").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("ord_none").status().code(), absl::StatusCode::kNotFound);
  shop::v1::Order ghost = NewOrder("ord_none", "cust_1");
  ghost.set_status(shop::v1::ORDER_STATUS_CONFIRMED);
  EXPECT_EQ(store_->Transition(ghost, shop::v1::ORDER_STATUS_PENDING, "a", "", "").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      store_->RecordPaymentEvent({"ord_none", "evt_1", "charge.refunded", ""}).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_FALSE(*store_->TryLease("ord_none"));
  EXPECT_EQ(store_->GetRecord("ord_none").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(OrderStoreContract, TransitionChecksTheStatusItLeaves) {
  Create("ord_1");
  shop::v1::Order shipped = NewOrder("ord_1", "cust_1");
  shipped.set_status(shop::v1::ORDER_STATUS_SHIPPED);
  absl::Status wrong =
      store_->Transition(shipped, shop::v1::ORDER_STATUS_CONFIRMED, "staff", "", "");
  EXPECT_EQ(wrong.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(wrong), shop::v1::ILLEGAL_TRANSITION);
  EXPECT_EQ(store_->GetRecord("ord_1")->order.status(), shop::v1::ORDER_STATUS_PENDING);

  ASSERT_TRUE(Confirm("ord_1").ok());
  auto record = store_->GetRecord("ord_1");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->order.status(), shop::v1::ORDER_STATUS_CONFIRMED);
  EXPECT_EQ(record->saga, SagaState::kDone);
  EXPECT_TRUE(*store_->TryLease("ord_1"));  // the lease went with the saga
  auto order = store_->Get("ord_1");
  ASSERT_TRUE(order.ok()) << order.status();
  ASSERT_EQ(order->status_history_size(), 2);
  EXPECT_EQ(order->status_history(0).status(), shop::v1::ORDER_STATUS_PENDING);
  EXPECT_EQ(order->status_history(1).status(), shop::v1::ORDER_STATUS_CONFIRMED);
  EXPECT_EQ(order->status_history(1).actor(), "spiffe://ecp");
  EXPECT_EQ(order->status_history(1).note(), "payment captured");
}

TEST_P(OrderStoreContract, SaveProgressKeepsTheStatus) {
  Create("ord_1");
  shop::v1::Order progressed = NewOrder("ord_1", "cust_1");
  progressed.set_status(shop::v1::ORDER_STATUS_CONFIRMED);  // not SaveProgress's to change
  progressed.set_reservation_id("res_1");
  progressed.set_payment_id("pay_1");
  progressed.set_payment_status(shop::v1::PAYMENT_STATUS_AUTHORIZED);
  ASSERT_TRUE(store_->SaveProgress(progressed).ok());
  auto read = store_->GetRecord("ord_1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->order.status(), shop::v1::ORDER_STATUS_PENDING);
  EXPECT_EQ(read->order.reservation_id(), "res_1");
  EXPECT_EQ(read->order.payment_id(), "pay_1");
  EXPECT_EQ(read->order.payment_status(), shop::v1::PAYMENT_STATUS_AUTHORIZED);
}

TEST_P(OrderStoreContract, CompensationKeepsTheFailureAndReopensAFinishedSagaOnlyToCancel) {
  Create("ord_1");
  absl::Status declined = absl::FailedPreconditionError("payment declined");
  ASSERT_TRUE(
      store_->BeginCompensation("ord_1", shop::v1::ORDER_STATUS_PAYMENT_FAILED, declined).ok());
  auto record = store_->GetRecord("ord_1");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->saga, SagaState::kCompensating);
  EXPECT_EQ(record->target, shop::v1::ORDER_STATUS_PAYMENT_FAILED);
  EXPECT_EQ(record->failure_status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(record->failure_status.message(), "payment declined");

  Create("ord_2");
  ASSERT_TRUE(Confirm("ord_2").ok());
  ASSERT_TRUE(store_->BeginCompensation("ord_2", shop::v1::ORDER_STATUS_FAILED, declined).ok());
  EXPECT_EQ(store_->GetRecord("ord_2")->saga, SagaState::kDone);  // a confirmed order stays
  ASSERT_TRUE(
      store_->BeginCompensation("ord_2", shop::v1::ORDER_STATUS_CANCELLED, absl::OkStatus()).ok());
  EXPECT_EQ(store_->GetRecord("ord_2")->saga, SagaState::kCompensating);
  EXPECT_EQ(store_->GetRecord("ord_2")->target, shop::v1::ORDER_STATUS_CANCELLED);
}

TEST_P(OrderStoreContract, TheFirstPlacementAnswerIsKept) {
  Create("ord_1");
  ASSERT_TRUE(store_->SavePlacementResponse("ord_1", std::string("first\0answer", 12)).ok());
  ASSERT_TRUE(store_->SavePlacementResponse("ord_1", "second").ok());
  EXPECT_EQ(store_->GetRecord("ord_1")->placement_response, std::string("first\0answer", 12));
}

TEST_P(OrderStoreContract, LeasesAreExclusiveUntilDropped) {
  Create("ord_1");
  EXPECT_FALSE(*store_->TryLease("ord_1"));
  ASSERT_TRUE(store_->DropLease("ord_1").ok());
  EXPECT_TRUE(*store_->TryLease("ord_1"));
  EXPECT_FALSE(*store_->TryLease("ord_1"));
  ASSERT_TRUE(store_->RecordStep("ord_1", SagaStep::kReserve, StepState::kStarted, "").ok());
  EXPECT_FALSE(*store_->TryLease("ord_1"));  // a journaled step keeps the lease
}

TEST_P(OrderStoreContract, RecoveryClaimsOnlyUnleasedUnfinishedSagasAndEachOnce) {
  Create("ord_live");
  Create("ord_abandoned");
  Create("ord_done");
  ASSERT_TRUE(store_->DropLease("ord_abandoned").ok());
  ASSERT_TRUE(Confirm("ord_done").ok());  // finished, lease gone with it
  auto claimed = store_->ClaimAbandoned(10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].order.order_id(), "ord_abandoned");
  auto again = store_->ClaimAbandoned(10);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->empty());  // the claim is a lease
}

TEST_P(OrderStoreContract, APaymentEventIsRecordedOnce) {
  Create("ord_1");
  auto first = store_->RecordPaymentEvent({"ord_1", "evt_1", "charge.dispute.created", "x"});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  auto again = store_->RecordPaymentEvent({"ord_1", "evt_1", "charge.dispute.created", "x"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(*again);
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
  auto second =
      store_->List("cust_a", 2, first->next_page_token, shop::v1::ORDER_STATUS_UNSPECIFIED);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(Ids(*second), (std::vector<std::string>{"ord_a1"}));
  EXPECT_TRUE(second->next_page_token.empty());

  ASSERT_TRUE(Confirm("ord_a2").ok());
  auto confirmed = store_->List("cust_a", 10, "", shop::v1::ORDER_STATUS_CONFIRMED);
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  EXPECT_EQ(Ids(*confirmed), (std::vector<std::string>{"ord_a2"}));
  EXPECT_EQ(
      store_->List("cust_a", 2, "not a token", shop::v1::ORDER_STATUS_UNSPECIFIED).status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace shop::ops::contract

#endif  // SHOP_SERVICES_OPS_ORDER_STORE_CONTRACT_H_
