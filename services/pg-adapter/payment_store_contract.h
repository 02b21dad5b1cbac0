// What a PaymentStore must do, as one suite that runs against every
// implementation: the in-memory fake the payment domain's unit tests use
// (payment_store_fake_test.cc) and the PostgreSQL store
// (tests/payment_store_postgres_test.cc). A rule the fake gets wrong fails
// here instead of hiding a bug in the domain's tests.
//
// Include it in exactly one .cc per test binary and instantiate it:
//   INSTANTIATE_TEST_SUITE_P(Fake, PaymentStoreContract,
//                            ::testing::Values(PaymentStoreFactory(...)));
#ifndef SHOP_SERVICES_PG_ADAPTER_PAYMENT_STORE_CONTRACT_H_
#define SHOP_SERVICES_PG_ADAPTER_PAYMENT_STORE_CONTRACT_H_

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "core/testing/store_factory.h"
#include "services/pg-adapter/payment_store.h"

namespace shop::payments::contract {

// Makes a new, empty store for each test, named for the test names.
using PaymentStoreFactory = shop::testing::StoreFactory<PaymentStore>;

class PaymentStoreContract : public ::testing::TestWithParam<PaymentStoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make();
    ASSERT_NE(store_, nullptr);
  }

  static Payment NewPayment(const std::string& id, const std::string& key) {
    Payment p;
    p.payment_id = id;
    p.order_id = "ord_" + id;
    p.idempotency_key = key;
    p.state = PaymentState::kPending;
    p.currency = "USD";
    p.amount_minor = 1000;
    p.payment_method_token = "pm_card_visa";
    return p;
  }

  // A payment of 10.00 captured in full.
  Payment Captured(const std::string& id) {
    auto created = store_->CreateOrGet(NewPayment(id, id + ":authorize"));
    EXPECT_TRUE(created.ok()) << created.status();
    Payment p = *created;
    p.state = PaymentState::kCaptured;
    p.captured_minor = 1000;
    p.gateway_intent_id = "pi_" + id;
    EXPECT_TRUE(store_->Update(p).ok());
    return p;
  }

  std::unique_ptr<PaymentStore> store_;
};

TEST_P(PaymentStoreContract, CreateOrGetStoresWhatWasAskedForWithNoOutcome) {
  Payment asked = NewPayment("pay_1", "ord_1:authorize");
  asked.state = PaymentState::kAuthorized;  // an outcome is not the caller's to set
  asked.captured_minor = 1000;
  auto created = store_->CreateOrGet(asked);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->payment_id, "pay_1");
  EXPECT_EQ(created->state, PaymentState::kPending);
  EXPECT_EQ(created->captured_minor, 0);
  EXPECT_EQ(created->refunded_minor, 0);
  auto read = store_->Get("pay_1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->order_id, "ord_pay_1");
  EXPECT_EQ(read->idempotency_key, "ord_1:authorize");
  EXPECT_EQ(read->currency, "USD");
  EXPECT_EQ(read->amount_minor, 1000);
  EXPECT_EQ(read->payment_method_token, "pm_card_visa");
  EXPECT_EQ(read->gateway_intent_id, "");
  EXPECT_EQ(read->failure_body, "");
}

TEST_P(PaymentStoreContract, AKeyInUseReturnsTheFirstPaymentAndStoresNoSecond) {
  ASSERT_TRUE(store_->CreateOrGet(NewPayment("pay_1", "k")).ok());
  Payment twin = NewPayment("pay_2", "k");
  twin.amount_minor = 5;
  auto again = store_->CreateOrGet(twin);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->payment_id, "pay_1");
  EXPECT_EQ(again->amount_minor, 1000);
  EXPECT_EQ(store_->Get("pay_2").status().code(), absl::StatusCode::kNotFound);
  auto by_key = store_->GetByKey("k");
  ASSERT_TRUE(by_key.ok()) << by_key.status();
  EXPECT_EQ(by_key->payment_id, "pay_1");
}

TEST_P(PaymentStoreContract, UnknownPaymentsAreNotFound) {
  EXPECT_EQ(store_->Get("pay_none").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetByKey("no-such-key").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(PaymentStoreContract, UpdateChangesTheOutcomeAndNothingElse) {
  ASSERT_TRUE(store_->CreateOrGet(NewPayment("pay_1", "k")).ok());
  Payment changed = NewPayment("pay_1", "another-key");
  changed.order_id = "ord_other";
  changed.amount_minor = 1;
  changed.currency = "EUR";
  changed.state = PaymentState::kDeclined;
  changed.gateway_intent_id = "pi_1";
  changed.decline_code = "insufficient_funds";
  changed.failure_body = R"({"error":{"type":"card_error"}})";
  ASSERT_TRUE(store_->Update(changed).ok());
  auto read = store_->Get("pay_1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->state, PaymentState::kDeclined);
  EXPECT_EQ(read->gateway_intent_id, "pi_1");
  EXPECT_EQ(read->decline_code, "insufficient_funds");
  EXPECT_EQ(read->failure_body, R"({"error":{"type":"card_error"}})");
  EXPECT_EQ(read->idempotency_key, "k");
  EXPECT_EQ(read->order_id, "ord_pay_1");
  EXPECT_EQ(read->amount_minor, 1000);
  EXPECT_EQ(read->currency, "USD");
}

TEST_P(PaymentStoreContract, UpdateOfAnUnknownPaymentStoresNothing) {
  (void)store_->Update(NewPayment("pay_ghost", "k"));  // an error or a no-op: never a new row
  EXPECT_EQ(store_->Get("pay_ghost").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetByKey("k").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(PaymentStoreContract, AttemptsOfAPaymentGetDistinctIncreasingIds) {
  ASSERT_TRUE(store_->CreateOrGet(NewPayment("pay_1", "k")).ok());
  auto first = store_->BeginAttempt("pay_1", Operation::kAuthorize, "k:authorize", 1);
  auto second = store_->BeginAttempt("pay_1", Operation::kAuthorize, "k:authorize", 2);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_GT(*second, *first);
  EXPECT_TRUE(store_->FinishAttempt(*first, 500, "ERROR", "gateway 500").ok());
  EXPECT_TRUE(store_->FinishAttempt(*second, 200, "SUCCEEDED", "").ok());
  // An attempt belongs to a payment that exists.
  EXPECT_FALSE(store_->BeginAttempt("pay_ghost", Operation::kCapture, "x", 1).ok());
}

TEST_P(PaymentStoreContract, RefundsAddUpAndEachKeyCountsOnce) {
  Payment payment = Captured("pay_1");
  EXPECT_FALSE(store_->FindRefund("r1")->has_value());
  ASSERT_TRUE(store_->RecordRefund(payment, "rfd_1", "r1", 300, "re_1").ok());
  auto found = store_->FindRefund("r1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->refund_id, "rfd_1");
  EXPECT_EQ((*found)->amount_minor, 300);
  EXPECT_EQ(store_->Get("pay_1")->refunded_minor, 300);
  EXPECT_EQ(store_->Get("pay_1")->state, PaymentState::kPartiallyRefunded);

  // The same key again (a retry, a concurrent twin): nothing changes.
  ASSERT_TRUE(store_->RecordRefund(payment, "rfd_2", "r1", 300, "re_2").ok());
  EXPECT_EQ((*store_->FindRefund("r1"))->refund_id, "rfd_1");
  EXPECT_EQ(store_->Get("pay_1")->refunded_minor, 300);

  // Another key: the amounts add up, whatever the payment value passed says.
  ASSERT_TRUE(store_->RecordRefund(payment, "rfd_3", "r2", 700, "re_3").ok());
  EXPECT_EQ(store_->Get("pay_1")->refunded_minor, 1000);
  EXPECT_EQ(store_->Get("pay_1")->state, PaymentState::kRefunded);
}

TEST_P(PaymentStoreContract, ARefundBeyondTheCapturedAmountIsRefusedAndNotRecorded) {
  Payment payment = Captured("pay_1");
  ASSERT_TRUE(store_->RecordRefund(payment, "rfd_1", "r1", 600, "re_1").ok());
  EXPECT_FALSE(store_->RecordRefund(payment, "rfd_2", "r2", 401, "re_2").ok());
  EXPECT_FALSE(store_->FindRefund("r2")->has_value());
  EXPECT_EQ(store_->Get("pay_1")->refunded_minor, 600);
  EXPECT_EQ(store_->Get("pay_1")->state, PaymentState::kPartiallyRefunded);
}

}  // namespace shop::payments::contract

#endif  // SHOP_SERVICES_PG_ADAPTER_PAYMENT_STORE_CONTRACT_H_
