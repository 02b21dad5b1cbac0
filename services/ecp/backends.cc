#include "services/ecp/backends.h"

#include "core/grpc/client_call.h"

namespace shop::ecp {
namespace {

// The saga: 4 steps of at most 5 s (inventory) or 20 s (payments) each.
constexpr std::chrono::seconds kPlaceOrderTimeout(60);
constexpr std::chrono::seconds kReadTimeout(5);

}  // namespace

absl::StatusOr<shop::v1::ProcessOrderResponse> GrpcOrdersBackend::ProcessOrder(
    const shop::v1::ProcessOrderRequest& request) {
  return CallUnary<shop::v1::ProcessOrderResponse>(
      kPlaceOrderTimeout, [&](grpc::ClientContext* ctx, shop::v1::ProcessOrderResponse* out) {
        return stub_->ProcessOrder(ctx, request, out);
      });
}

absl::StatusOr<shop::v1::LookupOrderResponse> GrpcOrdersBackend::LookupOrder(
    const shop::v1::LookupOrderRequest& request) {
  return CallUnary<shop::v1::LookupOrderResponse>(
      kReadTimeout, [&](grpc::ClientContext* ctx, shop::v1::LookupOrderResponse* out) {
        return stub_->LookupOrder(ctx, request, out);
      });
}

absl::StatusOr<shop::v1::ListCustomerOrdersResponse> GrpcOrdersBackend::ListCustomerOrders(
    const shop::v1::ListCustomerOrdersRequest& request) {
  return CallUnary<shop::v1::ListCustomerOrdersResponse>(
      kReadTimeout, [&](grpc::ClientContext* ctx, shop::v1::ListCustomerOrdersResponse* out) {
        return stub_->ListCustomerOrders(ctx, request, out);
      });
}

absl::StatusOr<shop::v1::CancelCustomerOrderResponse> GrpcOrdersBackend::CancelCustomerOrder(
    const shop::v1::CancelCustomerOrderRequest& request) {
  // A cancellation refunds through the payment gateway.
  return CallUnary<shop::v1::CancelCustomerOrderResponse>(
      kPlaceOrderTimeout,
      [&](grpc::ClientContext* ctx, shop::v1::CancelCustomerOrderResponse* out) {
        return stub_->CancelCustomerOrder(ctx, request, out);
      });
}

absl::StatusOr<shop::v1::MarkProcessingResponse> GrpcOrdersBackend::MarkProcessing(
    const shop::v1::MarkProcessingRequest& request) {
  return CallUnary<shop::v1::MarkProcessingResponse>(
      kReadTimeout, [&](grpc::ClientContext* ctx, shop::v1::MarkProcessingResponse* out) {
        return stub_->MarkProcessing(ctx, request, out);
      });
}

absl::StatusOr<shop::v1::MarkShippedResponse> GrpcOrdersBackend::MarkShipped(
    const shop::v1::MarkShippedRequest& request) {
  return CallUnary<shop::v1::MarkShippedResponse>(
      kReadTimeout, [&](grpc::ClientContext* ctx, shop::v1::MarkShippedResponse* out) {
        return stub_->MarkShipped(ctx, request, out);
      });
}

absl::StatusOr<shop::v1::MarkDeliveredResponse> GrpcOrdersBackend::MarkDelivered(
    const shop::v1::MarkDeliveredRequest& request) {
  return CallUnary<shop::v1::MarkDeliveredResponse>(
      kReadTimeout, [&](grpc::ClientContext* ctx, shop::v1::MarkDeliveredResponse* out) {
        return stub_->MarkDelivered(ctx, request, out);
      });
}

absl::StatusOr<shop::v1::ListProductsResponse> GrpcCatalogBackend::ListProducts(
    const shop::v1::ListProductsRequest& request) {
  return CallUnary<shop::v1::ListProductsResponse>(
      kReadTimeout, [&](grpc::ClientContext* ctx, shop::v1::ListProductsResponse* out) {
        return stub_->ListProducts(ctx, request, out);
      });
}

}  // namespace shop::ecp
