// The inventory domain's vocabulary (lines, reservations, stock, products)
// and the port through which it stores them; store.h is the PostgreSQL
// implementation, where the stock rules are atomic conditional updates.
#ifndef SHOP_SERVICES_IMS_INVENTORY_STORE_H_
#define SHOP_SERVICES_IMS_INVENTORY_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/money.h"

namespace shop::ims {

struct LineRequest {
  std::string sku;
  int32_t quantity = 0;
};

struct ReservedLine {
  std::string sku;
  std::string name;
  int32_t quantity = 0;
  Money unit_price;
};

enum class ReservationStatus { kReserved, kCommitted, kReleased, kRestocked };

struct Reservation {
  std::string reservation_id;
  std::string order_id;
  ReservationStatus status = ReservationStatus::kReserved;
  std::vector<ReservedLine> lines;
  absl::Time expires_at;
};

struct StockLevel {
  std::string sku;
  int32_t available = 0;
  int32_t reserved = 0;
  int32_t sold = 0;
};

struct Product {
  std::string sku;
  std::string name;
  std::string description;
  Money unit_price;
  int32_t available = 0;
};

struct Availability {
  std::string sku;
  int32_t requested = 0;
  int32_t available = 0;
};

struct ProductPage {
  std::vector<Product> products;
  std::string next_page_token;
};

// Persistence of the inventory; every method is one transaction.
class InventoryStore {
 public:
  virtual ~InventoryStore() = default;
  // All lines or none. FAILED_PRECONDITION (OUT_OF_STOCK + StockShortage)
  // naming every short line; INVALID_ARGUMENT for unknown SKUs. An existing
  // reservation of the order is returned as it is.
  virtual absl::StatusOr<Reservation> Reserve(const std::string& order_id,
                                              const std::vector<LineRequest>& lines,
                                              absl::Duration ttl, const std::string& actor) = 0;
  virtual absl::StatusOr<Reservation> Commit(const std::string& reservation_id,
                                             const std::string& actor) = 0;
  // By reservation id, or (when `by_order`) by the order's id.
  virtual absl::StatusOr<Reservation> Release(const std::string& id, bool by_order,
                                              const std::string& reason,
                                              const std::string& actor) = 0;
  virtual absl::StatusOr<Reservation> Restock(const std::string& reservation_id,
                                              const std::string& reason,
                                              const std::string& actor) = 0;
  // Releases up to `limit` reservations past their expiry (one transaction);
  // returns them as released.
  virtual absl::StatusOr<std::vector<Reservation>> ExpireDue(int limit) = 0;
  virtual absl::StatusOr<std::vector<Availability>> Check(
      const std::vector<LineRequest>& lines) = 0;
  virtual absl::StatusOr<StockLevel> GetStock(const std::string& sku) = 0;
  virtual absl::StatusOr<ProductPage> ListProducts(int page_size, const std::string& after_sku) = 0;
};

}  // namespace shop::ims

#endif  // SHOP_SERVICES_IMS_INVENTORY_STORE_H_
