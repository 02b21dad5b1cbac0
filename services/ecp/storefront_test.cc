#include "services/ecp/storefront.h"

#include <gtest/gtest.h>

#include "core/status.h"
#include "google/rpc/error_details.pb.h"

namespace shop::ecp {
namespace {

class FakeOrders final : public OrdersBackend {
 public:
  absl::StatusOr<shop::v1::ProcessOrderResponse> ProcessOrder(
      const shop::v1::ProcessOrderRequest& request) override {
    forwarded.push_back(request);
    shop::v1::ProcessOrderResponse response;
    response.mutable_order()->set_order_id("ord_1");
    response.mutable_order()->set_customer_id(request.customer_id());
    return response;
  }
  absl::StatusOr<shop::v1::LookupOrderResponse> LookupOrder(
      const shop::v1::LookupOrderRequest& request) override {
    lookups.push_back(request);
    return shop::v1::LookupOrderResponse{};
  }
  absl::StatusOr<shop::v1::ListCustomerOrdersResponse> ListCustomerOrders(
      const shop::v1::ListCustomerOrdersRequest&) override {
    return shop::v1::ListCustomerOrdersResponse{};
  }
  absl::StatusOr<shop::v1::CancelCustomerOrderResponse> CancelCustomerOrder(
      const shop::v1::CancelCustomerOrderRequest& request) override {
    cancels.push_back(request);
    return shop::v1::CancelCustomerOrderResponse{};
  }
  absl::StatusOr<shop::v1::MarkProcessingResponse> MarkProcessing(
      const shop::v1::MarkProcessingRequest& request) override {
    processing.push_back(request);
    return shop::v1::MarkProcessingResponse{};
  }
  absl::StatusOr<shop::v1::MarkShippedResponse> MarkShipped(
      const shop::v1::MarkShippedRequest&) override {
    return shop::v1::MarkShippedResponse{};
  }
  absl::StatusOr<shop::v1::MarkDeliveredResponse> MarkDelivered(
      const shop::v1::MarkDeliveredRequest&) override {
    return shop::v1::MarkDeliveredResponse{};
  }
  std::vector<shop::v1::MarkProcessingRequest> processing;
  std::vector<shop::v1::CancelCustomerOrderRequest> cancels;
  std::vector<shop::v1::ProcessOrderRequest> forwarded;
  std::vector<shop::v1::LookupOrderRequest> lookups;
};

class FakeCatalog final : public CatalogBackend {
 public:
  absl::StatusOr<shop::v1::ListProductsResponse> ListProducts(
      const shop::v1::ListProductsRequest&) override {
    shop::v1::ListProductsResponse response;
    response.add_products()->set_sku("MUG-CLASSIC");
    return response;
  }
};

shop::v1::PlaceOrderRequest GoodRequest() {
  shop::v1::PlaceOrderRequest request;
  auto* line = request.add_lines();
  line->set_sku("MUG-CLASSIC");
  line->set_quantity(1);
  auto* address = request.mutable_shipping_address();
  address->set_name("Ada");
  address->set_line1("1 Main St");
  address->set_city("New York");
  address->set_postal_code("10001");
  address->set_country_code("US");
  request.set_payment_method_token("pm_card_visa");
  request.set_idempotency_key("key-1");
  return request;
}

class StorefrontTest : public ::testing::Test {
 protected:
  FakeOrders orders_;
  FakeCatalog catalog_;
  Storefront storefront_{&orders_, &catalog_};
};

TEST_F(StorefrontTest, ForwardsTheAuthenticatedCustomer) {
  auto placed = storefront_.PlaceOrder("cust_7", GoodRequest());
  ASSERT_TRUE(placed.ok()) << placed.status();
  ASSERT_EQ(orders_.forwarded.size(), 1u);
  EXPECT_EQ(orders_.forwarded[0].customer_id(), "cust_7");
  EXPECT_EQ(placed->order().customer_id(), "cust_7");
}

TEST_F(StorefrontTest, NoCustomerIsUnauthenticated) {
  auto placed = storefront_.PlaceOrder("", GoodRequest());
  EXPECT_EQ(placed.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(storefront_.GetOrder("", {}).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(orders_.forwarded.empty());
}

TEST_F(StorefrontTest, BadOrderNeverLeavesTheEdge) {
  shop::v1::PlaceOrderRequest request = GoodRequest();
  request.mutable_lines(0)->set_quantity(0);
  request.clear_shipping_address();
  auto placed = storefront_.PlaceOrder("cust_7", request);
  EXPECT_EQ(placed.status().code(), absl::StatusCode::kInvalidArgument);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(placed.status(), bad_request));
  EXPECT_EQ(bad_request.field_violations(0).field(), "lines[0].quantity");
  EXPECT_EQ(bad_request.field_violations(1).field(), "shipping_address");
  EXPECT_TRUE(orders_.forwarded.empty());
}

TEST_F(StorefrontTest, GetOrderAsksForThisCustomersOrder) {
  shop::v1::GetOrderRequest request;
  request.set_order_id("ord_1");
  ASSERT_TRUE(storefront_.GetOrder("cust_7", request).ok());
  EXPECT_EQ(orders_.lookups[0].customer_id(), "cust_7");
}

TEST_F(StorefrontTest, CancelActsForTheAuthenticatedCustomerOnly) {
  shop::v1::CancelOrderRequest request;
  request.set_order_id("ord_1");
  EXPECT_EQ(storefront_.CancelOrder("", request).status().code(),
            absl::StatusCode::kUnauthenticated);
  ASSERT_TRUE(storefront_.CancelOrder("cust_7", request).ok());
  ASSERT_EQ(orders_.cancels.size(), 1u);
  EXPECT_EQ(orders_.cancels[0].customer_id(), "cust_7");
}

TEST_F(StorefrontTest, PlaceOrderNeedsAnIdempotencyKey) {
  shop::v1::PlaceOrderRequest request = GoodRequest();
  request.clear_idempotency_key();
  auto placed = storefront_.PlaceOrder("cust_7", request);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(placed.status(), bad_request));
  EXPECT_EQ(bad_request.field_violations(0).field(), "idempotency_key");
  EXPECT_TRUE(orders_.forwarded.empty());
}

TEST_F(StorefrontTest, BrowseCatalogPassesProductsThrough) {
  auto catalog = storefront_.BrowseCatalog({});
  ASSERT_TRUE(catalog.ok());
  EXPECT_EQ(catalog->products(0).sku(), "MUG-CLASSIC");
}

TEST(StorefrontFulfilmentTest, OnlyStaffFulfilsAndTheStaffMemberIsRecorded) {
  FakeOrders orders;
  FakeCatalog catalog;
  Storefront storefront(&orders, &catalog);
  shop::v1::StartProcessingRequest request;
  request.set_order_id("ord_1");
  EXPECT_EQ(storefront.StartProcessing("alice", false, request).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(storefront.StartProcessing("", true, request).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(orders.processing.empty());
  ASSERT_TRUE(storefront.StartProcessing("sam", true, request).ok());
  ASSERT_EQ(orders.processing.size(), 1u);
  EXPECT_EQ(orders.processing[0].note(), "by staff sam");
  request.set_order_id("");
  EXPECT_EQ(storefront.StartProcessing("sam", true, request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shop::ecp
