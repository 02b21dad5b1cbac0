#include "services/ops/clients.h"

#include "core/grpc/client_call.h"

namespace shop::ops {
namespace {

constexpr std::chrono::seconds kInventoryTimeout(5);
// Gateway retries happen inside the adapter: give it room.
constexpr std::chrono::seconds kPaymentTimeout(20);
// Saga steps run on their own budget, whatever the caller's deadline: a
// compensation must run even when the caller has stopped waiting.
constexpr bool kInheritCallerDeadline = false;

}  // namespace

absl::Status GrpcInventoryClient::CheckSkusExist(
    const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) {
  shop::v1::CheckAvailabilityRequest request;
  *request.mutable_lines() = lines;
  // One IMS round trip; only "every SKU exists" is used (unknown SKUs are
  // INVALID_ARGUMENT naming them), the quantities are reserved later.
  return CallUnary(*stub_, &shop::v1::InventoryService::Stub::CheckAvailability, request,
                   kInventoryTimeout)
      .status();
}

absl::StatusOr<shop::v1::Reservation> GrpcInventoryClient::Reserve(
    const std::string& order_id,
    const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) {
  shop::v1::ReserveRequest request;
  request.set_order_id(order_id);
  *request.mutable_lines() = lines;
  auto response = CallUnary(*stub_, &shop::v1::InventoryService::Stub::Reserve, request,
                            kInventoryTimeout, kInheritCallerDeadline);
  if (!response.ok()) return response.status();
  return response->reservation();
}

absl::StatusOr<shop::v1::Reservation> GrpcInventoryClient::Commit(
    const std::string& reservation_id) {
  shop::v1::CommitRequest request;
  request.set_reservation_id(reservation_id);
  auto response = CallUnary(*stub_, &shop::v1::InventoryService::Stub::Commit, request,
                            kInventoryTimeout, kInheritCallerDeadline);
  if (!response.ok()) return response.status();
  return response->reservation();
}

absl::StatusOr<shop::v1::Reservation> GrpcInventoryClient::Release(
    const std::string& reservation_id, const std::string& order_id, const std::string& reason) {
  shop::v1::ReleaseRequest request;
  request.set_reservation_id(reservation_id);
  request.set_order_id(order_id);
  request.set_reason(reason);
  auto response = CallUnary(*stub_, &shop::v1::InventoryService::Stub::Release, request,
                            kInventoryTimeout, kInheritCallerDeadline);
  if (!response.ok()) return response.status();
  return response->reservation();
}

absl::StatusOr<shop::v1::Reservation> GrpcInventoryClient::Restock(
    const std::string& reservation_id, const std::string& reason) {
  shop::v1::RestockRequest request;
  request.set_reservation_id(reservation_id);
  request.set_reason(reason);
  auto response = CallUnary(*stub_, &shop::v1::InventoryService::Stub::Restock, request,
                            kInventoryTimeout, kInheritCallerDeadline);
  if (!response.ok()) return response.status();
  return response->reservation();
}

absl::StatusOr<shop::v1::Payment> GrpcPaymentClient::Authorize(
    const std::string& order_id, const shop::v1::Money& amount,
    const std::string& payment_method_token, const std::string& idempotency_key) {
  shop::v1::AuthorizeRequest request;
  request.set_order_id(order_id);
  *request.mutable_amount() = amount;
  request.set_payment_method_token(payment_method_token);
  request.set_idempotency_key(idempotency_key);
  auto response = CallUnary(*stub_, &shop::v1::PaymentGatewayService::Stub::Authorize, request,
                            kPaymentTimeout, kInheritCallerDeadline);
  if (!response.ok()) return response.status();
  return response->payment();
}

absl::StatusOr<shop::v1::Payment> GrpcPaymentClient::Capture(const std::string& payment_id,
                                                             const std::string& idempotency_key) {
  shop::v1::CaptureRequest request;
  request.set_payment_id(payment_id);
  request.set_idempotency_key(idempotency_key);
  auto response = CallUnary(*stub_, &shop::v1::PaymentGatewayService::Stub::Capture, request,
                            kPaymentTimeout, kInheritCallerDeadline);
  if (!response.ok()) return response.status();
  return response->payment();
}

absl::StatusOr<shop::v1::Payment> GrpcPaymentClient::Void(const std::string& payment_id,
                                                          const std::string& authorization_key,
                                                          const std::string& idempotency_key) {
  shop::v1::VoidRequest request;
  request.set_payment_id(payment_id);
  request.set_authorization_key(authorization_key);
  request.set_idempotency_key(idempotency_key);
  auto response = CallUnary(*stub_, &shop::v1::PaymentGatewayService::Stub::Void, request,
                            kPaymentTimeout, kInheritCallerDeadline);
  if (!response.ok()) return response.status();
  return response->payment();
}

absl::StatusOr<shop::v1::RefundResponse> GrpcPaymentClient::Refund(
    const std::string& payment_id, const std::string& idempotency_key, const std::string& reason) {
  shop::v1::RefundRequest request;
  request.set_payment_id(payment_id);
  request.set_idempotency_key(idempotency_key);
  request.set_reason(reason);
  return CallUnary(*stub_, &shop::v1::PaymentGatewayService::Stub::Refund, request, kPaymentTimeout,
                   kInheritCallerDeadline);
}

}  // namespace shop::ops
