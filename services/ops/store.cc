#include "services/ops/store.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <stdexcept>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/money.h"
#include "core/postgres/pool.h"
#include "core/status.h"
#include "core/validation.h"
#include "ops_migrations.h"
#include "services/ops/lifecycle.h"

namespace shop::ops {
namespace {

using google::protobuf::util::TimeUtil;
using shop::v1::Order;

shop::v1::OrderStatus ParseStatus(const std::string& name) {
  shop::v1::OrderStatus status = shop::v1::ORDER_STATUS_UNSPECIFIED;
  shop::v1::OrderStatus_Parse("ORDER_STATUS_" + name, &status);
  return status;
}

std::string PaymentName(shop::v1::PaymentStatus status) {
  if (status == shop::v1::PAYMENT_STATUS_UNSPECIFIED) return "";
  return shop::v1::PaymentStatus_Name(status).substr(sizeof("PAYMENT_STATUS_") - 1);
}

shop::v1::PaymentStatus ParsePayment(const std::string& name) {
  shop::v1::PaymentStatus status = shop::v1::PAYMENT_STATUS_UNSPECIFIED;
  if (!name.empty()) shop::v1::PaymentStatus_Parse("PAYMENT_STATUS_" + name, &status);
  return status;
}

SagaState ParseSaga(const std::string& name) {
  if (name == "COMPENSATING") return SagaState::kCompensating;
  if (name == "DONE") return SagaState::kDone;
  return SagaState::kRunning;
}

// Addresses are stored as JSON. Neither direction may fail silently: an
// address that cannot be written or read back would become an empty one. The
// exception ends the transaction, which the pool turns into INTERNAL.
std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    throw std::runtime_error(
        absl::StrCat("cannot store ", message.GetTypeName(), ": ", status.ToString()));
  }
  return json;
}

void FromJson(const std::string& json, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(json, message, options);
  if (!status.ok()) {
    throw std::runtime_error(
        absl::StrCat("stored ", message->GetTypeName(), " is corrupt: ", status.ToString()));
  }
}

void SetMoney(const std::string& currency, int64_t units, int32_t nanos, shop::v1::Money* out) {
  out->set_currency_code(currency);
  out->set_units(units);
  out->set_nanos(nanos);
}

std::string Micros(const char* column) {
  return absl::StrCat("(extract(epoch from ", column, ") * 1000000)::bigint");
}

const std::string& OrderColumns() {
  static const std::string* columns = new std::string(absl::StrCat(
      "order_id, customer_id, status, coalesce(currency, ''), subtotal_units, subtotal_nanos, "
      "tax_units, tax_nanos, shipping_units, shipping_nanos, total_units, total_nanos, "
      "shipping_address::text, billing_address::text, coalesce(payment_status, ''), "
      "coalesce(payment_id, ''), coalesce(reservation_id, ''), coalesce(failure_reason, ''), ",
      Micros("created_at"), ", ", Micros("updated_at"),
      ", coalesce(refund_id, ''), "
      "coalesce(carrier, ''), coalesce(tracking_number, ''), ",
      Micros("shipped_at"), ", ", Micros("delivered_at"),
      ", "
      // The saga's own columns follow (index 25...).
      "request_hash, payment_method_token, saga_state, coalesce(target_status, ''), "
      "failure_status, "
      "placement_response"));
  return *columns;
}

// Fills an Order from a row of OrderColumns() and its lines (and, with
// `history`, its status history).
Order OrderFromRow(pqxx::work& w, const pqxx::row& row, bool history) {
  Order order;
  order.set_order_id(row[0].as<std::string>());
  order.set_customer_id(row[1].as<std::string>());
  order.set_status(ParseStatus(row[2].as<std::string>()));
  std::string currency = row[3].as<std::string>();
  if (!currency.empty()) {
    auto* totals = order.mutable_totals();
    SetMoney(currency, row[4].as<int64_t>(), row[5].as<int32_t>(), totals->mutable_subtotal());
    SetMoney(currency, row[6].as<int64_t>(), row[7].as<int32_t>(), totals->mutable_tax());
    SetMoney(currency, row[8].as<int64_t>(), row[9].as<int32_t>(), totals->mutable_shipping());
    SetMoney(currency, row[10].as<int64_t>(), row[11].as<int32_t>(), totals->mutable_grand_total());
  }
  FromJson(row[12].as<std::string>(), order.mutable_shipping_address());
  FromJson(row[13].as<std::string>(), order.mutable_billing_address());
  order.set_payment_status(ParsePayment(row[14].as<std::string>()));
  order.set_payment_id(row[15].as<std::string>());
  order.set_reservation_id(row[16].as<std::string>());
  order.set_failure_reason(row[17].as<std::string>());
  *order.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[18].as<int64_t>());
  *order.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row[19].as<int64_t>());
  order.set_refund_id(row[20].as<std::string>());
  if (!row[21].as<std::string>().empty()) {
    auto* tracking = order.mutable_tracking();
    tracking->set_carrier(row[21].as<std::string>());
    tracking->set_tracking_number(row[22].as<std::string>());
    if (!row[23].is_null()) {
      *tracking->mutable_ship_time() = TimeUtil::MicrosecondsToTimestamp(row[23].as<int64_t>());
    }
    if (!row[24].is_null()) {
      *tracking->mutable_delivery_time() = TimeUtil::MicrosecondsToTimestamp(row[24].as<int64_t>());
    }
  }
  pqxx::result lines = w.exec_params(
      "SELECT sku, name, quantity, unit_price_units, unit_price_nanos FROM order_lines "
      "WHERE order_id = $1 ORDER BY line_number",
      order.order_id());
  for (const auto& l : lines) {
    auto* line = order.add_lines();
    line->set_sku(l[0].as<std::string>());
    line->set_name(l[1].as<std::string>());
    line->set_quantity(l[2].as<int32_t>());
    if (!currency.empty()) {
      SetMoney(currency, l[3].as<int64_t>(), l[4].as<int32_t>(), line->mutable_unit_price());
      // line_total is derived; recompute rather than store twice (the same
      // arithmetic as pricing, so a stored order reads back as it was priced).
      absl::StatusOr<Money> unit = MoneyFromProto(line->unit_price());
      if (!unit.ok()) throw std::runtime_error(std::string(unit.status().message()));
      absl::StatusOr<Money> total = MultiplyMoney(*unit, line->quantity());
      if (!total.ok()) throw std::runtime_error(std::string(total.status().message()));
      MoneyToProto(*total, line->mutable_line_total());
    }
  }
  if (history) {
    pqxx::result changes =
        w.exec_params(absl::StrCat("SELECT status, ", Micros("changed_at"),
                                   ", actor, coalesce(note, '') "
                                   "FROM order_status_history WHERE order_id = $1 ORDER BY seq"),
                      order.order_id());
    for (const auto& c : changes) {
      auto* change = order.add_status_history();
      change->set_status(ParseStatus(c[0].as<std::string>()));
      *change->mutable_change_time() = TimeUtil::MicrosecondsToTimestamp(c[1].as<int64_t>());
      change->set_actor(c[2].as<std::string>());
      change->set_note(c[3].as<std::string>());
    }
  }
  return order;
}

OrderRecord RecordFromRow(pqxx::work& w, const pqxx::row& row) {
  OrderRecord record;
  record.order = OrderFromRow(w, row, /*history=*/false);
  record.request_hash = row[25].as<std::string>();
  record.payment_method_token = row[26].as<std::string>();
  record.saga = ParseSaga(row[27].as<std::string>());
  record.target = ParseStatus(row[28].as<std::string>());
  if (!row[29].is_null()) {
    pqxx::binarystring bytes(row[29]);
    record.failure_status = DeserializeStatus(bytes.str());
  }
  if (!row[30].is_null()) {
    pqxx::binarystring bytes(row[30]);
    record.placement_response = bytes.str();
  }
  return record;
}

absl::StatusOr<pqxx::row> SelectOrder(pqxx::work& w, const std::string& order_id) {
  pqxx::result row = w.exec_params(
      absl::StrCat("SELECT ", OrderColumns(), " FROM orders WHERE order_id = $1"), order_id);
  if (row.empty()) return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
  return row[0];
}

// Writes every mutable field of `order` except its status.
void WriteFields(pqxx::work& w, const Order& order) {
  const auto& totals = order.totals();
  w.exec_params(
      "UPDATE orders SET currency = NULLIF($2, ''), subtotal_units = $3, subtotal_nanos = $4, "
      "tax_units = $5, tax_nanos = $6, shipping_units = $7, shipping_nanos = $8, "
      "total_units = $9, total_nanos = $10, payment_status = NULLIF($11, ''), "
      "payment_id = NULLIF($12, ''), reservation_id = NULLIF($13, ''), "
      "failure_reason = NULLIF($14, ''), refund_id = NULLIF($15, ''), "
      "carrier = NULLIF($16, ''), tracking_number = NULLIF($17, ''), "
      "updated_at = clock_timestamp() WHERE order_id = $1",
      order.order_id(), totals.grand_total().currency_code(), totals.subtotal().units(),
      totals.subtotal().nanos(), totals.tax().units(), totals.tax().nanos(),
      totals.shipping().units(), totals.shipping().nanos(), totals.grand_total().units(),
      totals.grand_total().nanos(), PaymentName(order.payment_status()), order.payment_id(),
      order.reservation_id(), order.failure_reason(), order.refund_id(), order.tracking().carrier(),
      order.tracking().tracking_number());
  int line_number = 0;
  for (const auto& line : order.lines()) {
    w.exec_params(
        "UPDATE order_lines SET name = $3, unit_price_units = $4, unit_price_nanos = $5 "
        "WHERE order_id = $1 AND line_number = $2",
        order.order_id(), ++line_number, line.name(), line.unit_price().units(),
        line.unit_price().nanos());
  }
}

std::string LeaseSql(absl::Duration lease) {
  return absl::StrCat("clock_timestamp() + interval '", absl::ToInt64Milliseconds(lease),
                      " milliseconds'");
}

}  // namespace

absl::Status PostgresOrderStore::Prepare() { return pool_->Migrate("ops", Migrations()); }

absl::StatusOr<OrderStore::Created> PostgresOrderStore::CreatePending(
    const Order& order, const std::string& idempotency_key, const std::string& request_hash,
    const std::string& payment_method_token, const std::string& actor) {
  Created created;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result inserted = w.exec_params(
        absl::StrCat(
            "INSERT INTO orders (order_id, customer_id, idempotency_key, request_hash, "
            "status, shipping_address, billing_address, payment_method_token, lease_until) "
            "VALUES ($1, $2, $3, $4, 'PENDING', $5::jsonb, $6::jsonb, $7, ",
            LeaseSql(lease_),
            ") ON CONFLICT (customer_id, idempotency_key) DO NOTHING RETURNING order_id"),
        order.order_id(), order.customer_id(), idempotency_key, request_hash,
        ToJson(order.shipping_address()), ToJson(order.billing_address()), payment_method_token);
    std::string order_id = order.order_id();
    if (inserted.empty()) {
      pqxx::result existing = w.exec_params(
          "SELECT order_id FROM orders WHERE customer_id = $1 AND idempotency_key = $2",
          order.customer_id(), idempotency_key);
      order_id = existing[0][0].as<std::string>();
    } else {
      int line_number = 0;
      for (const auto& line : order.lines()) {
        w.exec_params(
            "INSERT INTO order_lines (order_id, line_number, sku, quantity) VALUES ($1, $2, $3, "
            "$4)",
            order_id, ++line_number, line.sku(), line.quantity());
      }
      w.exec_params(
          "INSERT INTO order_status_history (order_id, status, actor, note) "
          "VALUES ($1, 'PENDING', $2, 'order received')",
          order_id, actor);
    }
    SHOP_ASSIGN_OR_RETURN(pqxx::row row, SelectOrder(w, order_id));
    created.record = RecordFromRow(w, row);
    created.created = !inserted.empty();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return created;
}

absl::Status PostgresOrderStore::SaveProgress(const Order& order) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    WriteFields(w, order);
    return absl::OkStatus();
  });
}

absl::Status PostgresOrderStore::BeginCompensation(const std::string& order_id,
                                                   shop::v1::OrderStatus target,
                                                   const absl::Status& failure) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params(
        "UPDATE orders SET saga_state = 'COMPENSATING', target_status = $2, "
        "failure_status = CASE WHEN $3 = '' THEN failure_status ELSE decode($3, 'hex') END, "
        "updated_at = clock_timestamp() "
        "WHERE order_id = $1 AND (saga_state <> 'DONE' OR $2 = 'CANCELLED')",
        order_id, ShortName(target),
        failure.ok() ? "" : absl::BytesToHexString(SerializeStatus(failure)));
    return absl::OkStatus();
  });
}

absl::Status PostgresOrderStore::Transition(const Order& order, shop::v1::OrderStatus expected,
                                            const std::string& actor, const std::string& note,
                                            const std::string& notification) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result current =
        w.exec_params("SELECT status FROM orders WHERE order_id = $1 FOR UPDATE", order.order_id());
    if (current.empty()) return absl::NotFoundError("order " + order.order_id() + " not found");
    shop::v1::OrderStatus now = ParseStatus(current[0][0].as<std::string>());
    if (now != expected) return IllegalTransition(order.order_id(), now, order.status());
    WriteFields(w, order);
    const std::string status = ShortName(order.status());
    w.exec_params(
        "UPDATE orders SET status = $2, saga_state = 'DONE', lease_until = NULL, "
        "shipped_at = CASE WHEN $2 = 'SHIPPED' THEN clock_timestamp() ELSE shipped_at END, "
        "delivered_at = CASE WHEN $2 = 'DELIVERED' THEN clock_timestamp() ELSE delivered_at END "
        "WHERE order_id = $1",
        order.order_id(), status);
    w.exec_params(
        "INSERT INTO order_status_history (order_id, status, actor, note) "
        "VALUES ($1, $2, $3, NULLIF($4, ''))",
        order.order_id(), status, actor, note);
    if (!notification.empty()) {
      w.exec_params("INSERT INTO notification_outbox (order_id, kind) VALUES ($1, $2)",
                    order.order_id(), notification);
    }
    return absl::OkStatus();
  });
}

absl::Status PostgresOrderStore::SavePlacementResponse(const std::string& order_id,
                                                       const std::string& response) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params(
        "UPDATE orders SET placement_response = decode($2, 'hex') "
        "WHERE order_id = $1 AND placement_response IS NULL",
        order_id, absl::BytesToHexString(response));
    return absl::OkStatus();
  });
}

absl::Status PostgresOrderStore::RecordStep(const std::string& order_id, SagaStep step,
                                            StepState state, const std::string& detail) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params(
        "INSERT INTO saga_steps (order_id, step, state, detail) VALUES ($1, $2, $3, NULLIF($4, "
        "''))",
        order_id, std::string(SagaStepName(step)), std::string(StepStateName(state)), detail);
    // Each step renews the owner's lease: a live saga is never taken over.
    w.exec_params(absl::StrCat("UPDATE orders SET lease_until = ", LeaseSql(lease_),
                               " WHERE order_id = $1 AND lease_until IS NOT NULL"),
                  order_id);
    return absl::OkStatus();
  });
}

absl::StatusOr<OrderRecord> PostgresOrderStore::GetRecord(const std::string& order_id) {
  return pool_->Transact<OrderRecord>([&](pqxx::work& w) -> absl::StatusOr<OrderRecord> {
    SHOP_ASSIGN_OR_RETURN(pqxx::row row, SelectOrder(w, order_id));
    return RecordFromRow(w, row);
  });
}

absl::StatusOr<Order> PostgresOrderStore::Get(const std::string& order_id) {
  return pool_->Transact<Order>([&](pqxx::work& w) -> absl::StatusOr<Order> {
    SHOP_ASSIGN_OR_RETURN(pqxx::row row, SelectOrder(w, order_id));
    return OrderFromRow(w, row, /*history=*/true);
  });
}

absl::StatusOr<OrderPage> PostgresOrderStore::List(const std::string& customer_id, int page_size,
                                                   const std::string& page_token,
                                                   shop::v1::OrderStatus status_filter) {
  // The token is "<created_at micros>.<order_id>" of the last order shown.
  int64_t after_micros = INT64_MAX;
  std::string after_id = "\x7f";
  if (!page_token.empty()) {
    std::vector<std::string> parts = absl::StrSplit(page_token, absl::MaxSplits('.', 1));
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &after_micros) || !IsValidId(parts[1])) {
      FieldViolations violations;
      violations.Add("page_token", "is not a token this service issued");
      return violations.ToStatus();
    }
    after_id = parts[1];
  }
  OrderPage page;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    page = OrderPage{};
    pqxx::result rows = w.exec_params(
        absl::StrCat("SELECT ", OrderColumns(), " FROM orders WHERE customer_id = $1 AND (",
                     Micros("created_at"),
                     ", order_id) < ($2, $3) "
                     "AND ($4 = '' OR status = $4) "
                     "ORDER BY created_at DESC, order_id DESC LIMIT $5"),
        customer_id, after_micros, after_id,
        status_filter == shop::v1::ORDER_STATUS_UNSPECIFIED ? "" : ShortName(status_filter),
        page_size + 1);
    for (const auto& row : rows) {
      if (static_cast<int>(page.orders.size()) == page_size) {
        const Order& last = page.orders.back();
        page.next_page_token = absl::StrCat(TimeUtil::TimestampToMicroseconds(last.create_time()),
                                            ".", last.order_id());
        break;
      }
      page.orders.push_back(OrderFromRow(w, row, /*history=*/false));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return page;
}

absl::StatusOr<bool> PostgresOrderStore::TryLease(const std::string& order_id) {
  return pool_->Transact<bool>([&](pqxx::work& w) -> absl::StatusOr<bool> {
    pqxx::result row =
        w.exec_params(absl::StrCat("UPDATE orders SET lease_until = ", LeaseSql(lease_),
                                   " WHERE order_id = $1 AND (lease_until IS NULL OR lease_until < "
                                   "clock_timestamp()) RETURNING order_id"),
                      order_id);
    return !row.empty();
  });
}

absl::Status PostgresOrderStore::DropLease(const std::string& order_id) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params("UPDATE orders SET lease_until = NULL WHERE order_id = $1", order_id);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<OrderRecord>> PostgresOrderStore::ClaimAbandoned(int limit) {
  std::vector<OrderRecord> records;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    records.clear();
    // SKIP LOCKED: two OPS replicas never claim the same order.
    pqxx::result claimed = w.exec_params(
        absl::StrCat("UPDATE orders SET lease_until = ", LeaseSql(lease_),
                     " WHERE order_id IN (SELECT order_id FROM orders WHERE saga_state <> 'DONE' "
                     "AND (lease_until IS NULL OR lease_until < clock_timestamp()) "
                     "ORDER BY updated_at LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING order_id"),
        limit);
    for (const auto& row : claimed) {
      SHOP_ASSIGN_OR_RETURN(pqxx::row order, SelectOrder(w, row[0].as<std::string>()));
      records.push_back(RecordFromRow(w, order));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return records;
}

absl::StatusOr<bool> PostgresOrderStore::RecordPaymentEvent(const PaymentEvent& event) {
  const std::string& order_id = event.order_id;
  return pool_->Transact<bool>([&](pqxx::work& w) -> absl::StatusOr<bool> {
    if (w.exec_params("SELECT 1 FROM orders WHERE order_id = $1", order_id).empty()) {
      return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
    }
    return !w.exec_params(
                 "INSERT INTO payment_events (gateway_event_id, order_id, event_type, detail) "
                 "VALUES ($1, $2, $3, NULLIF($4, '')) ON CONFLICT DO NOTHING "
                 "RETURNING gateway_event_id",
                 event.gateway_event_id, order_id, event.event_type, event.detail)
                .empty();
  });
}

}  // namespace shop::ops
