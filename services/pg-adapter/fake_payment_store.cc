#include "services/pg-adapter/fake_payment_store.h"

#include "absl/strings/str_cat.h"

namespace shop::payments {

absl::StatusOr<Payment> FakePaymentStore::CreateOrGet(const Payment& payment) {
  for (auto& [id, p] : payments) {
    if (p.idempotency_key == payment.idempotency_key) return p;
  }
  // As the table's INSERT: what the caller asked for, nothing of an outcome.
  Payment stored;
  stored.payment_id = payment.payment_id;
  stored.order_id = payment.order_id;
  stored.idempotency_key = payment.idempotency_key;
  stored.state = PaymentState::kPending;
  stored.currency = payment.currency;
  stored.amount_minor = payment.amount_minor;
  stored.payment_method_token = payment.payment_method_token;
  payments[stored.payment_id] = stored;
  return stored;
}

absl::StatusOr<Payment> FakePaymentStore::Get(const std::string& payment_id) {
  auto it = payments.find(payment_id);
  if (it == payments.end())
    return absl::NotFoundError(absl::StrCat("payment ", payment_id, " not found"));
  return it->second;
}

absl::StatusOr<Payment> FakePaymentStore::GetByKey(const std::string& idempotency_key) {
  for (auto& [id, p] : payments) {
    if (p.idempotency_key == idempotency_key) return p;
  }
  return absl::NotFoundError(absl::StrCat("no payment was authorized with key ", idempotency_key));
}

absl::Status FakePaymentStore::Update(const Payment& payment) {
  auto it = payments.find(payment.payment_id);
  if (it == payments.end()) return absl::OkStatus();  // as UPDATE ... WHERE: nothing matched
  // Only the outcome changes; what was asked for is fixed at creation.
  Payment& stored = it->second;
  stored.state = payment.state;
  stored.captured_minor = payment.captured_minor;
  stored.refunded_minor = payment.refunded_minor;
  stored.gateway_intent_id = payment.gateway_intent_id;
  stored.decline_code = payment.decline_code;
  stored.failure_body = payment.failure_body;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> FakePaymentStore::BeginAttempt(const std::string& payment_id, Operation,
                                                       const std::string& gateway_key, int) {
  if (payments.count(payment_id) == 0) {
    return absl::InternalError(absl::StrCat("attempt of unknown payment ", payment_id));
  }
  gateway_keys.push_back(gateway_key);
  return static_cast<int64_t>(gateway_keys.size());
}

absl::Status FakePaymentStore::FinishAttempt(int64_t, int, const std::string& outcome,
                                             const std::string&) {
  outcomes.push_back(outcome);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<RecordedRefund>> FakePaymentStore::FindRefund(
    const std::string& idempotency_key) {
  auto it = refunds.find(idempotency_key);
  if (it == refunds.end()) return std::optional<RecordedRefund>();
  return std::optional<RecordedRefund>(it->second);
}

absl::Status FakePaymentStore::RecordRefund(const Payment& payment, const std::string& refund_id,
                                            const std::string& idempotency_key,
                                            int64_t amount_minor, const std::string&) {
  if (refunds.count(idempotency_key) > 0) return absl::OkStatus();  // a twin recorded it
  auto it = payments.find(payment.payment_id);
  if (it == payments.end() ||
      it->second.refunded_minor + amount_minor > it->second.captured_minor) {
    return absl::InternalError("refund exceeds the captured amount; refund not recorded");
  }
  refunds[idempotency_key] = RecordedRefund{refund_id, amount_minor};
  Payment& stored = it->second;
  stored.refunded_minor += amount_minor;  // relative: concurrent refunds add up
  stored.state = stored.refunded_minor == stored.captured_minor ? PaymentState::kRefunded
                                                                : PaymentState::kPartiallyRefunded;
  return absl::OkStatus();
}

}  // namespace shop::payments
