#include "services/ops/fake_order_store.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/money.h"
#include "core/status.h"
#include "services/ops/lifecycle.h"

namespace shop::ops {
namespace {

using shop::v1::Order;
using shop::v1::OrderStatus;
using Row = FakeOrderStore::Row;

absl::Status NotFound(const std::string& order_id) {
  return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
}

// clock_timestamp() as the PostgreSQL store reads it back: in microseconds.
google::protobuf::Timestamp Now() {
  const int64_t micros = absl::ToUnixMicros(absl::Now());
  google::protobuf::Timestamp now;
  now.set_seconds(micros / 1'000'000);
  now.set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1'000);
  return now;
}

shop::v1::StatusChange Change(OrderStatus status, const std::string& actor,
                              const std::string& note) {
  shop::v1::StatusChange change;
  change.set_status(status);
  *change.mutable_change_time() = Now();
  change.set_actor(actor);
  change.set_note(note);
  return change;
}

void SetAmount(const std::string& currency, const shop::v1::Money& amount, shop::v1::Money* out) {
  out->set_currency_code(currency);
  out->set_units(amount.units());
  out->set_nanos(amount.nanos());
}

// The lines' prices and tracking as the PostgreSQL store reads them: prices
// in the order's one currency (none without it), line_total derived from
// them rather than stored, tracking only when there is a carrier.
void ShowDerivedFields(Row& row) {
  Order& order = row.record.order;
  const std::string currency = order.totals().grand_total().currency_code();
  for (int i = 0; i < order.lines_size(); ++i) {
    shop::v1::OrderLine* line = order.mutable_lines(i);
    line->clear_unit_price();
    line->clear_line_total();
    if (currency.empty()) continue;
    SetAmount(currency, row.line_prices[i], line->mutable_unit_price());
    // The real store throws (INTERNAL) on a price it cannot multiply; such a
    // price is a caller's bug the fake does not model: it shows no total.
    absl::StatusOr<Money> unit = MoneyFromProto(line->unit_price());
    if (!unit.ok()) continue;
    absl::StatusOr<Money> total = MultiplyMoney(*unit, line->quantity());
    if (total.ok()) MoneyToProto(*total, line->mutable_line_total());
  }
  if (order.tracking().carrier().empty()) {
    order.clear_tracking();
    return;
  }
  shop::v1::Tracking* tracking = order.mutable_tracking();
  tracking->clear_ship_time();
  tracking->clear_delivery_time();
  if (row.shipped_at) *tracking->mutable_ship_time() = *row.shipped_at;
  if (row.delivered_at) *tracking->mutable_delivery_time() = *row.delivered_at;
}

// What the PostgreSQL store's WriteFields keeps of `from`: totals (in the
// grand total's currency), payment, reservation, failure reason, refund,
// carrier and tracking number, and the name and unit price of the lines the
// order was created with (by position). Never the status, the customer, the
// addresses, the SKUs, quantities or number of lines, nor the times. (`from`
// is a copy: a test may pass the stored order itself.)
// NOLINTNEXTLINE(performance-unnecessary-value-param): the copy is the point (aliasing).
void WriteFields(Order from, int64_t tick, Row& row) {
  Order& stored = row.record.order;
  const std::string& currency = from.totals().grand_total().currency_code();
  stored.clear_totals();
  if (!currency.empty()) {
    shop::v1::OrderTotals* totals = stored.mutable_totals();
    SetAmount(currency, from.totals().subtotal(), totals->mutable_subtotal());
    SetAmount(currency, from.totals().tax(), totals->mutable_tax());
    SetAmount(currency, from.totals().shipping(), totals->mutable_shipping());
    SetAmount(currency, from.totals().grand_total(), totals->mutable_grand_total());
  }
  stored.set_payment_status(from.payment_status());
  stored.set_payment_id(from.payment_id());
  stored.set_reservation_id(from.reservation_id());
  stored.set_failure_reason(from.failure_reason());
  stored.set_refund_id(from.refund_id());
  stored.mutable_tracking()->set_carrier(from.tracking().carrier());
  stored.mutable_tracking()->set_tracking_number(from.tracking().tracking_number());
  row.line_prices.resize(stored.lines_size());
  for (int i = 0; i < stored.lines_size() && i < from.lines_size(); ++i) {
    stored.mutable_lines(i)->set_name(from.lines(i).name());
    row.line_prices[i] = from.lines(i).unit_price();
  }
  *stored.mutable_update_time() = Now();
  row.touched = tick;
  ShowDerivedFields(row);
}

}  // namespace

absl::StatusOr<OrderStore::Created> FakeOrderStore::CreatePending(
    const Order& order, const std::string& idempotency_key, const std::string& request_hash,
    const std::string& payment_method_token, const std::string& actor) {
  auto key = std::make_pair(order.customer_id(), idempotency_key);
  auto it = keys.find(key);
  if (it != keys.end()) return Created{rows[it->second].record, false};
  // The key is new but the id is not: the real INSERT's primary key refuses
  // it, and the pool reports the exception as INTERNAL.
  if (rows.count(order.order_id()) != 0) {
    return absl::InternalError(
        absl::StrCat("database error: duplicate key value violates unique constraint "
                     "\"orders_pkey\" (order_id ",
                     order.order_id(), ")"));
  }
  keys[key] = order.order_id();
  Row& row = rows[order.order_id()];
  // Only what the real INSERT stores: no prices, totals, payment or
  // reservation yet, whatever the caller's order carried; status PENDING.
  Order& stored = row.record.order;
  stored.set_order_id(order.order_id());
  stored.set_customer_id(order.customer_id());
  stored.set_status(shop::v1::ORDER_STATUS_PENDING);
  for (const auto& line : order.lines()) {
    shop::v1::OrderLine* kept = stored.add_lines();
    kept->set_sku(line.sku());
    kept->set_quantity(line.quantity());
  }
  row.line_prices.resize(order.lines_size());
  *stored.mutable_shipping_address() = order.shipping_address();
  *stored.mutable_billing_address() = order.billing_address();
  *stored.mutable_create_time() = Now();
  *stored.mutable_update_time() = stored.create_time();
  row.record.payment_method_token = payment_method_token;
  row.record.request_hash = request_hash;
  row.leased = true;  // the creator runs the saga
  row.sequence = Tick();
  row.touched = row.sequence;
  row.history.push_back(Change(shop::v1::ORDER_STATUS_PENDING, actor, "order received"));
  return Created{row.record, true};
}

absl::Status FakeOrderStore::SaveProgress(const Order& order) {
  auto it = rows.find(order.order_id());
  if (it == rows.end()) return absl::OkStatus();  // as UPDATE ... WHERE: nothing matched
  WriteFields(order, Tick(), it->second);         // only Transition changes the status
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
  *r.order.mutable_update_time() = Now();
  it->second.touched = Tick();
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
  if (order.status() == shop::v1::ORDER_STATUS_SHIPPED) row.shipped_at = Now();
  if (order.status() == shop::v1::ORDER_STATUS_DELIVERED) row.delivered_at = Now();
  WriteFields(order, Tick(), row);
  row.record.order.set_status(order.status());
  row.record.saga = SagaState::kDone;
  row.leased = false;
  row.history.push_back(Change(order.status(), actor, note));
  if (!notification.empty()) notifications.push_back(notification + ":" + order.order_id());
  return absl::OkStatus();
}

absl::Status FakeOrderStore::SavePlacementResponse(const std::string& order_id,
                                                   const std::string& response) {
  auto it = rows.find(order_id);
  // The first answer is kept, even an empty one; a later one never replaces it.
  if (it != rows.end() && !it->second.placement_saved) {
    it->second.record.placement_response = response;
    it->second.placement_saved = true;
  }
  return absl::OkStatus();
}

absl::Status FakeOrderStore::RecordStep(const std::string& order_id, SagaStep step, StepState state,
                                        const std::string&) {
  // saga_steps.order_id references orders: the real INSERT fails, and the
  // pool reports the exception as INTERNAL. The lease is renewed only when
  // held, which a fake without time need not model.
  if (rows.count(order_id) == 0) {
    return absl::InternalError(absl::StrCat(
        "database error: saga_steps violates foreign key constraint (order ", order_id, ")"));
  }
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
    // The real store's answer, word for word.
    FieldViolations violations;
    violations.Add("page_token", "is not a token this service issued");
    return violations.ToStatus();
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
  // The sagas that waited longest first (ORDER BY updated_at): after an
  // outage the oldest are resumed before newer ones.
  std::vector<Row*> waiting;
  for (auto& [id, row] : rows) {
    if (row.record.saga != SagaState::kDone && !row.leased) waiting.push_back(&row);
  }
  std::sort(waiting.begin(), waiting.end(),
            [](const Row* a, const Row* b) { return a->touched < b->touched; });
  std::vector<OrderRecord> out;
  for (Row* row : waiting) {
    if (static_cast<int>(out.size()) >= limit) break;
    row->leased = true;
    out.push_back(row->record);
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
