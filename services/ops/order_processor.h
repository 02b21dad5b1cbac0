// The order saga: PENDING → reserve stock → authorize payment → commit stock
// → capture → CONFIRMED. Each step is journaled before and after it is taken
// and each downstream call is idempotent (one reservation per order, payment
// keys derived from the order), so any step can be run again: after a crash
// the recovery loop simply resumes the saga. A failure turns the saga into
// compensation (release or restock the stock, void or refund the payment);
// the order reaches its final status only once compensation succeeded. The
// same unwinding cancels confirmed orders.
#ifndef SHOP_SERVICES_OPS_ORDER_PROCESSOR_H_
#define SHOP_SERVICES_OPS_ORDER_PROCESSOR_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/order_request.h"
#include "services/ops/inventory_client.h"
#include "services/ops/order_store.h"
#include "services/ops/payment_client.h"
#include "services/ops/pricing.h"
#include "shop/v1/types.pb.h"

namespace shop {
class AuditSink;
}

namespace shop::ops {

class OrderProcessor {
 public:
  // `clock` bounds how long one RecoverAbandoned call works.
  OrderProcessor(OrderStore* store, InventoryClient* inventory, PaymentClient* payments,
                 AuditSink* audit, PricingPolicy pricing, Clock* clock = Clock::Real())
      : store_(store),
        inventory_(inventory),
        payments_(payments),
        audit_(audit),
        pricing_(std::move(pricing)),
        clock_(clock) {}

  // Runs the saga to a final state. OK: the CONFIRMED order. Errors:
  // INVALID_ARGUMENT (nothing stored), FAILED_PRECONDITION OUT_OF_STOCK or a
  // payment decline reason, UNAVAILABLE when a dependency is down. Every
  // error carries ErrorInfo metadata order_id once the order exists. The same
  // key replays the first answer; ABORTED (ORDER_IN_PROGRESS) while running.
  absl::StatusOr<shop::v1::Order> PlaceOrder(const OrderRequest& request, const std::string& actor);
  absl::StatusOr<shop::v1::Order> GetOrder(const std::string& order_id,
                                           const std::string& customer_id);
  absl::StatusOr<OrderPage> ListOrders(const std::string& customer_id, int32_t page_size,
                                       const std::string& page_token, shop::v1::OrderStatus status);
  // Refund (or void) and restock, then CANCELLED. Idempotent.
  absl::StatusOr<shop::v1::Order> CancelOrder(const std::string& order_id,
                                              const std::string& customer_id,
                                              const std::string& reason, const std::string& actor);
  // Staff transitions.
  absl::StatusOr<shop::v1::Order> StartProcessing(const std::string& order_id,
                                                  const std::string& note,
                                                  const std::string& actor);
  absl::StatusOr<shop::v1::Order> ShipOrder(const std::string& order_id, const std::string& carrier,
                                            const std::string& tracking_number,
                                            const std::string& actor);
  absl::StatusOr<shop::v1::Order> DeliverOrder(const std::string& order_id, const std::string& note,
                                               const std::string& actor);

  // Records a late payment outcome (webhook) against its order.
  // False when this gateway event had been recorded before.
  absl::StatusOr<bool> RecordPaymentEvent(const PaymentEvent& event);

  // Resumes or compensates every saga whose owner died (lease expired).
  // Returns how many orders it finished.
  int RecoverAbandoned();

 private:
  absl::StatusOr<shop::v1::Order> Resume(OrderRecord record, const std::string& actor);
  absl::StatusOr<shop::v1::Order> RunForward(OrderRecord record, const std::string& actor);
  // Records the decision to fail and compensates; returns `error` to the
  // caller (or the compensation's error if it could not finish).
  absl::Status Fail(OrderRecord& record, shop::v1::OrderStatus target, absl::Status error,
                    const std::string& actor);
  // Unwinds and moves the order to record.target (a failure, or CANCELLED)
  // from whatever status it has; `note` goes to the status history.
  absl::Status Compensate(OrderRecord& record, const std::string& actor, const std::string& note);
  // A transient failure of `step` after authorization (journaled already):
  // the saga stays RUNNING for the recovery loop; the caller gets ABORTED
  // (retry with the same key).
  absl::Status LeaveForRecovery(const std::string& order_id, SagaStep step);
  // Gives back stock and money for `order`: release or restock; void or
  // refund. Fills payment status and refund id.
  absl::Status Unwind(shop::v1::Order& order, const std::string& reason);
  absl::StatusOr<shop::v1::Order> Fulfil(const std::string& order_id, shop::v1::OrderStatus from,
                                         shop::v1::OrderStatus to, const std::string& actor,
                                         const std::string& note,
                                         const std::function<void(shop::v1::Order&)>& change);
  void Emit(const std::string& name, const shop::v1::Order& order,
            const std::map<std::string, std::string>& attributes = {});

  OrderStore* store_;
  InventoryClient* inventory_;
  PaymentClient* payments_;
  AuditSink* audit_;
  PricingPolicy pricing_;
  Clock* clock_;
};

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_ORDER_PROCESSOR_H_
