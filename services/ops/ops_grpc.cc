#include "services/ops/ops_grpc.h"

#include "core/grpc/call_context.h"
#include "core/grpc/grpc_status.h"
#include "core/grpc/identity.h"
#include "core/trace.h"

namespace shop::ops {
namespace {

// Every fulfilment response is { Order order = 1; }.
template <typename Response>
grpc::Status ReplyOrder(absl::StatusOr<shop::v1::Order> order, Response* response) {
  if (!order.ok()) return ToGrpcStatus(order.status());
  *response->mutable_order() = std::move(*order);
  return grpc::Status::OK;
}

}  // namespace

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

grpc::Status OrderProcessingGrpcService::CancelCustomerOrder(
    grpc::ServerContext* ctx, const shop::v1::CancelCustomerOrderRequest* request,
    shop::v1::CancelCustomerOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return ReplyOrder(processor_->CancelOrder(request->order_id(), request->customer_id(),
                                            request->reason(),
                                            "customer:" + request->customer_id()),
                    response);
}

grpc::Status OrderProcessingGrpcService::RecordPaymentEvent(
    grpc::ServerContext* ctx, const shop::v1::RecordPaymentEventRequest* request,
    shop::v1::RecordPaymentEventResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto recorded = processor_->RecordPaymentEvent(*request);
  if (!recorded.ok()) return ToGrpcStatus(recorded.status());
  response->set_recorded(*recorded);
  return grpc::Status::OK;
}

grpc::Status OrderProcessingGrpcService::MarkProcessing(
    grpc::ServerContext* ctx, const shop::v1::MarkProcessingRequest* request,
    shop::v1::MarkProcessingResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return ReplyOrder(
      processor_->MarkProcessing(request->order_id(), request->note(), PeerSpiffeId(*ctx)),
      response);
}

grpc::Status OrderProcessingGrpcService::MarkShipped(grpc::ServerContext* ctx,
                                                     const shop::v1::MarkShippedRequest* request,
                                                     shop::v1::MarkShippedResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return ReplyOrder(processor_->MarkShipped(request->order_id(), request->carrier(),
                                            request->tracking_number(), PeerSpiffeId(*ctx)),
                    response);
}

grpc::Status OrderProcessingGrpcService::MarkDelivered(
    grpc::ServerContext* ctx, const shop::v1::MarkDeliveredRequest* request,
    shop::v1::MarkDeliveredResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return ReplyOrder(
      processor_->MarkDelivered(request->order_id(), request->note(), PeerSpiffeId(*ctx)),
      response);
}

}  // namespace shop::ops
