// PostgreSQL persistence of orders, lines, status history and saga journal.
#ifndef SHOP_SERVICES_OPS_STORE_H_
#define SHOP_SERVICES_OPS_STORE_H_

#include "absl/time/time.h"
#include "services/ops/order_store.h"

namespace shop {
class PostgresPool;
}

namespace shop::ops {

class PostgresOrderStore final : public OrderStore {
 public:
  // `lease` is how long a saga owner may stay silent before the recovery
  // loop considers it dead.
  PostgresOrderStore(PostgresPool* pool, absl::Duration lease) : pool_(pool), lease_(lease) {}
  absl::Status Prepare();

  absl::StatusOr<Created> CreatePending(const shop::v1::Order& order,
                                        const std::string& idempotency_key,
                                        const std::string& request_hash,
                                        const std::string& payment_method_token,
                                        const std::string& actor) override;
  absl::Status SaveProgress(const shop::v1::Order& order) override;
  absl::Status BeginCompensation(const std::string& order_id, shop::v1::OrderStatus target,
                                 const absl::Status& failure) override;
  absl::Status Transition(const shop::v1::Order& order, shop::v1::OrderStatus expected,
                          const std::string& actor, const std::string& note,
                          const std::string& notification) override;
  absl::Status SavePlacementResponse(const std::string& order_id,
                                     const std::string& response) override;
  absl::Status RecordStep(const std::string& order_id, SagaStep step, StepState state,
                          const std::string& detail) override;
  absl::StatusOr<OrderRecord> GetRecord(const std::string& order_id) override;
  absl::StatusOr<shop::v1::Order> Get(const std::string& order_id) override;
  absl::StatusOr<OrderPage> List(const std::string& customer_id, int page_size,
                                 const std::string& page_token,
                                 shop::v1::OrderStatus status) override;
  absl::StatusOr<bool> TryLease(const std::string& order_id) override;
  absl::Status DropLease(const std::string& order_id) override;
  absl::StatusOr<std::vector<OrderRecord>> ClaimAbandoned(int limit) override;
  absl::StatusOr<bool> RecordPaymentEvent(const PaymentEvent& event) override;

 private:
  PostgresPool* pool_;
  absl::Duration lease_;
};

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_STORE_H_
