#include "services/ecp/ecp_grpc.h"

#include "core/grpc_status.h"
#include "core/trace.h"

namespace shop::ecp {
namespace {

// The end user, as asserted by a trusted frontend (the policy admits only
// those to this service).
std::string CustomerOf(const grpc::ServerContext& ctx) {
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find(kCustomerHeader);
  return it == metadata.end() ? "" : std::string(it->second.data(), it->second.size());
}

template <typename Response>
grpc::Status Reply(absl::StatusOr<Response> result, Response* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status CustomerGrpcService::PlaceOrder(grpc::ServerContext* ctx,
                                             const shop::v1::PlaceOrderRequest* request,
                                             shop::v1::PlaceOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return Reply(storefront_->PlaceOrder(CustomerOf(*ctx), *request), response);
}

grpc::Status CustomerGrpcService::GetOrder(grpc::ServerContext* ctx,
                                           const shop::v1::GetOrderRequest* request,
                                           shop::v1::GetOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return Reply(storefront_->GetOrder(CustomerOf(*ctx), *request), response);
}

grpc::Status CustomerGrpcService::ListOrders(grpc::ServerContext* ctx,
                                             const shop::v1::ListOrdersRequest* request,
                                             shop::v1::ListOrdersResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return Reply(storefront_->ListOrders(CustomerOf(*ctx), *request), response);
}

grpc::Status CustomerGrpcService::CancelOrder(grpc::ServerContext* ctx,
                                              const shop::v1::CancelOrderRequest* request,
                                              shop::v1::CancelOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return Reply(storefront_->CancelOrder(CustomerOf(*ctx), *request), response);
}

grpc::Status CustomerGrpcService::BrowseCatalog(grpc::ServerContext* ctx,
                                                const shop::v1::BrowseCatalogRequest* request,
                                                shop::v1::BrowseCatalogResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return Reply(storefront_->BrowseCatalog(*request), response);
}

}  // namespace shop::ecp
