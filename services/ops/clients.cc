#include "services/ops/clients.h"

#include "core/grpc/client_call.h"

namespace shop::ops {
namespace {

constexpr std::chrono::seconds kInventoryTimeout(5);
// Gateway retries happen inside the adapter: give it room.
constexpr std::chrono::seconds kPaymentTimeout(20);
// Saga steps run on their own budget, whatever the caller's deadline.
constexpr bool kOwnDeadline = false;

}  // namespace

absl::Status GrpcInventoryClient::CheckSkusExist(
    const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) {
  shop::v1::CheckAvailabilityRequest request;
  *request.mutable_lines() = lines;
  return CallUnary<shop::v1::CheckAvailabilityResponse>(
             kInventoryTimeout,
             [&](grpc::ClientContext* ctx, shop::v1::CheckAvailabilityResponse* out) {
               return stub_->CheckAvailability(ctx, request, out);
             })
      .status();
}

absl::StatusOr<shop::v1::Reservation> GrpcInventoryClient::Reserve(
    const std::string& order_id,
    const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) {
  shop::v1::ReserveRequest request;
  request.set_order_id(order_id);
  *request.mutable_lines() = lines;
  auto response = CallUnary<shop::v1::ReserveResponse>(
      kInventoryTimeout, [&](grpc::ClientContext* ctx, shop::v1::ReserveResponse* out) {
        return stub_->Reserve(ctx, request, out);
      }, kOwnDeadline);
  if (!response.ok()) return response.status();
  return response->reservation();
}

absl::StatusOr<shop::v1::Reservation> GrpcInventoryClient::Commit(
    const std::string& reservation_id) {
  shop::v1::CommitRequest request;
  request.set_reservation_id(reservation_id);
  auto response = CallUnary<shop::v1::CommitResponse>(
      kInventoryTimeout, [&](grpc::ClientContext* ctx, shop::v1::CommitResponse* out) {
        return stub_->Commit(ctx, request, out);
      }, kOwnDeadline);
  if (!response.ok()) return response.status();
  return response->reservation();
}

absl::StatusOr<shop::v1::Reservation> GrpcInventoryClient::Release(
    const std::string& reservation_id, const std::string& order_id, const std::string& reason) {
  shop::v1::ReleaseRequest request;
  request.set_reservation_id(reservation_id);
  request.set_order_id(order_id);
  request.set_reason(reason);
  auto response = CallUnary<shop::v1::ReleaseResponse>(
      kInventoryTimeout, [&](grpc::ClientContext* ctx, shop::v1::ReleaseResponse* out) {
        return stub_->Release(ctx, request, out);
      }, kOwnDeadline);
  if (!response.ok()) return response.status();
  return response->reservation();
}

absl::StatusOr<shop::v1::Reservation> GrpcInventoryClient::Restock(
    const std::string& reservation_id, const std::string& reason) {
  shop::v1::RestockRequest request;
  request.set_reservation_id(reservation_id);
  request.set_reason(reason);
  auto response = CallUnary<shop::v1::RestockResponse>(
      kInventoryTimeout, [&](grpc::ClientContext* ctx, shop::v1::RestockResponse* out) {
        return stub_->Restock(ctx, request, out);
      }, kOwnDeadline);
  if (!response.ok()) return response.status();
  return response->reservation();
}

absl::StatusOr<shop::v1::Payment> GrpcPaymentClient::Authorize(
    const std::string& order_id, const shop::v1::Money& amount,
    const std::string& payment_method, const std::string& idempotency_key) {
  shop::v1::AuthorizeRequest request;
  request.set_order_id(order_id);
  *request.mutable_amount() = amount;
  request.set_payment_method_token(payment_method);
  request.set_idempotency_key(idempotency_key);
  auto response = CallUnary<shop::v1::AuthorizeResponse>(
      kPaymentTimeout, [&](grpc::ClientContext* ctx, shop::v1::AuthorizeResponse* out) {
        return stub_->Authorize(ctx, request, out);
      }, kOwnDeadline);
  if (!response.ok()) return response.status();
  return response->payment();
}

absl::StatusOr<shop::v1::Payment> GrpcPaymentClient::Capture(const std::string& payment_id,
                                                             const std::string& idempotency_key) {
  shop::v1::CaptureRequest request;
  request.set_payment_id(payment_id);
  request.set_idempotency_key(idempotency_key);
  auto response = CallUnary<shop::v1::CaptureResponse>(
      kPaymentTimeout, [&](grpc::ClientContext* ctx, shop::v1::CaptureResponse* out) {
        return stub_->Capture(ctx, request, out);
      }, kOwnDeadline);
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
  auto response = CallUnary<shop::v1::VoidResponse>(
      kPaymentTimeout, [&](grpc::ClientContext* ctx, shop::v1::VoidResponse* out) {
        return stub_->Void(ctx, request, out);
      }, kOwnDeadline);
  if (!response.ok()) return response.status();
  return response->payment();
}

absl::StatusOr<shop::v1::RefundResponse> GrpcPaymentClient::Refund(
    const std::string& payment_id, const std::string& idempotency_key,
    const std::string& reason) {
  shop::v1::RefundRequest request;
  request.set_payment_id(payment_id);
  request.set_idempotency_key(idempotency_key);
  request.set_reason(reason);
  return CallUnary<shop::v1::RefundResponse>(
      kPaymentTimeout, [&](grpc::ClientContext* ctx, shop::v1::RefundResponse* out) {
        return stub_->Refund(ctx, request, out);
      }, kOwnDeadline);
}

}  // namespace shop::ops
