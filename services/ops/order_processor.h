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

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
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

enum class SagaState { kRunning, kCompensating, kDone };

// An order with what the saga needs beyond the customer-visible fields.
struct OrderRecord {
  shop::v1::Order order;
  std::string payment_method;
  SagaState saga = SagaState::kRunning;
  shop::v1::OrderStatus target = shop::v1::ORDER_STATUS_UNSPECIFIED;  // when compensating
  absl::Status failure;             // the error the caller got (OK when none)
  std::string placement_response;   // serialized Order first returned, when confirmed
  std::string request_hash;
};

class OrderStore {
 public:
  virtual ~OrderStore() = default;
  struct Created {
    OrderRecord record;
    bool created = false;
  };
  // Inserts `order` PENDING/RUNNING with a lease, unless the customer already
  // used the key; then returns the stored record with created = false.
  virtual absl::StatusOr<Created> CreatePending(const shop::v1::Order& order,
                                                const std::string& idempotency_key,
                                                const std::string& request_hash,
                                                const std::string& payment_method,
                                                const std::string& actor) = 0;
  // Writes lines, totals, payment and reservation fields (not the status).
  virtual absl::Status SaveProgress(const shop::v1::Order& order) = 0;
  // Saga → COMPENSATING towards `target`, keeping `failure` (when not OK) for
  // replays. Allowed on a finished saga only towards CANCELLED.
  virtual absl::Status BeginCompensation(const std::string& order_id,
                                         shop::v1::OrderStatus target,
                                         const absl::Status& failure) = 0;
  // Sets the order's status (and every other field) if its status is still
  // `expected` (FAILED_PRECONDITION naming the current status otherwise),
  // with a history row; saga DONE, lease dropped.
  // `notification` (e.g. ORDER_CONFIRMATION), when not empty, is queued in
  // the outbox in the same transaction.
  virtual absl::Status Transition(const shop::v1::Order& order, shop::v1::OrderStatus expected,
                                  const std::string& actor, const std::string& note,
                                  const std::string& notification = "") = 0;
  // Keeps the answer first given to PlaceOrder, to replay it exactly.
  virtual absl::Status SavePlacementResponse(const std::string& order_id,
                                             const std::string& response) = 0;
  virtual absl::Status RecordStep(const std::string& order_id, const std::string& step,
                                  const std::string& state, const std::string& detail) = 0;
  virtual absl::StatusOr<OrderRecord> GetRecord(const std::string& order_id) = 0;
  // Full customer view: lines, totals, tracking, status history.
  virtual absl::StatusOr<shop::v1::Order> Get(const std::string& order_id) = 0;
  virtual absl::StatusOr<OrderPage> List(const std::string& customer_id, int page_size,
                                         const std::string& page_token,
                                         shop::v1::OrderStatus status) = 0;
  // Takes the order's lease if nobody holds it; false when somebody does.
  virtual absl::StatusOr<bool> TryLease(const std::string& order_id) = 0;
  virtual absl::Status DropLease(const std::string& order_id) = 0;
  // Unfinished sagas whose lease ran out (their owner died), leased to the caller.
  virtual absl::StatusOr<std::vector<OrderRecord>> ClaimAbandoned(int limit) = 0;
  // False when the event id is known already; NOT_FOUND for an unknown order.
  virtual absl::StatusOr<bool> RecordPaymentEvent(const std::string& order_id,
                                                  const std::string& event_id,
                                                  const std::string& type,
                                                  const std::string& detail) = 0;
};

class InventoryClient {
 public:
  virtual ~InventoryClient() = default;
  // Read-only: INVALID_ARGUMENT (BadRequest) naming unknown SKUs.
  virtual absl::Status CheckSkusExist(
      const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) = 0;
  virtual absl::StatusOr<shop::v1::Reservation> Reserve(
      const std::string& order_id,
      const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) = 0;
  virtual absl::StatusOr<shop::v1::Reservation> Commit(const std::string& reservation_id) = 0;
  // By reservation id, or by order id when `reservation_id` is empty.
  virtual absl::StatusOr<shop::v1::Reservation> Release(const std::string& reservation_id,
                                                        const std::string& order_id,
                                                        const std::string& reason) = 0;
  virtual absl::StatusOr<shop::v1::Reservation> Restock(const std::string& reservation_id,
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
  // By payment id, or by the authorization's key when `payment_id` is empty.
  virtual absl::StatusOr<shop::v1::Payment> Void(const std::string& payment_id,
                                                 const std::string& authorization_key,
                                                 const std::string& idempotency_key) = 0;
  virtual absl::StatusOr<shop::v1::RefundResponse> Refund(const std::string& payment_id,
                                                          const std::string& idempotency_key,
                                                          const std::string& reason) = 0;
};

class OrderProcessor {
 public:
  OrderProcessor(OrderStore* store, InventoryClient* inventory, PaymentClient* payments,
                 AuditSink* audit, PricingPolicy pricing)
      : store_(store), inventory_(inventory), payments_(payments), audit_(audit),
        pricing_(std::move(pricing)) {}

  // Runs the saga to a final state. OK: the CONFIRMED order. Errors:
  // INVALID_ARGUMENT (nothing stored), FAILED_PRECONDITION OUT_OF_STOCK or a
  // payment decline reason, UNAVAILABLE when a dependency is down. Every
  // error carries ErrorInfo metadata order_id once the order exists. The same
  // key replays the first answer; ABORTED (ORDER_IN_PROGRESS) while running.
  absl::StatusOr<shop::v1::Order> ProcessOrder(const shop::v1::ProcessOrderRequest& request,
                                               const std::string& actor);
  absl::StatusOr<shop::v1::Order> LookupOrder(const std::string& order_id,
                                              const std::string& customer_id);
  absl::StatusOr<OrderPage> ListCustomerOrders(const std::string& customer_id,
                                               int32_t page_size, const std::string& page_token,
                                               shop::v1::OrderStatus status);
  // Refund (or void) and restock, then CANCELLED. Idempotent.
  absl::StatusOr<shop::v1::Order> CancelOrder(const std::string& order_id,
                                              const std::string& customer_id,
                                              const std::string& reason,
                                              const std::string& actor);
  // Staff transitions.
  absl::StatusOr<shop::v1::Order> MarkProcessing(const std::string& order_id,
                                                 const std::string& note,
                                                 const std::string& actor);
  absl::StatusOr<shop::v1::Order> MarkShipped(const std::string& order_id,
                                              const std::string& carrier,
                                              const std::string& tracking_number,
                                              const std::string& actor);
  absl::StatusOr<shop::v1::Order> MarkDelivered(const std::string& order_id,
                                                const std::string& note,
                                                const std::string& actor);

  // Records a late payment outcome (webhook) against its order.
  absl::StatusOr<bool> RecordPaymentEvent(const shop::v1::RecordPaymentEventRequest& request);

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
  absl::Status Compensate(OrderRecord& record, const std::string& actor,
                          const std::string& note);
  // A transient failure after authorization: the saga stays RUNNING for the
  // recovery loop; the caller gets ABORTED (retry with the same key).
  absl::Status LeaveForRecovery(const std::string& order_id, const std::string& step,
                                const absl::Status& error);
  // Gives back stock and money for `order`: release or restock; void or
  // refund. Fills payment status and refund id.
  absl::Status Unwind(shop::v1::Order& order, const std::string& reason);
  absl::StatusOr<shop::v1::Order> Fulfil(const std::string& order_id,
                                         shop::v1::OrderStatus from, shop::v1::OrderStatus to,
                                         const std::string& actor, const std::string& note,
                                         const std::function<void(shop::v1::Order&)>& change);
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
