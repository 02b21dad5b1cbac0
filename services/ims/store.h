// PostgreSQL persistence of the inventory (see migrations/).
#ifndef SHOP_SERVICES_IMS_STORE_H_
#define SHOP_SERVICES_IMS_STORE_H_

#include <memory>

#include "services/ims/inventory_store.h"

namespace shop {
class PostgresPool;
}

namespace shop::ims {

class PostgresInventoryStore final : public InventoryStore {
 public:
  explicit PostgresInventoryStore(PostgresPool* pool) : pool_(pool) {}

  // Applies the migrations; seeds DemoCatalog() when the catalog is empty.
  absl::Status Prepare(bool seed_demo_catalog);

  absl::StatusOr<Reservation> Reserve(const std::string& order_id,
                                      const std::vector<LineRequest>& lines, absl::Duration ttl,
                                      const std::string& actor) override;
  absl::StatusOr<Reservation> Commit(const std::string& reservation_id,
                                     const std::string& actor) override;
  absl::StatusOr<Reservation> Release(const std::string& id, bool by_order,
                                      const std::string& reason, const std::string& actor) override;
  absl::StatusOr<Reservation> Restock(const std::string& reservation_id, const std::string& reason,
                                      const std::string& actor) override;
  absl::StatusOr<std::vector<Reservation>> ExpireDue(int limit) override;
  absl::StatusOr<std::vector<Availability>> Check(const std::vector<LineRequest>& lines) override;
  absl::StatusOr<StockLevel> GetStock(const std::string& sku) override;
  absl::StatusOr<ProductPage> ListProducts(int page_size, const std::string& after_sku) override;

 private:
  PostgresPool* pool_;
};

}  // namespace shop::ims

#endif  // SHOP_SERVICES_IMS_STORE_H_
