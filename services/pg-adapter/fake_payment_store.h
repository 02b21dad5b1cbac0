// An in-memory PaymentStore for unit tests. It keeps the PostgreSQL store's
// rules, and services/pg-adapter/payment_store_contract.h proves it: the same
// suite runs against both (payment_store_fake_test.cc here,
// tests/payment_store_postgres_test.cc on a real PostgreSQL).
#ifndef SHOP_SERVICES_PG_ADAPTER_FAKE_PAYMENT_STORE_H_
#define SHOP_SERVICES_PG_ADAPTER_FAKE_PAYMENT_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "services/pg-adapter/payment_store.h"

namespace shop::payments {

class FakePaymentStore final : public PaymentStore {
 public:
  absl::StatusOr<Payment> CreateOrGet(const Payment& payment) override;
  absl::StatusOr<Payment> Get(const std::string& payment_id) override;
  absl::StatusOr<Payment> GetByKey(const std::string& idempotency_key) override;
  absl::Status Update(const Payment& payment) override;
  absl::StatusOr<int64_t> BeginAttempt(const std::string& payment_id, Operation op,
                                       const std::string& gateway_key, int try_number) override;
  absl::Status FinishAttempt(int64_t attempt_id, int http_status, const std::string& outcome,
                             const std::string& detail) override;
  absl::StatusOr<std::optional<RecordedRefund>> FindRefund(
      const std::string& idempotency_key) override;
  absl::Status RecordRefund(const Payment& payment, const std::string& refund_id,
                            const std::string& idempotency_key, int64_t amount_minor,
                            const std::string& gateway_refund_id) override;

  // What tests look at (and may seed).
  std::map<std::string, Payment> payments;
  std::vector<std::string> gateway_keys;          // of every attempt, in order
  std::vector<std::string> outcomes;              // of every finished attempt, in order
  std::map<std::string, RecordedRefund> refunds;  // by idempotency key
};

}  // namespace shop::payments

#endif  // SHOP_SERVICES_PG_ADAPTER_FAKE_PAYMENT_STORE_H_
