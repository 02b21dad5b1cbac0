#include "services/ims/inventory.h"

#include "absl/strings/str_cat.h"
#include "core/span.h"
#include "core/status.h"
#include "core/validation.h"

namespace shop::ims {
namespace {

absl::Status ValidateLines(const std::vector<LineRequest>& lines) {
  std::vector<LineView> views;
  views.reserve(lines.size());
  for (const LineRequest& line : lines) views.push_back({line.sku, line.quantity});
  FieldViolations violations;
  ::shop::ValidateLines(views, "lines", violations);
  return violations.ToStatus();
}

absl::Status ValidateId(const std::string& id, const char* field) {
  FieldViolations violations;
  RequireId(field, id, violations);
  return violations.ToStatus();
}

absl::Status ValidateReason(const std::string& reason) {
  FieldViolations violations;
  CheckText("reason", reason, violations);
  return violations.ToStatus();
}

}  // namespace

absl::StatusOr<Reservation> Inventory::Reserve(const std::string& order_id,
                                               const std::vector<LineRequest>& lines,
                                               int32_t ttl_seconds, const std::string& actor) {
  SHOP_RETURN_IF_ERROR(ValidateId(order_id, "order_id"));
  SHOP_RETURN_IF_ERROR(ValidateLines(lines));
  absl::Duration ttl = ttl_seconds > 0 ? absl::Seconds(ttl_seconds) : options_.default_ttl;
  if (ttl_seconds < 0 || ttl > options_.max_ttl) {
    FieldViolations violations;
    violations.Add("ttl_seconds",
                   absl::StrCat("must be between 0 and ", absl::ToInt64Seconds(options_.max_ttl)));
    return violations.ToStatus();
  }
  return store_->Reserve(order_id, lines, ttl, actor);
}

absl::StatusOr<Reservation> Inventory::Commit(const std::string& reservation_id,
                                              const std::string& actor) {
  SHOP_RETURN_IF_ERROR(ValidateId(reservation_id, "reservation_id"));
  return store_->Commit(reservation_id, actor);
}

absl::StatusOr<Reservation> Inventory::Release(const std::string& reservation_id,
                                               const std::string& order_id,
                                               const std::string& reason,
                                               const std::string& actor) {
  if (reservation_id.empty() == order_id.empty()) {
    FieldViolations violations;
    violations.Add("reservation_id", "give exactly one of reservation_id and order_id");
    return violations.ToStatus();
  }
  const bool by_order = reservation_id.empty();
  SHOP_RETURN_IF_ERROR(
      ValidateId(by_order ? order_id : reservation_id, by_order ? "order_id" : "reservation_id"));
  SHOP_RETURN_IF_ERROR(ValidateReason(reason));
  return store_->Release(by_order ? order_id : reservation_id, by_order, reason, actor);
}

absl::StatusOr<Reservation> Inventory::Restock(const std::string& reservation_id,
                                               const std::string& reason,
                                               const std::string& actor) {
  SHOP_RETURN_IF_ERROR(ValidateId(reservation_id, "reservation_id"));
  SHOP_RETURN_IF_ERROR(ValidateReason(reason));
  return store_->Restock(reservation_id, reason, actor);
}

absl::StatusOr<int> Inventory::ExpireDue() {
  constexpr int kBatch = 100;
  int total = 0;
  // In batches, so one sweep never holds many row locks for long.
  while (true) {
    SHOP_ASSIGN_OR_RETURN(std::vector<Reservation> released, store_->ExpireDue(kBatch));
    for (const Reservation& reservation : released) {
      // Each release is its own trace (no call caused it), found by order; the
      // span marks the release, committed just before with its batch.
      Span span("reservation.expire", reservation.order_id);
      span.SetAttribute("reservation_id", reservation.reservation_id);
      if (audit_ != nullptr) {
        int64_t units = 0;
        for (const ReservedLine& line : reservation.lines) units += line.quantity;
        audit_->Emit(NewBusinessEvent("reservation.expired", reservation.order_id,
                                      {{"reservation_id", reservation.reservation_id},
                                       {"lines", std::to_string(reservation.lines.size())},
                                       {"units", std::to_string(units)}}));
      }
    }
    total += static_cast<int>(released.size());
    if (released.size() < kBatch) return total;
  }
}

absl::StatusOr<std::vector<Availability>> Inventory::CheckAvailability(
    const std::vector<LineRequest>& lines) {
  SHOP_RETURN_IF_ERROR(ValidateLines(lines));
  return store_->Check(lines);
}

absl::StatusOr<StockLevel> Inventory::GetStock(const std::string& sku) {
  if (!IsValidSku(sku)) {
    FieldViolations violations;
    violations.Add("sku", "must be 1-64 characters of A-Z, 0-9 and '-'");
    return violations.ToStatus();
  }
  return store_->GetStock(sku);
}

absl::StatusOr<ProductPage> Inventory::ListProducts(int32_t page_size,
                                                    const std::string& page_token) {
  FieldViolations violations;
  if (page_size < 0 || page_size > 100) violations.Add("page_size", "must be between 0 and 100");
  if (!page_token.empty() && !IsValidSku(page_token)) {
    violations.Add("page_token", "is not a token this service issued");
  }
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  return store_->ListProducts(page_size == 0 ? 50 : page_size, page_token);
}

std::vector<std::pair<Product, int32_t>> DemoCatalog() {
  auto usd = [](int64_t units, int32_t cents) { return Money{"USD", units, cents * 10'000'000}; };
  return {
      {{"BEANS-1KG", "Espresso beans, 1 kg", "Whole beans, medium roast", usd(24, 50), 0}, 100},
      {{"FILTER-100", "Paper filters (100)", "Size 02 cone filters", usd(4, 99), 0}, 500},
      {{"GRINDER-HAND", "Hand grinder", "Conical burr, stepless", usd(89, 0), 0}, 3},
      {{"KETTLE-GOOSE", "Gooseneck kettle", "1 l, stovetop", usd(45, 0), 0}, 25},
      {{"MUG-CLASSIC", "Classic mug", "Stoneware, 350 ml", usd(12, 0), 0}, 200},
      {{"SCALE-01", "Coffee scale", "0.1 g resolution with timer", usd(29, 95), 0}, 40},
  };
}

}  // namespace shop::ims
