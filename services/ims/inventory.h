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
#include "services/ims/inventory_store.h"

namespace shop {
class AuditSink;
}  // namespace shop

namespace shop::ims {

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
  absl::StatusOr<Reservation> Restock(const std::string& reservation_id, const std::string& reason,
                                      const std::string& actor);
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
