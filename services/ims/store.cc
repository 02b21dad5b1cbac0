#include "services/ims/store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/postgres/pool.h"
#include "core/status.h"
#include "ims_migrations.h"
#include "services/ims/inventory.h"
#include "shop/v1/types.pb.h"

namespace shop::ims {
namespace {

const char* StatusText(ReservationStatus status) {
  switch (status) {
    case ReservationStatus::kReserved:
      return "RESERVED";
    case ReservationStatus::kCommitted:
      return "COMMITTED";
    case ReservationStatus::kReleased:
      return "RELEASED";
    case ReservationStatus::kRestocked:
      return "RESTOCKED";
  }
  return "RESERVED";
}

ReservationStatus ParseStatus(const std::string& text) {
  if (text == "COMMITTED") return ReservationStatus::kCommitted;
  if (text == "RELEASED") return ReservationStatus::kReleased;
  if (text == "RESTOCKED") return ReservationStatus::kRestocked;
  return ReservationStatus::kReserved;
}

// Loads a reservation with its lines; NOT_FOUND when absent. `lock` takes a
// row lock so that commit/release see and change a stable state.
absl::StatusOr<Reservation> LoadReservation(pqxx::work& w, const std::string& column,
                                            const std::string& value, bool lock) {
  pqxx::result header =
      w.exec_params(absl::StrCat("SELECT reservation_id, order_id, status, "
                                 "extract(epoch from expires_at)::bigint FROM reservations WHERE ",
                                 column, " = $1", lock ? " FOR UPDATE" : ""),
                    value);
  if (header.empty()) {
    return absl::NotFoundError(absl::StrCat("reservation ", value, " not found"));
  }
  Reservation reservation;
  reservation.reservation_id = header[0][0].as<std::string>();
  reservation.order_id = header[0][1].as<std::string>();
  reservation.status = ParseStatus(header[0][2].as<std::string>());
  reservation.expires_at = absl::FromUnixSeconds(header[0][3].as<int64_t>());
  pqxx::result lines = w.exec_params(
      "SELECT sku, name, quantity, currency, unit_price_units, unit_price_nanos "
      "FROM reservation_lines WHERE reservation_id = $1 ORDER BY sku",
      reservation.reservation_id);
  for (const auto& row : lines) {
    reservation.lines.push_back(
        ReservedLine{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int32_t>(),
                     Money{row[3].as<std::string>(), row[4].as<int64_t>(), row[5].as<int32_t>()}});
  }
  return reservation;
}

void RecordMovement(pqxx::work& w, const std::string& sku, const char* kind, int32_t quantity,
                    const std::string& order_id, const std::string& reservation_id,
                    const std::string& actor, const std::string& reason) {
  w.exec_params(
      "INSERT INTO stock_movements (sku, kind, quantity, order_id, reservation_id, actor, reason) "
      "VALUES ($1, $2, $3, NULLIF($4, ''), NULLIF($5, ''), $6, NULLIF($7, ''))",
      sku, kind, quantity, order_id, reservation_id, actor, reason);
}

}  // namespace

absl::Status PostgresInventoryStore::Prepare(bool seed_demo_catalog) {
  SHOP_RETURN_IF_ERROR(pool_->Migrate("ims", Migrations()));
  if (!seed_demo_catalog) return absl::OkStatus();
  return pool_->Transact([](pqxx::work& w) -> absl::Status {
    // Two replicas may start together: one seeds, the other sees products.
    w.exec("SELECT pg_advisory_xact_lock(hashtext('shop.ims.seed'))");
    if (!w.exec("SELECT 1 FROM products LIMIT 1").empty()) return absl::OkStatus();
    for (const auto& [product, stock] : DemoCatalog()) {
      w.exec_params(
          "INSERT INTO products (sku, name, description, currency, unit_price_units, "
          "unit_price_nanos) VALUES ($1, $2, $3, $4, $5, $6)",
          product.sku, product.name, product.description, product.unit_price.currency,
          product.unit_price.units, product.unit_price.nanos);
      w.exec_params("INSERT INTO stock_levels (sku, available) VALUES ($1, $2)", product.sku,
                    stock);
      RecordMovement(w, product.sku, "SEED", stock, "", "", "ims", "demo catalog");
    }
    log::Info("seeded demo catalog", {{"products", static_cast<int64_t>(DemoCatalog().size())}});
    return absl::OkStatus();
  });
}

absl::StatusOr<Reservation> PostgresInventoryStore::Reserve(const std::string& order_id,
                                                            const std::vector<LineRequest>& lines,
                                                            absl::Duration ttl,
                                                            const std::string& actor) {
  absl::StatusOr<Reservation> result;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    std::string reservation_id = NewId("res");
    // The header first: a concurrent Reserve of the same order waits on the
    // unique order_id and then finds this reservation instead of a second one.
    pqxx::result inserted = w.exec_params(
        "INSERT INTO reservations (reservation_id, order_id, status, expires_at) "
        "VALUES ($1, $2, 'RESERVED', now() + make_interval(secs => $3)) "
        "ON CONFLICT (order_id) DO NOTHING RETURNING reservation_id",
        reservation_id, order_id, absl::ToInt64Seconds(ttl));
    if (inserted.empty()) {
      result = LoadReservation(w, "order_id", order_id, false);
      return result.status();
    }
    // Lock rows in SKU order so that concurrent multi-line orders never deadlock.
    std::vector<LineRequest> sorted = lines;
    std::sort(sorted.begin(), sorted.end(),
              [](const LineRequest& a, const LineRequest& b) { return a.sku < b.sku; });
    shop::v1::StockShortage shortage;
    FieldViolations unknown;
    for (const LineRequest& line : sorted) {
      // The conditional decrement is the whole check: no read-then-write race.
      pqxx::result updated = w.exec_params(
          "UPDATE stock_levels SET available = available - $2, reserved = reserved + $2, "
          "updated_at = now() WHERE sku = $1 AND available >= $2 RETURNING sku",
          line.sku, line.quantity);
      if (!updated.empty()) continue;
      pqxx::result current =
          w.exec_params("SELECT available FROM stock_levels WHERE sku = $1", line.sku);
      if (current.empty()) {
        unknown.Add("lines.sku", absl::StrCat("unknown SKU ", line.sku));
        continue;
      }
      auto* item = shortage.add_items();
      item->set_sku(line.sku);
      item->set_requested_quantity(line.quantity);
      item->set_available_quantity(current[0][0].as<int32_t>());
    }
    if (!unknown.empty()) return unknown.ToStatus("unknown SKU");
    if (shortage.items_size() > 0) {
      std::string message = "not enough stock:";
      for (const auto& item : shortage.items()) {
        absl::StrAppend(&message, " ", item.sku(), " (requested ", item.requested_quantity(),
                        ", available ", item.available_quantity(), ")");
      }
      absl::Status out_of_stock = ErrorWithReason(absl::StatusCode::kFailedPrecondition, message,
                                                  shop::v1::OUT_OF_STOCK, {{"order_id", order_id}});
      AddDetail(out_of_stock, shortage);
      return out_of_stock;  // rolls back every decrement above
    }
    for (const LineRequest& line : sorted) {
      w.exec_params(
          "INSERT INTO reservation_lines (reservation_id, sku, name, quantity, currency, "
          "unit_price_units, unit_price_nanos) SELECT $1, sku, name, $3, currency, "
          "unit_price_units, unit_price_nanos FROM products WHERE sku = $2",
          reservation_id, line.sku, line.quantity);
      RecordMovement(w, line.sku, "RESERVE", line.quantity, order_id, reservation_id, actor, "");
    }
    result = LoadReservation(w, "reservation_id", reservation_id, false);
    return result.status();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<Reservation> PostgresInventoryStore::Commit(const std::string& reservation_id,
                                                           const std::string& actor) {
  absl::StatusOr<Reservation> result;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    result = LoadReservation(w, "reservation_id", reservation_id, true);
    if (!result.ok()) return result.status();
    if (result->status == ReservationStatus::kCommitted) return absl::OkStatus();
    if (result->status != ReservationStatus::kReserved) {
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                             absl::StrCat("reservation ", reservation_id, " is ",
                                          StatusText(result->status), " and cannot be committed"),
                             shop::v1::RESERVATION_RELEASED);
    }
    for (const ReservedLine& line : result->lines) {
      w.exec_params(
          "UPDATE stock_levels SET reserved = reserved - $2, sold = sold + $2, "
          "updated_at = now() WHERE sku = $1",
          line.sku, line.quantity);
      RecordMovement(w, line.sku, "COMMIT", line.quantity, result->order_id, reservation_id, actor,
                     "");
    }
    w.exec_params(
        "UPDATE reservations SET status = 'COMMITTED', updated_at = now() "
        "WHERE reservation_id = $1",
        reservation_id);
    result->status = ReservationStatus::kCommitted;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

// Gives a held reservation's stock back; the caller holds its row lock.
static void ReleaseLocked(pqxx::work& w, Reservation& reservation, const std::string& reason,
                          const std::string& actor) {
  for (const ReservedLine& line : reservation.lines) {
    w.exec_params(
        "UPDATE stock_levels SET reserved = reserved - $2, available = available + $2, "
        "updated_at = now() WHERE sku = $1",
        line.sku, line.quantity);
    RecordMovement(w, line.sku, "RELEASE", line.quantity, reservation.order_id,
                   reservation.reservation_id, actor, reason);
  }
  w.exec_params(
      "UPDATE reservations SET status = 'RELEASED', release_reason = NULLIF($2, ''), "
      "updated_at = now() WHERE reservation_id = $1",
      reservation.reservation_id, reason);
  reservation.status = ReservationStatus::kReleased;
}

absl::StatusOr<Reservation> PostgresInventoryStore::Release(const std::string& id, bool by_order,
                                                            const std::string& reason,
                                                            const std::string& actor) {
  absl::StatusOr<Reservation> result;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    result = LoadReservation(w, by_order ? "order_id" : "reservation_id", id, true);
    if (!result.ok()) return result.status();
    if (result->status == ReservationStatus::kReleased) return absl::OkStatus();
    if (result->status != ReservationStatus::kReserved) {
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                             absl::StrCat("reservation ", result->reservation_id, " is ",
                                          StatusText(result->status), "; stock was sold"),
                             shop::v1::RESERVATION_COMMITTED);
    }
    ReleaseLocked(w, *result, reason, actor);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<Reservation> PostgresInventoryStore::Restock(const std::string& reservation_id,
                                                            const std::string& reason,
                                                            const std::string& actor) {
  absl::StatusOr<Reservation> result;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    result = LoadReservation(w, "reservation_id", reservation_id, true);
    if (!result.ok()) return result.status();
    if (result->status == ReservationStatus::kRestocked) return absl::OkStatus();
    if (result->status != ReservationStatus::kCommitted) {
      return ErrorWithReason(
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat("reservation ", reservation_id, " is ", StatusText(result->status),
                       "; only committed stock can be restocked"),
          shop::v1::RESERVATION_NOT_COMMITTED);
    }
    for (const ReservedLine& line : result->lines) {
      w.exec_params(
          "UPDATE stock_levels SET sold = sold - $2, available = available + $2, "
          "updated_at = now() WHERE sku = $1",
          line.sku, line.quantity);
      RecordMovement(w, line.sku, "RESTOCK", line.quantity, result->order_id, reservation_id, actor,
                     reason);
    }
    w.exec_params(
        "UPDATE reservations SET status = 'RESTOCKED', release_reason = NULLIF($2, ''), "
        "updated_at = now() WHERE reservation_id = $1",
        reservation_id, reason);
    result->status = ReservationStatus::kRestocked;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<std::vector<Reservation>> PostgresInventoryStore::ExpireDue(int limit) {
  std::vector<Reservation> released;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    released.clear();
    // SKIP LOCKED: a reservation being committed right now is not expired under it.
    pqxx::result due = w.exec_params(
        "SELECT reservation_id FROM reservations WHERE status = 'RESERVED' "
        "AND expires_at < now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED",
        limit);
    for (const auto& row : due) {
      auto reservation = LoadReservation(w, "reservation_id", row[0].as<std::string>(), true);
      if (!reservation.ok()) return reservation.status();
      ReleaseLocked(w, *reservation, "expired", "ims-expiry");
      released.push_back(*std::move(reservation));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return released;
}

absl::StatusOr<std::vector<Availability>> PostgresInventoryStore::Check(
    const std::vector<LineRequest>& lines) {
  std::vector<Availability> result;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    result.clear();
    FieldViolations unknown;
    for (const LineRequest& line : lines) {
      pqxx::result row =
          w.exec_params("SELECT available FROM stock_levels WHERE sku = $1", line.sku);
      if (row.empty()) {
        unknown.Add("lines.sku", absl::StrCat("unknown SKU ", line.sku));
        continue;
      }
      result.push_back(Availability{line.sku, line.quantity, row[0][0].as<int32_t>()});
    }
    return unknown.ToStatus("unknown SKU");
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<StockLevel> PostgresInventoryStore::GetStock(const std::string& sku) {
  return pool_->Transact<StockLevel>([&](pqxx::work& w) -> absl::StatusOr<StockLevel> {
    pqxx::result row =
        w.exec_params("SELECT available, reserved, sold FROM stock_levels WHERE sku = $1", sku);
    if (row.empty()) return absl::NotFoundError(absl::StrCat("SKU ", sku, " not found"));
    return StockLevel{sku, row[0][0].as<int32_t>(), row[0][1].as<int32_t>(),
                      row[0][2].as<int32_t>()};
  });
}

absl::StatusOr<ProductPage> PostgresInventoryStore::ListProducts(int page_size,
                                                                 const std::string& after_sku) {
  ProductPage page;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    page = ProductPage{};
    pqxx::result rows = w.exec_params(
        "SELECT p.sku, p.name, p.description, p.currency, p.unit_price_units, "
        "p.unit_price_nanos, s.available FROM products p JOIN stock_levels s USING (sku) "
        "WHERE p.sku > $1 ORDER BY p.sku LIMIT $2",
        after_sku, page_size + 1);
    for (const auto& row : rows) {
      if (static_cast<int>(page.products.size()) == page_size) {
        page.next_page_token = page.products.back().sku;
        break;
      }
      page.products.push_back(
          Product{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                  Money{row[3].as<std::string>(), row[4].as<int64_t>(), row[5].as<int32_t>()},
                  row[6].as<int32_t>()});
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return page;
}

}  // namespace shop::ims
