// The inventory domain: products, stock and reservations. Business rules and
// input checks live here; SQL lives in store.cc; gRPC in ims_grpc.cc.
#ifndef SHOP_SERVICES_IMS_INVENTORY_H_
#define SHOP_SERVICES_IMS_INVENTORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/money.h"

namespace shop {
class AuditSink;
}  // namespace shop

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
  virtual absl::StatusOr<ProductPage> ListProducts(int page_size,
                                                   const std::string& after_sku) = 0;
};

class Inventory {
 public:
  struct Options {
    absl::Duration default_ttl = absl::Minutes(15);
    absl::Duration max_ttl = absl::Hours(24);
  };
  // `audit` (may be null) receives a `reservation.expired` event for each
  // reservation the expiry gives back: no RPC shows that stock move.
  Inventory(InventoryStore* store, Options options, AuditSink* audit = nullptr)
      : store_(store), options_(options), audit_(audit) {}

  absl::StatusOr<Reservation> Reserve(const std::string& order_id,
                                      const std::vector<LineRequest>& lines, int32_t ttl_seconds,
                                      const std::string& actor);
  absl::StatusOr<Reservation> Commit(const std::string& reservation_id, const std::string& actor);
  // One of `reservation_id` and `order_id`.
  absl::StatusOr<Reservation> Release(const std::string& reservation_id,
                                      const std::string& order_id, const std::string& reason,
                                      const std::string& actor);
  absl::StatusOr<Reservation> Restock(const std::string& reservation_id,
                                      const std::string& reason, const std::string& actor);
  // Gives back the stock of every reservation past its expiry; returns how
  // many reservations it released.
  absl::StatusOr<int> ExpireDue();
  absl::StatusOr<std::vector<Availability>> CheckAvailability(
      const std::vector<LineRequest>& lines);
  absl::StatusOr<StockLevel> GetStock(const std::string& sku);
  absl::StatusOr<ProductPage> ListProducts(int32_t page_size, const std::string& page_token);

 private:
  InventoryStore* store_;
  Options options_;
  AuditSink* audit_;
};

// The products and stock seeded into an empty catalog (the demo shop).
std::vector<std::pair<Product, int32_t>> DemoCatalog();

}  // namespace shop::ims

#endif  // SHOP_SERVICES_IMS_INVENTORY_H_
