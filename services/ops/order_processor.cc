#include "services/ops/order_processor.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/sha.h>

#include "absl/strings/str_cat.h"
#include "core/audit.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/status.h"
#include "core/validation.h"
#include "google/rpc/error_details.pb.h"

namespace shop::ops {
namespace {

using shop::v1::Order;

std::string RequestHash(const shop::v1::ProcessOrderRequest& request) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  {
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    request.SerializeWithCachedSizes(&coded);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : digest) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

// Adds order_id to the error's ErrorInfo (or adds an ErrorInfo).
absl::Status WithOrderId(absl::Status error, const std::string& order_id) {
  google::rpc::ErrorInfo info;
  if (!GetDetail(error, info)) {
    info.set_domain(std::string(kErrorDomain));
    info.set_reason("ORDER_FAILED");
  }
  (*info.mutable_metadata())["order_id"] = order_id;
  AddDetail(error, info);
  return error;
}

bool IsPaymentDecline(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition ||
         status.code() == absl::StatusCode::kInvalidArgument;
}

}  // namespace

absl::StatusOr<Order> OrderProcessor::ProcessOrder(const shop::v1::ProcessOrderRequest& request,
                                                   const std::string& actor) {
  SHOP_RETURN_IF_ERROR(ValidateProcessOrderRequest(request));
  Order order;
  order.set_order_id(NewId("ord"));
  order.set_customer_id(request.customer_id());
  order.set_status(shop::v1::ORDER_STATUS_PENDING);
  for (const auto& item : request.lines()) {
    auto* line = order.add_lines();
    line->set_sku(item.sku());
    line->set_quantity(item.quantity());
  }
  *order.mutable_shipping_address() = request.shipping_address();
  *order.mutable_billing_address() =
      request.has_billing_address() ? request.billing_address() : request.shipping_address();

  // Without a key every call is a new order (issue 3 makes the key required).
  std::string key = request.idempotency_key().empty() ? NewId("auto") : request.idempotency_key();
  std::string hash = RequestHash(request);
  SHOP_ASSIGN_OR_RETURN(OrderStore::Created created,
                        store_->CreatePending(order, key, hash, request.payment_method_token(),
                                              actor));
  if (!created.created) {
    if (created.request_hash != hash) {
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                             "idempotency key was already used for a different order",
                             "IDEMPOTENCY_KEY_REUSED",
                             {{"order_id", created.order.order_id()}});
    }
    if (!created.failure.ok()) return created.failure;
    if (created.order.status() == shop::v1::ORDER_STATUS_PENDING) {
      return ErrorWithReason(absl::StatusCode::kAborted,
                             "this order is still being processed; retry shortly",
                             "ORDER_IN_PROGRESS", {{"order_id", created.order.order_id()}});
    }
    return created.order;
  }
  Emit("order.placed", created.order);
  return RunSaga(created.order, request.payment_method_token(), actor);
}

absl::StatusOr<Order> OrderProcessor::RunSaga(Order order, const std::string& payment_method,
                                              const std::string& actor) {
  const std::string& order_id = order.order_id();

  // Step 1: hold the stock. The reservation fixes the prices.
  SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "reserve", "STARTED", ""));
  google::protobuf::RepeatedPtrField<shop::v1::LineItem> items;
  for (const auto& line : order.lines()) {
    auto* item = items.Add();
    item->set_sku(line.sku());
    item->set_quantity(line.quantity());
  }
  absl::StatusOr<shop::v1::Reservation> reservation = inventory_->Reserve(order_id, items);
  if (!reservation.ok()) {
    SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "reserve", "FAILED",
                                            std::string(reservation.status().message())));
    std::string reason = ErrorReason(reservation.status());
    order.set_failure_reason(reason.empty() ? "INVENTORY_UNAVAILABLE" : reason);
    return Fail(order, shop::v1::ORDER_STATUS_FAILED, reservation.status(), actor);
  }
  order.set_reservation_id(reservation->reservation_id());
  for (auto& line : *order.mutable_lines()) {
    for (const auto& held : reservation->lines()) {
      if (held.sku() != line.sku()) continue;
      line.set_name(held.name());
      *line.mutable_unit_price() = held.unit_price();
    }
  }
  absl::Status priced = PriceOrder(pricing_, order);
  SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "reserve", "DONE",
                                          reservation->reservation_id()));
  if (!priced.ok()) {
    order.set_failure_reason("PRICING_FAILED");
    return Fail(order, shop::v1::ORDER_STATUS_FAILED, priced, actor);
  }
  SHOP_RETURN_IF_ERROR(store_->Update(order, actor, "stock reserved", absl::OkStatus()));

  // Step 2: authorize the grand total.
  SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "authorize", "STARTED", ""));
  absl::StatusOr<shop::v1::Payment> payment = payments_->Authorize(
      order_id, order.totals().grand_total(), payment_method, absl::StrCat(order_id, ":authorize"));
  if (!payment.ok()) {
    SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "authorize", "FAILED",
                                            std::string(payment.status().message())));
    std::string reason = ErrorReason(payment.status());
    order.set_failure_reason(reason.empty() ? "PAYMENT_FAILED" : reason);
    order.set_payment_status(IsPaymentDecline(payment.status()) ? shop::v1::PAYMENT_STATUS_DECLINED
                                                                : shop::v1::PAYMENT_STATUS_FAILED);
    return Fail(order, shop::v1::ORDER_STATUS_PAYMENT_FAILED, payment.status(), actor);
  }
  order.set_payment_id(payment->payment_id());
  order.set_payment_status(shop::v1::PAYMENT_STATUS_AUTHORIZED);
  SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "authorize", "DONE", payment->payment_id()));
  SHOP_RETURN_IF_ERROR(store_->Update(order, actor, "payment authorized", absl::OkStatus()));

  // Step 3: reduce the inventory level, only now that payment is authorized.
  SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "commit_stock", "STARTED", ""));
  absl::StatusOr<shop::v1::Reservation> committed =
      inventory_->Commit(order.reservation_id());
  if (!committed.ok()) {
    SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "commit_stock", "FAILED",
                                            std::string(committed.status().message())));
    absl::StatusOr<shop::v1::Payment> voided =
        payments_->Void(order.payment_id(), absl::StrCat(order_id, ":void"));
    if (voided.ok()) order.set_payment_status(shop::v1::PAYMENT_STATUS_VOIDED);
    order.set_failure_reason("INVENTORY_COMMIT_FAILED");
    return Fail(order, shop::v1::ORDER_STATUS_FAILED, committed.status(), actor);
  }
  SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "commit_stock", "DONE", ""));

  // Step 4: take the money.
  SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "capture", "STARTED", ""));
  absl::StatusOr<shop::v1::Payment> captured =
      payments_->Capture(order.payment_id(), absl::StrCat(order_id, ":capture"));
  if (!captured.ok()) {
    // Stock is committed and the authorization stands: leave the order
    // PENDING with the step FAILED for an operator or the recovery loop.
    SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "capture", "FAILED",
                                            std::string(captured.status().message())));
    log::Error("capture failed; order left pending", {{"order_id", order_id}});
    return WithOrderId(captured.status(), order_id);
  }
  order.set_payment_status(shop::v1::PAYMENT_STATUS_CAPTURED);
  SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "capture", "DONE", ""));

  order.set_status(shop::v1::ORDER_STATUS_CONFIRMED);
  SHOP_RETURN_IF_ERROR(store_->Update(order, actor, "payment captured", absl::OkStatus()));
  SHOP_RETURN_IF_ERROR(store_->EnqueueNotification(order_id, "ORDER_CONFIRMATION"));
  Emit("order.confirmed", order, {{"payment_id", order.payment_id()}});
  return store_->Get(order_id);
}

absl::Status OrderProcessor::Fail(Order& order, shop::v1::OrderStatus status, absl::Status error,
                                  const std::string& actor) {
  const std::string& order_id = order.order_id();
  if (!order.reservation_id().empty()) {
    SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "release", "STARTED", ""));
    absl::StatusOr<shop::v1::Reservation> released =
        inventory_->Release(order.reservation_id(), order.failure_reason());
    // An unreleased hold expires by its TTL; the journal says so.
    SHOP_RETURN_IF_ERROR(store_->RecordStep(order_id, "release", released.ok() ? "DONE" : "FAILED",
                                            std::string(released.status().message())));
  }
  error = WithOrderId(std::move(error), order_id);
  order.set_status(status);
  SHOP_RETURN_IF_ERROR(store_->Update(order, actor, order.failure_reason(), error));
  Emit(status == shop::v1::ORDER_STATUS_PAYMENT_FAILED ? "order.payment_failed" : "order.failed",
       order, {{"reason", order.failure_reason()}});
  return error;
}

void OrderProcessor::Emit(const std::string& name, const Order& order,
                          const std::map<std::string, std::string>& attributes) {
  if (audit_ == nullptr) return;
  shop::v1::AuditEvent event = NewBusinessEvent(name, order.order_id(), attributes);
  event.set_customer_id(order.customer_id());
  audit_->Emit(std::move(event));
}

absl::StatusOr<Order> OrderProcessor::LookupOrder(const std::string& order_id,
                                                  const std::string& customer_id) {
  FieldViolations violations;
  if (!IsValidId(order_id)) violations.Add("order_id", "must be 1-128 printable characters");
  if (!IsValidId(customer_id)) violations.Add("customer_id", "must be 1-128 printable characters");
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  absl::StatusOr<Order> order = store_->Get(order_id);
  // Another customer's order does not exist, as far as this caller knows.
  if (!order.ok() || order->customer_id() != customer_id) {
    if (order.ok() || order.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
    }
    return order.status();
  }
  return order;
}

absl::StatusOr<OrderPage> OrderProcessor::ListCustomerOrders(const std::string& customer_id,
                                                             int32_t page_size,
                                                             const std::string& page_token,
                                                             shop::v1::OrderStatus status) {
  FieldViolations violations;
  if (!IsValidId(customer_id)) violations.Add("customer_id", "must be 1-128 printable characters");
  if (page_size < 0 || page_size > 100) violations.Add("page_size", "must be between 0 and 100");
  if (!shop::v1::OrderStatus_IsValid(status)) violations.Add("status", "unknown order status");
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  return store_->List(customer_id, page_size == 0 ? 20 : page_size, page_token, status);
}

}  // namespace shop::ops
