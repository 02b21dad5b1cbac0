// The port through which the saga stores orders (services/ops/store.h is
// the PostgreSQL implementation; unit tests use a fake that must pass the same
// contract suite, order_store_contract.h).
#ifndef SHOP_SERVICES_OPS_ORDER_STORE_H_
#define SHOP_SERVICES_OPS_ORDER_STORE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/ops/saga_journal.h"
#include "shop/v1/types.pb.h"

namespace shop::ops {

struct OrderPage {
  std::vector<shop::v1::Order> orders;
  std::string next_page_token;
};

enum class SagaState { kRunning, kCompensating, kDone };

// An order with what the saga needs beyond the customer-visible fields.
struct OrderRecord {
  shop::v1::Order order;
  std::string payment_method_token;
  SagaState saga = SagaState::kRunning;
  shop::v1::OrderStatus target = shop::v1::ORDER_STATUS_UNSPECIFIED;  // when compensating
  absl::Status failure_status;     // the error the caller got (OK when none)
  std::string placement_response;  // serialized Order first returned, when confirmed
  std::string request_hash;
};

// A payment outcome the gateway reported later (a webhook), once per
// gateway event.
struct PaymentEvent {
  std::string order_id;
  std::string gateway_event_id;
  std::string event_type;  // the gateway's, e.g. "charge.dispute.created"
  std::string detail;
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
                                                const std::string& payment_method_token,
                                                const std::string& actor) = 0;
  // Writes lines, totals, payment and reservation fields (not the status).
  virtual absl::Status SaveProgress(const shop::v1::Order& order) = 0;
  // Saga → COMPENSATING towards `target`, keeping `failure` (when not OK) for
  // replays. Allowed on a finished saga only towards CANCELLED.
  virtual absl::Status BeginCompensation(const std::string& order_id, shop::v1::OrderStatus target,
                                         const absl::Status& failure) = 0;
  // Sets the order's status (and every other field) if its status is still
  // `expected` (FAILED_PRECONDITION naming the current status otherwise),
  // with a history row; saga DONE, lease dropped.
  // `notification` (e.g. ORDER_CONFIRMATION), when not empty, is queued in
  // the outbox in the same transaction.
  virtual absl::Status Transition(const shop::v1::Order& order, shop::v1::OrderStatus expected,
                                  const std::string& actor, const std::string& note,
                                  const std::string& notification) = 0;
  // Keeps the answer first given to PlaceOrder, to replay it exactly.
  virtual absl::Status SavePlacementResponse(const std::string& order_id,
                                             const std::string& response) = 0;
  // Journals a saga step's progress (saga_steps) and renews the lease.
  virtual absl::Status RecordStep(const std::string& order_id, SagaStep step, StepState state,
                                  const std::string& detail) = 0;
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
  virtual absl::StatusOr<bool> RecordPaymentEvent(const PaymentEvent& event) = 0;
};

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_ORDER_STORE_H_
