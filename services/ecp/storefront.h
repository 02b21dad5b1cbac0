// The customer-facing edge: validates what a customer asks for and forwards
// it to the order processing system and the catalog. It holds no state.
#ifndef SHOP_SERVICES_ECP_STOREFRONT_H_
#define SHOP_SERVICES_ECP_STOREFRONT_H_

#include <string>

#include "absl/status/statusor.h"
#include "shop/v1/ecp.pb.h"
#include "shop/v1/ims.pb.h"
#include "shop/v1/ops.pb.h"

namespace shop::ecp {

class OrdersBackend {
 public:
  virtual ~OrdersBackend() = default;
  virtual absl::StatusOr<shop::v1::ProcessOrderResponse> ProcessOrder(
      const shop::v1::ProcessOrderRequest& request) = 0;
  virtual absl::StatusOr<shop::v1::LookupOrderResponse> LookupOrder(
      const shop::v1::LookupOrderRequest& request) = 0;
  virtual absl::StatusOr<shop::v1::ListCustomerOrdersResponse> ListCustomerOrders(
      const shop::v1::ListCustomerOrdersRequest& request) = 0;
  virtual absl::StatusOr<shop::v1::CancelCustomerOrderResponse> CancelCustomerOrder(
      const shop::v1::CancelCustomerOrderRequest& request) = 0;
  virtual absl::StatusOr<shop::v1::MarkProcessingResponse> MarkProcessing(
      const shop::v1::MarkProcessingRequest& request) = 0;
  virtual absl::StatusOr<shop::v1::MarkShippedResponse> MarkShipped(
      const shop::v1::MarkShippedRequest& request) = 0;
  virtual absl::StatusOr<shop::v1::MarkDeliveredResponse> MarkDelivered(
      const shop::v1::MarkDeliveredRequest& request) = 0;
};

class CatalogBackend {
 public:
  virtual ~CatalogBackend() = default;
  virtual absl::StatusOr<shop::v1::ListProductsResponse> ListProducts(
      const shop::v1::ListProductsRequest& request) = 0;
};

// DELIVERED, CANCELLED, FAILED, PAYMENT_FAILED: nothing changes after these.
bool IsFinalStatus(shop::v1::OrderStatus status);

class Storefront {
 public:
  Storefront(OrdersBackend* orders, CatalogBackend* catalog) : orders_(orders), catalog_(catalog) {}

  // `customer_id` is the authenticated end user; UNAUTHENTICATED when empty.
  absl::StatusOr<shop::v1::PlaceOrderResponse> PlaceOrder(
      const std::string& customer_id, const shop::v1::PlaceOrderRequest& request);
  absl::StatusOr<shop::v1::GetOrderResponse> GetOrder(const std::string& customer_id,
                                                      const shop::v1::GetOrderRequest& request);
  absl::StatusOr<shop::v1::ListOrdersResponse> ListOrders(
      const std::string& customer_id, const shop::v1::ListOrdersRequest& request);
  absl::StatusOr<shop::v1::CancelOrderResponse> CancelOrder(
      const std::string& customer_id, const shop::v1::CancelOrderRequest& request);
  absl::StatusOr<shop::v1::BrowseCatalogResponse> BrowseCatalog(
      const shop::v1::BrowseCatalogRequest& request);

  // Fulfilment: `staff` says the caller's token has the staff role
  // (PERMISSION_DENIED otherwise); `user` goes into the status history.
  absl::StatusOr<shop::v1::FulfilmentResponse> StartProcessing(
      const std::string& user, bool staff, const shop::v1::StartProcessingRequest& request);
  absl::StatusOr<shop::v1::FulfilmentResponse> ShipOrder(
      const std::string& user, bool staff, const shop::v1::ShipOrderRequest& request);
  absl::StatusOr<shop::v1::FulfilmentResponse> DeliverOrder(
      const std::string& user, bool staff, const shop::v1::DeliverOrderRequest& request);

 private:
  OrdersBackend* orders_;
  CatalogBackend* catalog_;
};

}  // namespace shop::ecp

#endif  // SHOP_SERVICES_ECP_STOREFRONT_H_
