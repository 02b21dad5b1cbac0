// An in-memory OrderStore for the saga's unit tests. It keeps the PostgreSQL
// store's rules, and services/ops/order_store_contract.h proves it: the same
// suite runs against both (order_store_fake_test.cc here,
// tests/order_store_postgres_test.cc on a real PostgreSQL).
#ifndef SHOP_SERVICES_OPS_FAKE_ORDER_STORE_H_
#define SHOP_SERVICES_OPS_FAKE_ORDER_STORE_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "services/ops/order_store.h"

namespace shop::ops {

class FakeOrderStore final : public OrderStore {
 public:
  struct Row {
    OrderRecord record;
    bool leased = false;
    int64_t sequence = 0;  // creation order (newest first in List)
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
  std::map<std::string, std::string> keys;  // "<customer>/<key>" -> order id
  std::map<std::string, Row> rows;
  std::vector<std::string> steps;          // "<step>:<state>", in order
  std::vector<std::string> notifications;  // "<kind>:<order id>"
  std::set<std::string> events;            // gateway event ids

 private:
  int64_t next_sequence_ = 0;
};

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_FAKE_ORDER_STORE_H_
