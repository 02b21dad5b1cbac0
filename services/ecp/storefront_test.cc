#include "services/ecp/storefront.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "google/rpc/error_details.pb.h"

namespace shop::ecp {
namespace {

using shop::v1::Order;

struct Call {
  std::string order_id;
  std::string customer_id;
  std::string text;  // reason or note
};

class FakeOrders final : public OrdersClient {
 public:
  absl::StatusOr<Order> PlaceOrder(const OrderRequest& request) override {
    forwarded.push_back(request);
    Order order;
    order.set_order_id("ord_1");
    order.set_customer_id(request.customer_id);
    return order;
  }
  absl::StatusOr<Order> GetOrder(const std::string& order_id,
                                 const std::string& customer_id) override {
    lookups.push_back({order_id, customer_id, ""});
    Order order;
    order.set_order_id(order_id);
    if (!statuses.empty()) {
      order.set_status(statuses.front());
      if (statuses.size() > 1) statuses.erase(statuses.begin());
    }
    return order;
  }
  absl::StatusOr<OrderPage> ListOrders(const std::string&, int32_t, const std::string&,
                                       shop::v1::OrderStatus) override {
    return OrderPage{};
  }
  absl::StatusOr<Order> CancelOrder(const std::string& order_id, const std::string& customer_id,
                                    const std::string& reason) override {
    cancels.push_back({order_id, customer_id, reason});
    return Order{};
  }
  absl::StatusOr<Order> StartProcessing(const std::string& order_id,
                                        const std::string& note) override {
    processing.push_back({order_id, "", note});
    return Order{};
  }
  absl::StatusOr<Order> ShipOrder(const std::string&, const std::string&,
                                  const std::string&) override {
    return Order{};
  }
  absl::StatusOr<Order> DeliverOrder(const std::string&, const std::string&) override {
    return Order{};
  }
  std::vector<Call> processing;
  std::vector<Call> cancels;
  std::vector<OrderRequest> forwarded;
  std::vector<Call> lookups;
  // What successive GetOrder calls answer (the last one repeats).
  std::vector<shop::v1::OrderStatus> statuses;
};

class FakeCatalog final : public CatalogClient {
 public:
  absl::StatusOr<ProductPage> ListProducts(int32_t, const std::string&) override {
    ProductPage page;
    page.products.emplace_back().set_sku("MUG-CLASSIC");
    return page;
  }
};

OrderRequest GoodRequest() {
  OrderRequest request;
  auto* line = request.lines.Add();
  line->set_sku("MUG-CLASSIC");
  line->set_quantity(1);
  shop::v1::Address address;
  address.set_name("Ada");
  address.set_line1("1 Main St");
  address.set_city("New York");
  address.set_postal_code("10001");
  address.set_country_code("US");
  request.shipping_address = address;
  request.payment_method_token = "pm_card_visa";
  request.idempotency_key = "key-1";
  return request;
}

class StorefrontTest : public ::testing::Test {
 protected:
  FakeOrders orders_;
  FakeCatalog catalog_;
  SimulatedClock clock_;
  Storefront storefront_{&orders_, &catalog_, &clock_, absl::Milliseconds(250)};
};

TEST_F(StorefrontTest, ForwardsTheAuthenticatedCustomer) {
  OrderRequest request = GoodRequest();
  request.customer_id = "someone_else";  // the authenticated user wins
  auto placed = storefront_.PlaceOrder("cust_7", request);
  ASSERT_TRUE(placed.ok()) << placed.status();
  ASSERT_EQ(orders_.forwarded.size(), 1u);
  EXPECT_EQ(orders_.forwarded[0].customer_id, "cust_7");
  EXPECT_EQ(placed->customer_id(), "cust_7");
}

TEST_F(StorefrontTest, NoCustomerIsUnauthenticated) {
  auto placed = storefront_.PlaceOrder("", GoodRequest());
  EXPECT_EQ(placed.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ReasonOf(placed.status()), shop::v1::NOT_SIGNED_IN);
  EXPECT_EQ(storefront_.GetOrder("", "ord_1").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(orders_.forwarded.empty());
}

TEST_F(StorefrontTest, BadOrderNeverLeavesTheEdge) {
  OrderRequest request = GoodRequest();
  request.lines.Mutable(0)->set_quantity(0);
  request.shipping_address.reset();
  auto placed = storefront_.PlaceOrder("cust_7", request);
  EXPECT_EQ(placed.status().code(), absl::StatusCode::kInvalidArgument);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(placed.status(), bad_request));
  EXPECT_EQ(bad_request.field_violations(0).field(), "lines[0].quantity");
  EXPECT_EQ(bad_request.field_violations(1).field(), "shipping_address");
  EXPECT_TRUE(orders_.forwarded.empty());
}

TEST_F(StorefrontTest, GetOrderAsksForThisCustomersOrder) {
  ASSERT_TRUE(storefront_.GetOrder("cust_7", "ord_1").ok());
  EXPECT_EQ(orders_.lookups[0].customer_id, "cust_7");
  EXPECT_EQ(storefront_.GetOrder("cust_7", "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StorefrontTest, CancelActsForTheAuthenticatedCustomerOnly) {
  EXPECT_EQ(storefront_.CancelOrder("", "ord_1", "").status().code(),
            absl::StatusCode::kUnauthenticated);
  ASSERT_TRUE(storefront_.CancelOrder("cust_7", "ord_1", "changed my mind").ok());
  ASSERT_EQ(orders_.cancels.size(), 1u);
  EXPECT_EQ(orders_.cancels[0].customer_id, "cust_7");
  EXPECT_EQ(orders_.cancels[0].text, "changed my mind");
  EXPECT_EQ(storefront_.CancelOrder("cust_7", "ord_1", std::string(201, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StorefrontTest, PlaceOrderNeedsAnIdempotencyKey) {
  OrderRequest request = GoodRequest();
  request.idempotency_key.clear();
  auto placed = storefront_.PlaceOrder("cust_7", request);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(placed.status(), bad_request));
  EXPECT_EQ(bad_request.field_violations(0).field(), "idempotency_key");
  EXPECT_TRUE(orders_.forwarded.empty());
}

TEST_F(StorefrontTest, BrowseCatalogPassesProductsThrough) {
  auto catalog = storefront_.BrowseCatalog(0, "");
  ASSERT_TRUE(catalog.ok());
  EXPECT_EQ(catalog->products[0].sku(), "MUG-CLASSIC");
}

TEST_F(StorefrontTest, WatchSendsEachStatusChangeOnceUntilTheOrderIsFinal) {
  orders_.statuses = {shop::v1::ORDER_STATUS_PENDING, shop::v1::ORDER_STATUS_PENDING,
                      shop::v1::ORDER_STATUS_CONFIRMED, shop::v1::ORDER_STATUS_CANCELLED};
  std::vector<shop::v1::OrderStatus> sent;
  absl::Status watched = storefront_.WatchOrder(
      "cust_7", "ord_1", clock_.Now() + absl::Minutes(1),
      [&](const Order& order) {
        sent.push_back(order.status());
        return true;
      },
      [] { return false; });
  EXPECT_TRUE(watched.ok()) << watched;
  EXPECT_EQ(sent, (std::vector<shop::v1::OrderStatus>{shop::v1::ORDER_STATUS_PENDING,
                                                      shop::v1::ORDER_STATUS_CONFIRMED,
                                                      shop::v1::ORDER_STATUS_CANCELLED}));
  EXPECT_EQ(orders_.lookups.size(), 4u);  // one look per interval, on simulated time
}

TEST_F(StorefrontTest, WatchEndsAtTheDeadlineOrWhenCancelledOrWhenTheWatcherLeaves) {
  orders_.statuses = {shop::v1::ORDER_STATUS_PENDING};
  auto keep = [](const Order&) { return true; };
  const absl::Time start = clock_.Now();
  absl::Status expired = storefront_.WatchOrder("cust_7", "ord_1", start + absl::Seconds(2), keep,
                                                [] { return false; });
  EXPECT_EQ(expired.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LE(clock_.Now(), start + absl::Seconds(2));  // never sleeps past the deadline
  EXPECT_EQ(
      storefront_
          .WatchOrder("cust_7", "ord_1", clock_.Now() + absl::Minutes(1), keep, [] { return true; })
          .code(),
      absl::StatusCode::kCancelled);
  EXPECT_TRUE(storefront_
                  .WatchOrder(
                      "cust_7", "ord_1", clock_.Now() + absl::Minutes(1),
                      [](const Order&) { return false; }, [] { return false; })
                  .ok());
}

TEST(StorefrontFulfilmentTest, OnlyStaffFulfilsAndTheStaffMemberIsRecorded) {
  FakeOrders orders;
  FakeCatalog catalog;
  Storefront storefront(&orders, &catalog);
  EXPECT_EQ(storefront.StartProcessing({"alice", false}, "ord_1", "").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(storefront.StartProcessing({"", true}, "ord_1", "").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(orders.processing.empty());
  ASSERT_TRUE(storefront.StartProcessing({"sam", true}, "ord_1", "").ok());
  ASSERT_EQ(orders.processing.size(), 1u);
  EXPECT_EQ(orders.processing[0].text, "by staff sam");
  EXPECT_EQ(storefront.StartProcessing({"sam", true}, "", "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shop::ecp
