#include "services/ops/fake_order_store.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/ops/lifecycle.h"

namespace shop::ops {
namespace {

using shop::v1::Order;
using shop::v1::OrderStatus;

absl::Status NotFound(const std::string& order_id) {
  return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
}

shop::v1::StatusChange Change(OrderStatus status, const std::string& actor,
                              const std::string& note) {
  shop::v1::StatusChange change;
  change.set_status(status);
  change.set_actor(actor);
  change.set_note(note);
  return change;
}

}  // namespace

absl::StatusOr<OrderStore::Created> FakeOrderStore::CreatePending(
    const Order& order, const std::string& idempotency_key, const std::string& request_hash,
    const std::string& payment_method_token, const std::string& actor) {
  auto it = keys.find(order.customer_id() + "/" + idempotency_key);
  if (it != keys.end()) return Created{rows[it->second].record, false};
  keys[order.customer_id() + "/" + idempotency_key] = order.order_id();
  Row& row = rows[order.order_id()];
  row.record.order = order;
  row.record.order.set_status(shop::v1::ORDER_STATUS_PENDING);
  row.record.payment_method_token = payment_method_token;
  row.record.request_hash = request_hash;
  row.leased = true;  // the creator runs the saga
  row.sequence = ++next_sequence_;
  row.history.push_back(Change(shop::v1::ORDER_STATUS_PENDING, actor, "order received"));
  return Created{row.record, true};
}

absl::Status FakeOrderStore::SaveProgress(const Order& order) {
  auto it = rows.find(order.order_id());
  if (it == rows.end()) return absl::OkStatus();  // as UPDATE ... WHERE: nothing matched
  const OrderStatus status = it->second.record.order.status();
  it->second.record.order = order;
  it->second.record.order.set_status(status);  // only Transition changes the status
  return absl::OkStatus();
}

absl::Status FakeOrderStore::BeginCompensation(const std::string& order_id, OrderStatus target,
                                               const absl::Status& failure) {
  auto it = rows.find(order_id);
  if (it == rows.end()) return absl::OkStatus();
  OrderRecord& r = it->second.record;
  // A finished saga is only ever reopened to cancel it.
  if (r.saga == SagaState::kDone && target != shop::v1::ORDER_STATUS_CANCELLED) {
    return absl::OkStatus();
  }
  r.saga = SagaState::kCompensating;
  r.target = target;
  if (!failure.ok()) r.failure_status = failure;
  return absl::OkStatus();
}

absl::Status FakeOrderStore::Transition(const Order& order, OrderStatus expected,
                                        const std::string& actor, const std::string& note,
                                        const std::string& notification) {
  auto it = rows.find(order.order_id());
  if (it == rows.end()) return NotFound(order.order_id());
  Row& row = it->second;
  if (row.record.order.status() != expected) {
    return IllegalTransition(order.order_id(), row.record.order.status(), order.status());
  }
  row.record.order = order;
  row.record.saga = SagaState::kDone;
  row.leased = false;
  row.history.push_back(Change(order.status(), actor, note));
  if (!notification.empty()) notifications.push_back(notification + ":" + order.order_id());
  return absl::OkStatus();
}

absl::Status FakeOrderStore::SavePlacementResponse(const std::string& order_id,
                                                   const std::string& response) {
  auto it = rows.find(order_id);
  // The first answer is kept; a later one never replaces it.
  if (it != rows.end() && it->second.record.placement_response.empty()) {
    it->second.record.placement_response = response;
  }
  return absl::OkStatus();
}

absl::Status FakeOrderStore::RecordStep(const std::string&, SagaStep step, StepState state,
                                        const std::string&) {
  steps.push_back(absl::StrCat(SagaStepName(step), ":", StepStateName(state)));
  return absl::OkStatus();
}

absl::StatusOr<OrderRecord> FakeOrderStore::GetRecord(const std::string& order_id) {
  auto it = rows.find(order_id);
  if (it == rows.end()) return NotFound(order_id);
  return it->second.record;
}

absl::StatusOr<Order> FakeOrderStore::Get(const std::string& order_id) {
  auto it = rows.find(order_id);
  if (it == rows.end()) return NotFound(order_id);
  Order order = it->second.record.order;
  for (const auto& change : it->second.history) *order.add_status_history() = change;
  return order;
}

absl::StatusOr<OrderPage> FakeOrderStore::List(const std::string& customer_id, int page_size,
                                               const std::string& page_token, OrderStatus status) {
  // The token is the creation sequence of the last order shown.
  int64_t before = INT64_MAX;
  if (!page_token.empty() && !absl::SimpleAtoi(page_token, &before)) {
    return absl::InvalidArgumentError("page_token is not a token this service issued");
  }
  std::vector<const Row*> mine;
  for (const auto& [id, row] : rows) {
    if (row.record.order.customer_id() != customer_id || row.sequence >= before) continue;
    if (status != shop::v1::ORDER_STATUS_UNSPECIFIED && row.record.order.status() != status) {
      continue;
    }
    mine.push_back(&row);
  }
  std::sort(mine.begin(), mine.end(),
            [](const Row* a, const Row* b) { return a->sequence > b->sequence; });
  OrderPage page;
  for (size_t i = 0; i < mine.size(); ++i) {
    if (static_cast<int>(i) == page_size) {
      page.next_page_token = absl::StrCat(mine[i - 1]->sequence);
      break;
    }
    page.orders.push_back(mine[i]->record.order);
  }
  return page;
}

absl::StatusOr<bool> FakeOrderStore::TryLease(const std::string& order_id) {
  auto it = rows.find(order_id);
  if (it == rows.end() || it->second.leased) return false;
  it->second.leased = true;
  return true;
}

absl::Status FakeOrderStore::DropLease(const std::string& order_id) {
  auto it = rows.find(order_id);
  if (it != rows.end()) it->second.leased = false;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<OrderRecord>> FakeOrderStore::ClaimAbandoned(int limit) {
  std::vector<OrderRecord> out;
  for (auto& [id, row] : rows) {
    if (static_cast<int>(out.size()) == limit) break;
    if (row.record.saga == SagaState::kDone || row.leased) continue;
    row.leased = true;
    out.push_back(row.record);
  }
  return out;
}

absl::StatusOr<bool> FakeOrderStore::RecordPaymentEvent(const PaymentEvent& event) {
  if (rows.count(event.order_id) == 0) return NotFound(event.order_id);
  return events.insert(event.gateway_event_id).second;
}

void FakeOrderStore::ExpireLeases() {
  for (auto& [id, row] : rows) row.leased = false;
}

}  // namespace shop::ops
