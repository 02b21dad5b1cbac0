// PostgreSQL persistence of payments, gateway attempts and refunds.
#ifndef SHOP_SERVICES_PG_ADAPTER_STORE_H_
#define SHOP_SERVICES_PG_ADAPTER_STORE_H_

#include "services/pg-adapter/payment_store.h"

namespace shop {
class PostgresPool;
}

namespace shop::payments {

class PostgresPaymentStore final : public PaymentStore {
 public:
  explicit PostgresPaymentStore(PostgresPool* pool) : pool_(pool) {}
  absl::Status Prepare();

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

  // Webhook events (see webhooks.h): stored once; true while not forwarded.
  absl::StatusOr<bool> RecordWebhook(const std::string& event_id, const std::string& type,
                                     const std::string& order_id, const std::string& body);
  absl::Status MarkWebhookForwarded(const std::string& event_id);

 private:
  PostgresPool* pool_;
};

}  // namespace shop::payments

#endif  // SHOP_SERVICES_PG_ADAPTER_STORE_H_
