// PostgreSQL persistence of orders, lines, status history and saga journal.
#ifndef SHOP_SERVICES_OPS_STORE_H_
#define SHOP_SERVICES_OPS_STORE_H_

#include "services/ops/order_processor.h"

namespace shop {
class PgPool;
}

namespace shop::ops {

class PgOrderStore final : public OrderStore {
 public:
  explicit PgOrderStore(PgPool* pool) : pool_(pool) {}
  absl::Status Prepare();

  absl::StatusOr<Created> CreatePending(const shop::v1::Order& order,
                                        const std::string& idempotency_key,
                                        const std::string& request_hash,
                                        const std::string& payment_method,
                                        const std::string& actor) override;
  absl::Status Update(const shop::v1::Order& order, const std::string& actor,
                      const std::string& note, const absl::Status& failure) override;
  absl::Status RecordStep(const std::string& order_id, const std::string& step,
                          const std::string& state, const std::string& detail) override;
  absl::StatusOr<shop::v1::Order> Get(const std::string& order_id) override;
  absl::StatusOr<OrderPage> List(const std::string& customer_id, int page_size,
                                 const std::string& page_token,
                                 shop::v1::OrderStatus status) override;
  absl::Status EnqueueNotification(const std::string& order_id, const std::string& kind) override;

 private:
  PgPool* pool_;
};

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_STORE_H_
