#include "services/ims/inventory.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/span.h"
#include "core/status.h"
#include "google/rpc/error_details.pb.h"

namespace shop::ims {
namespace {

// Records what reaches the store; the store is never called on bad input.
class RecordingStore final : public InventoryStore {
 public:
  absl::StatusOr<Reservation> Reserve(const std::string& order_id,
                                      const std::vector<LineRequest>& lines, absl::Duration ttl,
                                      const std::string&) override {
    ++calls;
    last_ttl = ttl;
    return Reservation{"res_1", order_id, ReservationStatus::kReserved, {}, absl::Now() + ttl};
  }
  absl::StatusOr<Reservation> Commit(const std::string&, const std::string&) override {
    ++calls;
    return Reservation{};
  }
  absl::StatusOr<Reservation> Release(const std::string&, bool, const std::string&,
                                      const std::string&) override {
    ++calls;
    return Reservation{};
  }
  absl::StatusOr<Reservation> Restock(const std::string&, const std::string&,
                                      const std::string&) override {
    ++calls;
    return Reservation{};
  }
  absl::StatusOr<std::vector<Reservation>> ExpireDue(int limit) override {
    ++calls;
    const size_t n = std::min(due.size(), static_cast<size_t>(limit));
    std::vector<Reservation> out(due.begin(), due.begin() + n);
    due.erase(due.begin(), due.begin() + n);
    return out;
  }
  std::vector<Reservation> due;  // past their expiry
  absl::StatusOr<std::vector<Availability>> Check(const std::vector<LineRequest>&) override {
    ++calls;
    return std::vector<Availability>{};
  }
  absl::StatusOr<StockLevel> GetStock(const std::string& sku) override {
    ++calls;
    return StockLevel{sku, 1, 0, 0};
  }
  absl::StatusOr<ProductPage> ListProducts(int page_size, const std::string&) override {
    ++calls;
    last_page_size = page_size;
    return ProductPage{};
  }
  int calls = 0;
  absl::Duration last_ttl;
  int last_page_size = 0;
};

std::vector<std::string> ViolatedFields(const absl::Status& status) {
  google::rpc::BadRequest bad_request;
  std::vector<std::string> fields;
  if (GetDetail(status, bad_request)) {
    for (const auto& v : bad_request.field_violations()) fields.push_back(v.field());
  }
  return fields;
}

class InventoryTest : public ::testing::Test {
 protected:
  RecordingStore store_;
  Inventory inventory_{&store_, {absl::Minutes(15), absl::Hours(24)}};
};

TEST_F(InventoryTest, ReserveUsesDefaultTtl) {
  auto reservation = inventory_.Reserve("ord_1", {{"MUG-CLASSIC", 2}}, 0, "ops");
  ASSERT_TRUE(reservation.ok()) << reservation.status();
  EXPECT_EQ(store_.last_ttl, absl::Minutes(15));
}

TEST_F(InventoryTest, ReserveRejectsBadLinesWithoutTouchingTheStore) {
  auto reservation = inventory_.Reserve("ord_1", {{"mug", 1}, {"MUG", 0}, {"MUG", 1}}, 0, "ops");
  EXPECT_EQ(reservation.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ViolatedFields(reservation.status()),
            (std::vector<std::string>{"lines[0].sku", "lines[1].quantity", "lines[2].sku"}));
  EXPECT_EQ(store_.calls, 0);
}

TEST_F(InventoryTest, ReserveRejectsBadOrderIdAndTtl) {
  EXPECT_EQ(ViolatedFields(inventory_.Reserve("", {{"A", 1}}, 0, "ops").status()),
            std::vector<std::string>{"order_id"});
  EXPECT_EQ(ViolatedFields(inventory_.Reserve("ord_1", {{"A", 1}}, 90000, "ops").status()),
            std::vector<std::string>{"ttl_seconds"});
  EXPECT_EQ(store_.calls, 0);
}

TEST_F(InventoryTest, ListProductsDefaultsAndBounds) {
  ASSERT_TRUE(inventory_.ListProducts(0, "").ok());
  EXPECT_EQ(store_.last_page_size, 50);
  EXPECT_EQ(ViolatedFields(inventory_.ListProducts(101, "").status()),
            std::vector<std::string>{"page_size"});
  EXPECT_EQ(ViolatedFields(inventory_.ListProducts(10, "bad token!").status()),
            std::vector<std::string>{"page_token"});
}

TEST_F(InventoryTest, ReleaseReasonMustBeText) {
  auto released = inventory_.Release("res_1", "", std::string("\xff\xfe", 2), "ops");
  EXPECT_EQ(ViolatedFields(released.status()), std::vector<std::string>{"reason"});
}

TEST_F(InventoryTest, ReleaseNeedsExactlyOneId) {
  EXPECT_EQ(ViolatedFields(inventory_.Release("", "", "", "ops").status()),
            std::vector<std::string>{"reservation_id"});
  EXPECT_EQ(ViolatedFields(inventory_.Release("res_1", "ord_1", "", "ops").status()),
            std::vector<std::string>{"reservation_id"});
  EXPECT_TRUE(inventory_.Release("", "ord_1", "", "ops").ok());
  EXPECT_EQ(store_.calls, 1);
}

class RecordingAudit final : public AuditSink {
 public:
  void Emit(shop::v1::AuditEvent event) override { events.push_back(std::move(event)); }
  std::vector<shop::v1::AuditEvent> events;
};

Reservation DueReservation(int n) {
  Reservation r;
  r.reservation_id = "res_" + std::to_string(n);
  r.order_id = "ord_" + std::to_string(n);
  r.status = ReservationStatus::kReleased;
  r.lines = {{"MUG-CLASSIC", "Mug", 2, {}}, {"BEANS-1KG", "Beans", 1, {}}};
  return r;
}

TEST(InventoryExpiryTest, EveryExpiredReservationIsAuditedUnderItsOrder) {
  RecordingStore store;
  for (int i = 0; i < 250; ++i) store.due.push_back(DueReservation(i));  // three batches
  RecordingAudit audit;
  Inventory inventory(&store, {absl::Minutes(15), absl::Hours(24)}, &audit);
  auto released = inventory.ExpireDue();
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(*released, 250);
  EXPECT_EQ(store.calls, 3);
  ASSERT_EQ(audit.events.size(), 250u);
  const shop::v1::AuditEvent& last = audit.events.back();
  EXPECT_EQ(last.kind(), shop::v1::EVENT_KIND_BUSINESS);
  EXPECT_EQ(last.name(), "reservation.expired");
  EXPECT_EQ(last.order_id(), "ord_249");
  const std::map<std::string, std::string> attributes(last.attributes().begin(),
                                                      last.attributes().end());
  EXPECT_EQ(attributes, (std::map<std::string, std::string>{
                            {"reservation_id", "res_249"}, {"lines", "2"}, {"units", "3"}}));
  EXPECT_FALSE(last.event_id().empty());
}

TEST(InventoryExpiryTest, NothingDueEmitsNothing) {
  RecordingStore store;
  RecordingAudit audit;
  Inventory inventory(&store, {absl::Minutes(15), absl::Hours(24)}, &audit);
  auto released = inventory.ExpireDue();
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(*released, 0);
  EXPECT_EQ(store.calls, 1);
  EXPECT_TRUE(audit.events.empty());
}

TEST(DemoCatalogTest, PricesAreExactCents) {
  for (const auto& [product, stock] : DemoCatalog()) {
    EXPECT_EQ(product.unit_price.nanos % 10'000'000, 0) << product.sku;
    EXPECT_GT(stock, 0) << product.sku;
  }
}

}  // namespace
}  // namespace shop::ims
