#include "services/ops/ops_grpc.h"

#include "core/grpc_status.h"
#include "core/identity.h"
#include "core/trace.h"

namespace shop::ops {

grpc::Status OrderProcessingGrpcService::ProcessOrder(
    grpc::ServerContext* ctx, const shop::v1::ProcessOrderRequest* request,
    shop::v1::ProcessOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto order = processor_->ProcessOrder(*request, PeerSpiffeId(*ctx));
  if (!order.ok()) return ToGrpcStatus(order.status());
  *response->mutable_order() = std::move(*order);
  return grpc::Status::OK;
}

grpc::Status OrderProcessingGrpcService::LookupOrder(grpc::ServerContext* ctx,
                                                     const shop::v1::LookupOrderRequest* request,
                                                     shop::v1::LookupOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto order = processor_->LookupOrder(request->order_id(), request->customer_id());
  if (!order.ok()) return ToGrpcStatus(order.status());
  *response->mutable_order() = std::move(*order);
  return grpc::Status::OK;
}

grpc::Status OrderProcessingGrpcService::ListCustomerOrders(
    grpc::ServerContext* ctx, const shop::v1::ListCustomerOrdersRequest* request,
    shop::v1::ListCustomerOrdersResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto page = processor_->ListCustomerOrders(request->customer_id(), request->page_size(),
                                             request->page_token(), request->status());
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (auto& order : page->orders) *response->add_orders() = std::move(order);
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

}  // namespace shop::ops
