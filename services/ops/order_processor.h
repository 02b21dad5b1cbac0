// The order saga: PENDING → reserve stock → authorize payment → commit stock
// → capture → CONFIRMED, with compensation on every failure. Each step is
// journaled before and after it is taken and every downstream call carries a
// key derived from the order, so a resumed step is never applied twice.
#ifndef SHOP_SERVICES_OPS_ORDER_PROCESSOR_H_
#define SHOP_SERVICES_OPS_ORDER_PROCESSOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/validation.h"
#include "services/ops/pricing.h"
#include "shop/v1/ims.pb.h"
#include "shop/v1/ops.pb.h"
#include "shop/v1/payments.pb.h"
#include "shop/v1/types.pb.h"

namespace shop {
class AuditSink;
}

namespace shop::ops {

struct OrderPage {
  std::vector<shop::v1::Order> orders;
  std::string next_page_token;
};

class OrderStore {
 public:
  virtual ~OrderStore() = default;
  // Inserts `order` (PENDING) unless the customer already used the key; then
  // returns the stored order, its request hash and its stored failure (an OK
  // status when none) with created = false.
  struct Created {
    shop::v1::Order order;
    bool created = false;
    std::string request_hash;
    absl::Status failure;
  };
  virtual absl::StatusOr<Created> CreatePending(const shop::v1::Order& order,
                                                const std::string& idempotency_key,
                                                const std::string& request_hash,
                                                const std::string& payment_method,
                                                const std::string& actor) = 0;
  // Writes the order's state (status, lines, totals, payment, reservation);
  // a status change is appended to the history with `actor` and `note`.
  // `failure` (when not OK) is kept to be replayed to retries.
  virtual absl::Status Update(const shop::v1::Order& order, const std::string& actor,
                              const std::string& note, const absl::Status& failure) = 0;
  virtual absl::Status RecordStep(const std::string& order_id, const std::string& step,
                                  const std::string& state, const std::string& detail) = 0;
  virtual absl::StatusOr<shop::v1::Order> Get(const std::string& order_id) = 0;
  virtual absl::StatusOr<OrderPage> List(const std::string& customer_id, int page_size,
                                         const std::string& page_token,
                                         shop::v1::OrderStatus status) = 0;
  virtual absl::Status EnqueueNotification(const std::string& order_id,
                                           const std::string& kind) = 0;
};

class InventoryClient {
 public:
  virtual ~InventoryClient() = default;
  virtual absl::StatusOr<shop::v1::Reservation> Reserve(
      const std::string& order_id,
      const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) = 0;
  virtual absl::StatusOr<shop::v1::Reservation> Commit(const std::string& reservation_id) = 0;
  virtual absl::StatusOr<shop::v1::Reservation> Release(const std::string& reservation_id,
                                                        const std::string& reason) = 0;
};

class PaymentClient {
 public:
  virtual ~PaymentClient() = default;
  virtual absl::StatusOr<shop::v1::Payment> Authorize(const std::string& order_id,
                                                      const shop::v1::Money& amount,
                                                      const std::string& payment_method,
                                                      const std::string& idempotency_key) = 0;
  virtual absl::StatusOr<shop::v1::Payment> Capture(const std::string& payment_id,
                                                    const std::string& idempotency_key) = 0;
  virtual absl::StatusOr<shop::v1::Payment> Void(const std::string& payment_id,
                                                 const std::string& idempotency_key) = 0;
};

class OrderProcessor {
 public:
  OrderProcessor(OrderStore* store, InventoryClient* inventory, PaymentClient* payments,
                 AuditSink* audit, PricingPolicy pricing)
      : store_(store), inventory_(inventory), payments_(payments), audit_(audit),
        pricing_(std::move(pricing)) {}

  // Runs the whole saga. OK: the CONFIRMED order. Errors: INVALID_ARGUMENT
  // (bad request, nothing stored), FAILED_PRECONDITION OUT_OF_STOCK or a
  // payment decline reason (order FAILED / PAYMENT_FAILED, stock released),
  // UNAVAILABLE when a dependency is down (stock released). Every error
  // carries ErrorInfo metadata order_id once the order exists.
  absl::StatusOr<shop::v1::Order> ProcessOrder(const shop::v1::ProcessOrderRequest& request,
                                               const std::string& actor);
  absl::StatusOr<shop::v1::Order> LookupOrder(const std::string& order_id,
                                              const std::string& customer_id);
  absl::StatusOr<OrderPage> ListCustomerOrders(const std::string& customer_id,
                                               int32_t page_size, const std::string& page_token,
                                               shop::v1::OrderStatus status);

 private:
  absl::StatusOr<shop::v1::Order> RunSaga(shop::v1::Order order, const std::string& payment_method,
                                          const std::string& actor);
  // Ends the saga in `status` with `error` returned to the caller, after
  // releasing the reservation if one is held.
  absl::Status Fail(shop::v1::Order& order, shop::v1::OrderStatus status, absl::Status error,
                    const std::string& actor);
  void Emit(const std::string& name, const shop::v1::Order& order,
            const std::map<std::string, std::string>& attributes = {});

  OrderStore* store_;
  InventoryClient* inventory_;
  PaymentClient* payments_;
  AuditSink* audit_;
  PricingPolicy pricing_;
};

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_ORDER_PROCESSOR_H_
