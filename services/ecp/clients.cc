#include "services/ecp/clients.h"

#include <utility>

#include "core/grpc/client_call.h"
#include "core/status.h"

namespace shop::ecp {
namespace {

using shop::ops::v1::OrderProcessingService;

// The saga: 4 steps of at most 5 s (inventory) or 20 s (payments) each.
constexpr std::chrono::seconds kPlaceOrderTimeout(60);
constexpr std::chrono::seconds kReadTimeout(5);

// Every ops answer about one order is { Order order = 1; }.
template <typename Response>
absl::StatusOr<shop::v1::Order> OrderOf(absl::StatusOr<Response> response) {
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_order());
}

}  // namespace

absl::StatusOr<shop::v1::Order> GrpcOrdersClient::PlaceOrder(const OrderRequest& request) {
  shop::ops::v1::PlaceOrderRequest wire;
  wire.set_customer_id(request.customer_id);
  *wire.mutable_lines() = request.lines;
  if (request.shipping_address) *wire.mutable_shipping_address() = *request.shipping_address;
  if (request.billing_address) *wire.mutable_billing_address() = *request.billing_address;
  wire.set_payment_method_token(request.payment_method_token);
  wire.set_idempotency_key(request.idempotency_key);
  return OrderOf(
      CallUnary(*stub_, &OrderProcessingService::Stub::PlaceOrder, wire, kPlaceOrderTimeout));
}

absl::StatusOr<shop::v1::Order> GrpcOrdersClient::GetOrder(const std::string& order_id,
                                                           const std::string& customer_id) {
  shop::ops::v1::GetOrderRequest wire;
  wire.set_order_id(order_id);
  wire.set_customer_id(customer_id);
  return OrderOf(CallUnary(*stub_, &OrderProcessingService::Stub::GetOrder, wire, kReadTimeout));
}

absl::StatusOr<OrderPage> GrpcOrdersClient::ListOrders(const std::string& customer_id,
                                                       int32_t page_size,
                                                       const std::string& page_token,
                                                       shop::v1::OrderStatus status) {
  shop::ops::v1::ListOrdersRequest wire;
  wire.set_customer_id(customer_id);
  wire.set_page_size(page_size);
  wire.set_page_token(page_token);
  wire.set_status(status);
  SHOP_ASSIGN_OR_RETURN(
      shop::ops::v1::ListOrdersResponse listed,
      CallUnary(*stub_, &OrderProcessingService::Stub::ListOrders, wire, kReadTimeout));
  OrderPage page;
  for (auto& order : *listed.mutable_orders()) page.orders.push_back(std::move(order));
  page.next_page_token = listed.next_page_token();
  return page;
}

absl::StatusOr<shop::v1::Order> GrpcOrdersClient::CancelOrder(const std::string& order_id,
                                                              const std::string& customer_id,
                                                              const std::string& reason) {
  shop::ops::v1::CancelOrderRequest wire;
  wire.set_order_id(order_id);
  wire.set_customer_id(customer_id);
  wire.set_reason(reason);
  // A cancellation refunds through the payment gateway.
  return OrderOf(
      CallUnary(*stub_, &OrderProcessingService::Stub::CancelOrder, wire, kPlaceOrderTimeout));
}

absl::StatusOr<shop::v1::Order> GrpcOrdersClient::StartProcessing(const std::string& order_id,
                                                                  const std::string& note) {
  shop::ops::v1::StartProcessingRequest wire;
  wire.set_order_id(order_id);
  wire.set_note(note);
  return OrderOf(
      CallUnary(*stub_, &OrderProcessingService::Stub::StartProcessing, wire, kReadTimeout));
}

absl::StatusOr<shop::v1::Order> GrpcOrdersClient::ShipOrder(const std::string& order_id,
                                                            const std::string& carrier,
                                                            const std::string& tracking_number) {
  shop::ops::v1::ShipOrderRequest wire;
  wire.set_order_id(order_id);
  wire.set_carrier(carrier);
  wire.set_tracking_number(tracking_number);
  return OrderOf(CallUnary(*stub_, &OrderProcessingService::Stub::ShipOrder, wire, kReadTimeout));
}

absl::StatusOr<shop::v1::Order> GrpcOrdersClient::DeliverOrder(const std::string& order_id,
                                                               const std::string& note) {
  shop::ops::v1::DeliverOrderRequest wire;
  wire.set_order_id(order_id);
  wire.set_note(note);
  return OrderOf(
      CallUnary(*stub_, &OrderProcessingService::Stub::DeliverOrder, wire, kReadTimeout));
}

absl::StatusOr<ProductPage> GrpcCatalogClient::ListProducts(int32_t page_size,
                                                            const std::string& page_token) {
  shop::v1::ListProductsRequest wire;
  wire.set_page_size(page_size);
  wire.set_page_token(page_token);
  SHOP_ASSIGN_OR_RETURN(
      shop::v1::ListProductsResponse listed,
      CallUnary(*stub_, &shop::v1::InventoryService::Stub::ListProducts, wire, kReadTimeout));
  ProductPage page;
  for (auto& product : *listed.mutable_products()) page.products.push_back(std::move(product));
  page.next_page_token = listed.next_page_token();
  return page;
}

}  // namespace shop::ecp
