#include "services/ops/store.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/pg.h"
#include "core/status.h"

namespace shop::ops {
const std::vector<Migration>& Migrations();  // generated from migrations/*.sql

namespace {

using shop::v1::Order;

std::string StatusName(shop::v1::OrderStatus status) {
  // "ORDER_STATUS_CONFIRMED" → "CONFIRMED"
  return shop::v1::OrderStatus_Name(status).substr(sizeof("ORDER_STATUS_") - 1);
}

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

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

void FromJson(const std::string& json, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  (void)google::protobuf::util::JsonStringToMessage(json, message, options);
}

void SetMoney(const std::string& currency, int64_t units, int32_t nanos, shop::v1::Money* out) {
  out->set_currency_code(currency);
  out->set_units(units);
  out->set_nanos(nanos);
}

std::string HexEncode(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return hex;
}

constexpr char kOrderColumns[] =
    "order_id, customer_id, status, coalesce(currency, ''), subtotal_units, subtotal_nanos, "
    "tax_units, tax_nanos, shipping_units, shipping_nanos, total_units, total_nanos, "
    "shipping_address::text, billing_address::text, coalesce(payment_status, ''), "
    "coalesce(payment_id, ''), coalesce(reservation_id, ''), coalesce(failure_reason, ''), "
    "(extract(epoch from created_at) * 1000000)::bigint, "
    "(extract(epoch from updated_at) * 1000000)::bigint, request_hash, failure_status";

Order OrderFromRow(pqxx::work& w, const pqxx::row& row) {
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
    SetMoney(currency, row[10].as<int64_t>(), row[11].as<int32_t>(),
             totals->mutable_grand_total());
  }
  FromJson(row[12].as<std::string>(), order.mutable_shipping_address());
  FromJson(row[13].as<std::string>(), order.mutable_billing_address());
  order.set_payment_status(ParsePayment(row[14].as<std::string>()));
  order.set_payment_id(row[15].as<std::string>());
  order.set_reservation_id(row[16].as<std::string>());
  order.set_failure_reason(row[17].as<std::string>());
  using google::protobuf::util::TimeUtil;
  *order.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[18].as<int64_t>());
  *order.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row[19].as<int64_t>());
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
      // line_total is derived; recompute rather than store twice.
      __int128 total = (__int128(l[3].as<int64_t>()) * 1'000'000'000 + l[4].as<int32_t>()) *
                       line->quantity();
      SetMoney(currency, static_cast<int64_t>(total / 1'000'000'000),
               static_cast<int32_t>(total % 1'000'000'000), line->mutable_line_total());
    }
  }
  return order;
}

absl::StatusOr<Order> LoadOrder(pqxx::work& w, const std::string& order_id) {
  pqxx::result row = w.exec_params(
      absl::StrCat("SELECT ", kOrderColumns, " FROM orders WHERE order_id = $1"), order_id);
  if (row.empty()) return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
  return OrderFromRow(w, row[0]);
}

}  // namespace

absl::Status PgOrderStore::Prepare() { return pool_->Migrate("ops", Migrations()); }

absl::StatusOr<OrderStore::Created> PgOrderStore::CreatePending(
    const Order& order, const std::string& idempotency_key, const std::string& request_hash,
    const std::string& payment_method, const std::string& actor) {
  Created created;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result inserted = w.exec_params(
        "INSERT INTO orders (order_id, customer_id, idempotency_key, request_hash, status, "
        "shipping_address, billing_address, payment_method) "
        "VALUES ($1, $2, $3, $4, 'PENDING', $5::jsonb, $6::jsonb, $7) "
        "ON CONFLICT (customer_id, idempotency_key) DO NOTHING RETURNING order_id",
        order.order_id(), order.customer_id(), idempotency_key, request_hash,
        ToJson(order.shipping_address()), ToJson(order.billing_address()), payment_method);
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
            "INSERT INTO order_lines (order_id, line_number, sku, quantity) VALUES ($1, $2, $3, $4)",
            order_id, ++line_number, line.sku(), line.quantity());
      }
      w.exec_params(
          "INSERT INTO order_status_history (order_id, status, actor, note) "
          "VALUES ($1, 'PENDING', $2, 'order received')",
          order_id, actor);
    }
    pqxx::result row = w.exec_params(
        absl::StrCat("SELECT ", kOrderColumns, " FROM orders WHERE order_id = $1"), order_id);
    created.order = OrderFromRow(w, row[0]);
    created.created = !inserted.empty();
    created.request_hash = row[0][20].as<std::string>();
    if (!row[0][21].is_null()) {
      pqxx::binarystring bytes(row[0][21]);
      created.failure = DeserializeStatus(bytes.str());
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return created;
}

absl::Status PgOrderStore::Update(const Order& order, const std::string& actor,
                                  const std::string& note, const absl::Status& failure) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result current = w.exec_params(
        "SELECT status FROM orders WHERE order_id = $1 FOR UPDATE", order.order_id());
    if (current.empty()) return absl::NotFoundError("order " + order.order_id() + " not found");
    const auto& totals = order.totals();
    const std::string failure_bytes = failure.ok() ? "" : SerializeStatus(failure);
    w.exec_params(
        "UPDATE orders SET status = $2, currency = NULLIF($3, ''), subtotal_units = $4, "
        "subtotal_nanos = $5, tax_units = $6, tax_nanos = $7, shipping_units = $8, "
        "shipping_nanos = $9, total_units = $10, total_nanos = $11, "
        "payment_status = NULLIF($12, ''), payment_id = NULLIF($13, ''), "
        "reservation_id = NULLIF($14, ''), failure_reason = NULLIF($15, ''), "
        "failure_status = CASE WHEN $16 = '' THEN failure_status ELSE decode($16, 'hex') END, "
        "updated_at = clock_timestamp() WHERE order_id = $1",
        order.order_id(), StatusName(order.status()), totals.grand_total().currency_code(),
        totals.subtotal().units(), totals.subtotal().nanos(), totals.tax().units(),
        totals.tax().nanos(), totals.shipping().units(), totals.shipping().nanos(),
        totals.grand_total().units(), totals.grand_total().nanos(),
        PaymentName(order.payment_status()), order.payment_id(), order.reservation_id(),
        order.failure_reason(), HexEncode(failure_bytes));
    int line_number = 0;
    for (const auto& line : order.lines()) {
      w.exec_params(
          "UPDATE order_lines SET name = $3, unit_price_units = $4, unit_price_nanos = $5 "
          "WHERE order_id = $1 AND line_number = $2",
          order.order_id(), ++line_number, line.name(), line.unit_price().units(),
          line.unit_price().nanos());
    }
    std::string new_status = StatusName(order.status());
    if (current[0][0].as<std::string>() != new_status) {
      w.exec_params(
          "INSERT INTO order_status_history (order_id, status, actor, note) "
          "VALUES ($1, $2, $3, NULLIF($4, ''))",
          order.order_id(), new_status, actor, note);
    }
    return absl::OkStatus();
  });
}

absl::Status PgOrderStore::RecordStep(const std::string& order_id, const std::string& step,
                                      const std::string& state, const std::string& detail) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params(
        "INSERT INTO saga_steps (order_id, step, state, detail) VALUES ($1, $2, $3, NULLIF($4, ''))",
        order_id, step, state, detail);
    return absl::OkStatus();
  });
}

absl::StatusOr<Order> PgOrderStore::Get(const std::string& order_id) {
  Order order;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    SHOP_ASSIGN_OR_RETURN(order, LoadOrder(w, order_id));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return order;
}

absl::StatusOr<OrderPage> PgOrderStore::List(const std::string& customer_id, int page_size,
                                             const std::string& page_token,
                                             shop::v1::OrderStatus status_filter) {
  // The token is "<created_at micros>.<order_id>" of the last order shown.
  int64_t after_micros = INT64_MAX;
  std::string after_id = "\x7f";
  if (!page_token.empty()) {
    std::vector<std::string> parts = absl::StrSplit(page_token, absl::MaxSplits('.', 1));
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &after_micros) || parts[1].empty()) {
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
        absl::StrCat("SELECT ", kOrderColumns, " FROM orders WHERE customer_id = $1 "
                     "AND ((extract(epoch from created_at) * 1000000)::bigint, order_id) < ($2, $3) "
                     "AND ($4 = '' OR status = $4) "
                     "ORDER BY created_at DESC, order_id DESC LIMIT $5"),
        customer_id, after_micros, after_id,
        status_filter == shop::v1::ORDER_STATUS_UNSPECIFIED ? "" : StatusName(status_filter),
        page_size + 1);
    for (const auto& row : rows) {
      if (static_cast<int>(page.orders.size()) == page_size) {
        const Order& last = page.orders.back();
        page.next_page_token = absl::StrCat(
            google::protobuf::util::TimeUtil::TimestampToMicroseconds(last.create_time()), ".",
            last.order_id());
        break;
      }
      page.orders.push_back(OrderFromRow(w, row));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return page;
}

absl::Status PgOrderStore::EnqueueNotification(const std::string& order_id,
                                               const std::string& kind) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params("INSERT INTO notification_outbox (order_id, kind) VALUES ($1, $2)", order_id,
                  kind);
    return absl::OkStatus();
  });
}

}  // namespace shop::ops
