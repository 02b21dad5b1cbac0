#include "services/ecp/storefront.h"

#include <utility>

#include "core/status.h"
#include "core/validation.h"

namespace shop::ecp {
namespace {

absl::Status RequireCustomer(const std::string& customer_id) {
  if (customer_id.empty()) {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated,
                           "sign in first: send Authorization: Bearer <token>",
                           shop::v1::NOT_SIGNED_IN);
  }
  if (!IsValidId(customer_id)) {
    return absl::UnauthenticatedError("malformed end-user id");
  }
  return absl::OkStatus();
}

absl::Status RequireStaff(const Staff& by) {
  if (by.user.empty()) {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated, "sign in first",
                           shop::v1::NOT_SIGNED_IN);
  }
  if (!by.staff) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied, "fulfilment needs the staff role",
                           shop::v1::STAFF_ONLY);
  }
  return absl::OkStatus();
}

absl::Status CheckFulfilment(const std::string& order_id, const std::string& text,
                             const char* text_field) {
  FieldViolations violations;
  RequireId("order_id", order_id, violations);
  CheckText(text_field, text, violations);
  return violations.ToStatus();
}

// The status history names the staff member behind a note.
std::string HistoryNote(const std::string& note, const Staff& by) {
  return note.empty() ? "by staff " + by.user : note + " (staff " + by.user + ")";
}

}  // namespace

absl::StatusOr<shop::v1::Order> Storefront::PlaceOrder(const std::string& customer_id,
                                                       OrderRequest request) {
  SHOP_RETURN_IF_ERROR(RequireCustomer(customer_id));
  request.customer_id = customer_id;
  // Checked here too, so a bad request never leaves the edge.
  SHOP_RETURN_IF_ERROR(ValidateOrderRequest(request));
  return orders_->PlaceOrder(request);
}

absl::StatusOr<shop::v1::Order> Storefront::GetOrder(const std::string& customer_id,
                                                     const std::string& order_id) {
  SHOP_RETURN_IF_ERROR(RequireCustomer(customer_id));
  FieldViolations violations;
  RequireId("order_id", order_id, violations);
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  return orders_->GetOrder(order_id, customer_id);
}

absl::StatusOr<OrderPage> Storefront::ListOrders(const std::string& customer_id, int32_t page_size,
                                                 const std::string& page_token,
                                                 shop::v1::OrderStatus status) {
  SHOP_RETURN_IF_ERROR(RequireCustomer(customer_id));
  FieldViolations violations;
  if (page_size < 0 || page_size > 100) {
    violations.Add("page_size", "must be between 0 and 100");
  }
  if (!page_token.empty() && (page_token.size() > 256 || !IsValidPrintable(page_token))) {
    violations.Add("page_token", "is not a token this service issued");
  }
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  return orders_->ListOrders(customer_id, page_size, page_token, status);
}

absl::StatusOr<shop::v1::Order> Storefront::CancelOrder(const std::string& customer_id,
                                                        const std::string& order_id,
                                                        const std::string& reason) {
  SHOP_RETURN_IF_ERROR(RequireCustomer(customer_id));
  FieldViolations violations;
  RequireId("order_id", order_id, violations);
  CheckText("reason", reason, violations);
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  return orders_->CancelOrder(order_id, customer_id, reason);
}

absl::StatusOr<ProductPage> Storefront::BrowseCatalog(int32_t page_size,
                                                      const std::string& page_token) {
  return catalog_->ListProducts(page_size, page_token);
}

absl::Status Storefront::WatchOrder(const std::string& customer_id, const std::string& order_id,
                                    absl::Time deadline,
                                    const std::function<bool(const shop::v1::Order&)>& send,
                                    const std::function<bool()>& cancelled) {
  shop::v1::OrderStatus last = shop::v1::ORDER_STATUS_UNSPECIFIED;
  while (true) {
    SHOP_ASSIGN_OR_RETURN(shop::v1::Order now, GetOrder(customer_id, order_id));
    if (now.status() != last) {
      last = now.status();
      if (!send(now)) return absl::OkStatus();  // the watcher left
      if (IsFinalStatus(last)) return absl::OkStatus();
    }
    if (cancelled()) return absl::CancelledError("watch cancelled");
    if (clock_->Now() + watch_interval_ > deadline) {
      return absl::DeadlineExceededError("the order is not final yet; watch again");
    }
    clock_->SleepFor(watch_interval_);
  }
}

bool IsFinalStatus(shop::v1::OrderStatus status) {
  return status == shop::v1::ORDER_STATUS_DELIVERED || status == shop::v1::ORDER_STATUS_CANCELLED ||
         status == shop::v1::ORDER_STATUS_FAILED || status == shop::v1::ORDER_STATUS_PAYMENT_FAILED;
}

absl::StatusOr<shop::v1::Order> Storefront::StartProcessing(const Staff& by,
                                                            const std::string& order_id,
                                                            const std::string& note) {
  SHOP_RETURN_IF_ERROR(RequireStaff(by));
  SHOP_RETURN_IF_ERROR(CheckFulfilment(order_id, note, "note"));
  return orders_->StartProcessing(order_id, HistoryNote(note, by));
}

absl::StatusOr<shop::v1::Order> Storefront::ShipOrder(const Staff& by, const std::string& order_id,
                                                      const std::string& carrier,
                                                      const std::string& tracking_number) {
  SHOP_RETURN_IF_ERROR(RequireStaff(by));
  SHOP_RETURN_IF_ERROR(CheckFulfilment(order_id, carrier, "carrier"));
  return orders_->ShipOrder(order_id, carrier, tracking_number);
}

absl::StatusOr<shop::v1::Order> Storefront::DeliverOrder(const Staff& by,
                                                         const std::string& order_id,
                                                         const std::string& note) {
  SHOP_RETURN_IF_ERROR(RequireStaff(by));
  SHOP_RETURN_IF_ERROR(CheckFulfilment(order_id, note, "note"));
  return orders_->DeliverOrder(order_id, HistoryNote(note, by));
}

}  // namespace shop::ecp
