// What an InventoryStore must do, as one suite for every implementation.
// IMS's stock rules are the store's own (an atomic conditional UPDATE per
// line, all lines or none), and the domain's unit tests use a recording stub
// that models none of them, so today the suite runs against the PostgreSQL
// store only (tests/inventory_store_postgres_test.cc); a behavioural fake
// must pass it before unit tests may rely on it. Every store starts with
// DemoCatalog() seeded.
#ifndef SHOP_SERVICES_IMS_INVENTORY_STORE_CONTRACT_H_
#define SHOP_SERVICES_IMS_INVENTORY_STORE_CONTRACT_H_

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/status.h"
#include "core/testing/store_factory.h"
#include "services/ims/inventory_store.h"
#include "shop/v1/types.pb.h"

namespace shop::ims::contract {

// Makes a new store holding exactly the demo catalog, named for the test names.
using InventoryStoreFactory = shop::testing::StoreFactory<InventoryStore>;

class InventoryStoreContract : public ::testing::TestWithParam<InventoryStoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make();
    ASSERT_NE(store_, nullptr);
  }

  StockLevel Stock(const std::string& sku) {
    absl::StatusOr<StockLevel> level = store_->GetStock(sku);
    EXPECT_TRUE(level.ok()) << level.status();
    return level.value_or(StockLevel{});
  }

  absl::StatusOr<Reservation> Reserve(const std::string& order_id,
                                      const std::vector<LineRequest>& lines) {
    return store_->Reserve(order_id, lines, absl::Minutes(15), "ops");
  }

  std::unique_ptr<InventoryStore> store_;
};

TEST_P(InventoryStoreContract, ReservingHoldsStockOncePerOrder) {
  const StockLevel before = Stock("MUG-CLASSIC");
  auto reserved = Reserve("ord_1", {{"MUG-CLASSIC", 2}});
  ASSERT_TRUE(reserved.ok()) << reserved.status();
  EXPECT_EQ(reserved->status, ReservationStatus::kReserved);
  ASSERT_EQ(reserved->lines.size(), 1u);
  EXPECT_EQ(reserved->lines[0].quantity, 2);
  EXPECT_EQ(reserved->lines[0].unit_price.units, 12);  // the price is fixed by the reservation
  EXPECT_EQ(Stock("MUG-CLASSIC").available, before.available - 2);
  EXPECT_EQ(Stock("MUG-CLASSIC").reserved, before.reserved + 2);

  auto again = Reserve("ord_1", {{"MUG-CLASSIC", 2}});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->reservation_id, reserved->reservation_id);
  EXPECT_EQ(Stock("MUG-CLASSIC").available, before.available - 2);  // held once
}

TEST_P(InventoryStoreContract, AShortLineHoldsNothingAndIsNamed) {
  const StockLevel mugs = Stock("MUG-CLASSIC");
  const StockLevel grinders = Stock("GRINDER-HAND");
  auto reserved = Reserve("ord_1", {{"MUG-CLASSIC", 1}, {"GRINDER-HAND", grinders.available + 1}});
  EXPECT_EQ(reserved.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(reserved.status()), shop::v1::OUT_OF_STOCK);
  shop::v1::StockShortage shortage;
  ASSERT_TRUE(GetDetail(reserved.status(), shortage));
  ASSERT_EQ(shortage.items_size(), 1);
  EXPECT_EQ(shortage.items(0).sku(), "GRINDER-HAND");
  EXPECT_EQ(shortage.items(0).available_quantity(), grinders.available);
  EXPECT_EQ(Stock("MUG-CLASSIC").available, mugs.available);  // all lines or none
  EXPECT_EQ(Stock("GRINDER-HAND").available, grinders.available);
}

TEST_P(InventoryStoreContract, AnUnknownSkuIsInvalidArgument) {
  auto reserved = Reserve("ord_1", {{"NO-SUCH-SKU", 1}});
  EXPECT_EQ(reserved.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetStock("NO-SUCH-SKU").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(InventoryStoreContract, CommitSellsTheStockOnceAndOnlyWhileHeld) {
  const StockLevel before = Stock("BEANS-1KG");
  auto reserved = Reserve("ord_1", {{"BEANS-1KG", 3}});
  ASSERT_TRUE(reserved.ok()) << reserved.status();
  auto committed = store_->Commit(reserved->reservation_id, "ops");
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->status, ReservationStatus::kCommitted);
  EXPECT_TRUE(store_->Commit(reserved->reservation_id, "ops").ok());  // idempotent
  const StockLevel after = Stock("BEANS-1KG");
  EXPECT_EQ(after.available, before.available - 3);
  EXPECT_EQ(after.reserved, before.reserved);
  EXPECT_EQ(after.sold, before.sold + 3);

  auto released = store_->Release(reserved->reservation_id, false, "too late", "ops");
  EXPECT_EQ(released.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(released.status()), shop::v1::RESERVATION_COMMITTED);
}

TEST_P(InventoryStoreContract, ReleaseGivesTheStockBackOnceAndCannotBeCommitted) {
  const StockLevel before = Stock("KETTLE-GOOSE");
  auto reserved = Reserve("ord_1", {{"KETTLE-GOOSE", 2}});
  ASSERT_TRUE(reserved.ok()) << reserved.status();
  auto released = store_->Release("ord_1", /*by_order=*/true, "declined", "ops");
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->status, ReservationStatus::kReleased);
  EXPECT_TRUE(store_->Release(reserved->reservation_id, false, "again", "ops").ok());
  EXPECT_EQ(Stock("KETTLE-GOOSE").available, before.available);
  EXPECT_EQ(Stock("KETTLE-GOOSE").reserved, before.reserved);

  auto committed = store_->Commit(reserved->reservation_id, "ops");
  EXPECT_EQ(committed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(committed.status()), shop::v1::RESERVATION_RELEASED);
}

TEST_P(InventoryStoreContract, RestockReturnsSoldStockOnlyOnce) {
  const StockLevel before = Stock("SCALE-01");
  auto reserved = Reserve("ord_1", {{"SCALE-01", 1}});
  ASSERT_TRUE(reserved.ok()) << reserved.status();
  auto early = store_->Restock(reserved->reservation_id, "cancelled", "ops");
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(early.status()), shop::v1::RESERVATION_NOT_COMMITTED);

  ASSERT_TRUE(store_->Commit(reserved->reservation_id, "ops").ok());
  auto restocked = store_->Restock(reserved->reservation_id, "cancelled", "ops");
  ASSERT_TRUE(restocked.ok()) << restocked.status();
  EXPECT_EQ(restocked->status, ReservationStatus::kRestocked);
  EXPECT_TRUE(store_->Restock(reserved->reservation_id, "cancelled", "ops").ok());
  EXPECT_EQ(Stock("SCALE-01").available, before.available);
  EXPECT_EQ(Stock("SCALE-01").sold, before.sold);
}

TEST_P(InventoryStoreContract, CheckReportsAvailabilityWithoutHoldingAnything) {
  const StockLevel before = Stock("FILTER-100");
  auto checked = store_->Check({{"FILTER-100", 5}, {"GRINDER-HAND", 1000}});
  ASSERT_TRUE(checked.ok()) << checked.status();
  ASSERT_EQ(checked->size(), 2u);
  EXPECT_EQ((*checked)[0].sku, "FILTER-100");
  EXPECT_EQ((*checked)[0].requested, 5);
  EXPECT_EQ((*checked)[0].available, before.available);
  EXPECT_LT((*checked)[1].available, 1000);
  EXPECT_EQ(Stock("FILTER-100").available, before.available);
  EXPECT_EQ(store_->Check({{"NO-SUCH-SKU", 1}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(InventoryStoreContract, ProductsPageInSkuOrder) {
  auto first = store_->ListProducts(2, "");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->products.size(), 2u);
  EXPECT_LT(first->products[0].sku, first->products[1].sku);
  ASSERT_FALSE(first->next_page_token.empty());
  auto second = store_->ListProducts(100, first->products[1].sku);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_FALSE(second->products.empty());
  EXPECT_GT(second->products[0].sku, first->products[1].sku);
  EXPECT_TRUE(second->next_page_token.empty());
}

TEST_P(InventoryStoreContract, NothingExpiresBeforeItsTime) {
  ASSERT_TRUE(Reserve("ord_1", {{"MUG-CLASSIC", 1}}).ok());
  auto expired = store_->ExpireDue(100);
  ASSERT_TRUE(expired.ok()) << expired.status();
  EXPECT_TRUE(expired->empty());
}

}  // namespace shop::ims::contract

#endif  // SHOP_SERVICES_IMS_INVENTORY_STORE_CONTRACT_H_
