// An in-memory OrderStore for the saga's unit tests. It keeps the PostgreSQL
// store's rules, and services/ops/order_store_contract.h proves it: the same
// suite runs against both (order_store_fake_test.cc here,
// tests/order_store_postgres_test.cc on a real PostgreSQL).
#ifndef SHOP_SERVICES_OPS_FAKE_ORDER_STORE_H_
#define SHOP_SERVICES_OPS_FAKE_ORDER_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "services/ops/order_store.h"

namespace shop::ops {

class FakeOrderStore final : public OrderStore {
 public:
  // One order as the PostgreSQL store holds it: `record` is what GetRecord
  // reads back; the other fields stand for columns that shape that view.
  struct Row {
    OrderRecord record;
    bool leased = false;
    int64_t sequence = 0;  // creation order (created_at: newest first in List)
    int64_t touched = 0;   // when updated_at last moved (ClaimAbandoned: oldest first)
    // placement_response IS NOT NULL: even an empty first answer is kept.
    bool placement_saved = false;
    // order_lines' price columns, which have no currency of their own: a line
    // shows a price only while the order has one (record.order.lines[i]).
    std::vector<shop::v1::Money> line_prices;
    // Set by transitions to SHIPPED / DELIVERED; shown with a carrier only.
    std::optional<google::protobuf::Timestamp> shipped_at;
    std::optional<google::protobuf::Timestamp> delivered_at;
    std::vector<shop::v1::StatusChange> history;
  };

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

  // What a crash does to leases: they run out.
  void ExpireLeases();
  // The one order of a test that placed one.
  const OrderRecord& Only() const { return rows.begin()->second.record; }

  // What tests look at.
  // (customer, idempotency key) -> order id. A pair, not a joined string:
  // ids may contain any printable character, so "a/b"+"c" and "a"+"b/c" differ.
  std::map<std::pair<std::string, std::string>, std::string> keys;
  std::map<std::string, Row> rows;
  std::vector<std::string> steps;          // "<step>:<state>", in order
  std::vector<std::string> notifications;  // "<kind>:<order id>"
  std::set<std::string> events;            // gateway event ids

 private:
  // A logical clock for Row::sequence and Row::touched: wall-clock times may
  // tie, and List and ClaimAbandoned need a strict order.
  int64_t Tick() { return ++ticks_; }

  int64_t ticks_ = 0;
};

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_FAKE_ORDER_STORE_H_
