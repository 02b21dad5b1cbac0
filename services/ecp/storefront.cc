#include "services/ecp/storefront.h"

#include "core/status.h"
#include "core/validation.h"

namespace shop::ecp {
namespace {

absl::Status RequireCustomer(const std::string& customer_id) {
  if (customer_id.empty()) {
    return absl::UnauthenticatedError("no end user: send the x-shop-customer-id header");
  }
  if (!IsValidId(customer_id)) {
    return absl::UnauthenticatedError("malformed end-user id in x-shop-customer-id");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<shop::v1::PlaceOrderResponse> Storefront::PlaceOrder(
    const std::string& customer_id, const shop::v1::PlaceOrderRequest& request) {
  SHOP_RETURN_IF_ERROR(RequireCustomer(customer_id));
  shop::v1::ProcessOrderRequest forward;
  forward.set_customer_id(customer_id);
  *forward.mutable_lines() = request.lines();
  if (request.has_shipping_address()) *forward.mutable_shipping_address() = request.shipping_address();
  if (request.has_billing_address()) *forward.mutable_billing_address() = request.billing_address();
  forward.set_payment_method_token(request.payment_method_token());
  forward.set_idempotency_key(request.idempotency_key());
  // Checked here too, so a bad request never leaves the edge.
  SHOP_RETURN_IF_ERROR(ValidateProcessOrderRequest(forward));
  SHOP_ASSIGN_OR_RETURN(shop::v1::ProcessOrderResponse processed, orders_->ProcessOrder(forward));
  shop::v1::PlaceOrderResponse response;
  *response.mutable_order() = std::move(*processed.mutable_order());
  return response;
}

absl::StatusOr<shop::v1::GetOrderResponse> Storefront::GetOrder(
    const std::string& customer_id, const shop::v1::GetOrderRequest& request) {
  SHOP_RETURN_IF_ERROR(RequireCustomer(customer_id));
  FieldViolations violations;
  if (!IsValidId(request.order_id())) violations.Add("order_id", "must be 1-128 printable characters");
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  shop::v1::LookupOrderRequest lookup;
  lookup.set_order_id(request.order_id());
  lookup.set_customer_id(customer_id);
  SHOP_ASSIGN_OR_RETURN(shop::v1::LookupOrderResponse found, orders_->LookupOrder(lookup));
  shop::v1::GetOrderResponse response;
  *response.mutable_order() = std::move(*found.mutable_order());
  return response;
}

absl::StatusOr<shop::v1::ListOrdersResponse> Storefront::ListOrders(
    const std::string& customer_id, const shop::v1::ListOrdersRequest& request) {
  SHOP_RETURN_IF_ERROR(RequireCustomer(customer_id));
  FieldViolations violations;
  if (request.page_size() < 0 || request.page_size() > 100) {
    violations.Add("page_size", "must be between 0 and 100");
  }
  if (!request.page_token().empty() &&
      (request.page_token().size() > 256 || !IsValidPrintable(request.page_token()))) {
    violations.Add("page_token", "is not a token this service issued");
  }
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  shop::v1::ListCustomerOrdersRequest list;
  list.set_customer_id(customer_id);
  list.set_page_size(request.page_size());
  list.set_page_token(request.page_token());
  list.set_status(request.status());
  SHOP_ASSIGN_OR_RETURN(shop::v1::ListCustomerOrdersResponse page, orders_->ListCustomerOrders(list));
  shop::v1::ListOrdersResponse response;
  *response.mutable_orders() = std::move(*page.mutable_orders());
  response.set_next_page_token(page.next_page_token());
  return response;
}

absl::StatusOr<shop::v1::CancelOrderResponse> Storefront::CancelOrder(
    const std::string& customer_id, const shop::v1::CancelOrderRequest& request) {
  SHOP_RETURN_IF_ERROR(RequireCustomer(customer_id));
  FieldViolations violations;
  if (!IsValidId(request.order_id())) violations.Add("order_id", "must be 1-128 printable characters");
  if (request.reason().size() > kMaxTextLength || !IsValidUtf8(request.reason())) {
    violations.Add("reason", "must be valid UTF-8 of at most 200 bytes");
  }
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  shop::v1::CancelCustomerOrderRequest cancel;
  cancel.set_order_id(request.order_id());
  cancel.set_customer_id(customer_id);
  cancel.set_reason(request.reason());
  SHOP_ASSIGN_OR_RETURN(shop::v1::CancelCustomerOrderResponse cancelled,
                        orders_->CancelCustomerOrder(cancel));
  shop::v1::CancelOrderResponse response;
  *response.mutable_order() = std::move(*cancelled.mutable_order());
  return response;
}

absl::StatusOr<shop::v1::BrowseCatalogResponse> Storefront::BrowseCatalog(
    const shop::v1::BrowseCatalogRequest& request) {
  shop::v1::ListProductsRequest list;
  list.set_page_size(request.page_size());
  list.set_page_token(request.page_token());
  SHOP_ASSIGN_OR_RETURN(shop::v1::ListProductsResponse page, catalog_->ListProducts(list));
  shop::v1::BrowseCatalogResponse response;
  *response.mutable_products() = std::move(*page.mutable_products());
  response.set_next_page_token(page.next_page_token());
  return response;
}

bool IsFinalStatus(shop::v1::OrderStatus status) {
  return status == shop::v1::ORDER_STATUS_DELIVERED || status == shop::v1::ORDER_STATUS_CANCELLED ||
         status == shop::v1::ORDER_STATUS_FAILED || status == shop::v1::ORDER_STATUS_PAYMENT_FAILED;
}

namespace {

absl::Status RequireStaff(const std::string& user, bool staff) {
  if (user.empty()) {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated, "sign in first", "NOT_SIGNED_IN");
  }
  if (!staff) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied,
                           "fulfilment needs the staff role", "STAFF_ONLY");
  }
  return absl::OkStatus();
}

absl::Status CheckFulfilment(const std::string& order_id, const std::string& text,
                             const char* text_field) {
  FieldViolations violations;
  if (!IsValidId(order_id)) violations.Add("order_id", "must be 1-128 printable characters");
  if (text.size() > kMaxTextLength || !IsValidUtf8(text)) {
    violations.Add(text_field, "must be valid UTF-8 of at most 200 bytes");
  }
  return violations.ToStatus();
}

template <typename Response>
shop::v1::FulfilmentResponse ToFulfilment(Response response) {
  shop::v1::FulfilmentResponse out;
  *out.mutable_order() = std::move(*response.mutable_order());
  return out;
}

}  // namespace

absl::StatusOr<shop::v1::FulfilmentResponse> Storefront::StartProcessing(
    const std::string& user, bool staff, const shop::v1::StartProcessingRequest& request) {
  SHOP_RETURN_IF_ERROR(RequireStaff(user, staff));
  SHOP_RETURN_IF_ERROR(CheckFulfilment(request.order_id(), request.note(), "note"));
  shop::v1::MarkProcessingRequest mark;
  mark.set_order_id(request.order_id());
  mark.set_note(request.note().empty() ? "by staff " + user
                                       : request.note() + " (staff " + user + ")");
  SHOP_ASSIGN_OR_RETURN(auto marked, orders_->MarkProcessing(mark));
  return ToFulfilment(std::move(marked));
}

absl::StatusOr<shop::v1::FulfilmentResponse> Storefront::ShipOrder(
    const std::string& user, bool staff, const shop::v1::ShipOrderRequest& request) {
  SHOP_RETURN_IF_ERROR(RequireStaff(user, staff));
  SHOP_RETURN_IF_ERROR(CheckFulfilment(request.order_id(), request.carrier(), "carrier"));
  shop::v1::MarkShippedRequest mark;
  mark.set_order_id(request.order_id());
  mark.set_carrier(request.carrier());
  mark.set_tracking_number(request.tracking_number());
  SHOP_ASSIGN_OR_RETURN(auto marked, orders_->MarkShipped(mark));
  return ToFulfilment(std::move(marked));
}

absl::StatusOr<shop::v1::FulfilmentResponse> Storefront::DeliverOrder(
    const std::string& user, bool staff, const shop::v1::DeliverOrderRequest& request) {
  SHOP_RETURN_IF_ERROR(RequireStaff(user, staff));
  SHOP_RETURN_IF_ERROR(CheckFulfilment(request.order_id(), request.note(), "note"));
  shop::v1::MarkDeliveredRequest mark;
  mark.set_order_id(request.order_id());
  mark.set_note(request.note().empty() ? "by staff " + user
                                       : request.note() + " (staff " + user + ")");
  SHOP_ASSIGN_OR_RETURN(auto marked, orders_->MarkDelivered(mark));
  return ToFulfilment(std::move(marked));
}

}  // namespace shop::ecp
