#include "services/ops/ops_grpc.h"

#include <utility>

#include "core/grpc/call_context.h"
#include "core/grpc/grpc_status.h"
#include "core/grpc/identity.h"

namespace shop::ops {
namespace {

namespace wire = shop::ops::v1;

OrderRequest PlacementOf(const wire::PlaceOrderRequest& request) {
  OrderRequest order = OrderRequestFromWire(request);
  order.customer_id = request.customer_id();
  return order;
}

}  // namespace

grpc::Status OrderProcessingGrpcService::PlaceOrder(grpc::ServerContext* ctx,
                                                    const wire::PlaceOrderRequest* request,
                                                    wire::PlaceOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return ReplyInto(processor_->PlaceOrder(PlacementOf(*request), PeerSpiffeId(*ctx)), response,
                   &wire::PlaceOrderResponse::mutable_order);
}

grpc::Status OrderProcessingGrpcService::GetOrder(grpc::ServerContext* ctx,
                                                  const wire::GetOrderRequest* request,
                                                  wire::GetOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return ReplyInto(processor_->GetOrder(request->order_id(), request->customer_id()), response,
                   &wire::GetOrderResponse::mutable_order);
}

grpc::Status OrderProcessingGrpcService::ListOrders(grpc::ServerContext* ctx,
                                                    const wire::ListOrdersRequest* request,
                                                    wire::ListOrdersResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return Reply(processor_->ListOrders(request->customer_id(), request->page_size(),
                                      request->page_token(), request->status()),
               [&](OrderPage page) {
                 for (auto& order : page.orders) *response->add_orders() = std::move(order);
                 response->set_next_page_token(page.next_page_token);
               });
}

grpc::Status OrderProcessingGrpcService::CancelOrder(grpc::ServerContext* ctx,
                                                     const wire::CancelOrderRequest* request,
                                                     wire::CancelOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return ReplyInto(processor_->CancelOrder(request->order_id(), request->customer_id(),
                                           request->reason(), "customer:" + request->customer_id()),
                   response, &wire::CancelOrderResponse::mutable_order);
}

grpc::Status OrderProcessingGrpcService::RecordPaymentEvent(
    grpc::ServerContext* ctx, const wire::RecordPaymentEventRequest* request,
    wire::RecordPaymentEventResponse* response) {
  SHOP_RPC_ENTER(ctx);
  PaymentEvent event{request->order_id(), request->gateway_event_id(), request->event_type(),
                     request->detail()};
  return Reply(processor_->RecordPaymentEvent(event),
               [&](bool recorded) { response->set_recorded(recorded); });
}

grpc::Status OrderProcessingGrpcService::StartProcessing(
    grpc::ServerContext* ctx, const wire::StartProcessingRequest* request,
    wire::StartProcessingResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return ReplyInto(
      processor_->StartProcessing(request->order_id(), request->note(), PeerSpiffeId(*ctx)),
      response, &wire::StartProcessingResponse::mutable_order);
}

grpc::Status OrderProcessingGrpcService::ShipOrder(grpc::ServerContext* ctx,
                                                   const wire::ShipOrderRequest* request,
                                                   wire::ShipOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return ReplyInto(processor_->ShipOrder(request->order_id(), request->carrier(),
                                         request->tracking_number(), PeerSpiffeId(*ctx)),
                   response, &wire::ShipOrderResponse::mutable_order);
}

grpc::Status OrderProcessingGrpcService::DeliverOrder(grpc::ServerContext* ctx,
                                                      const wire::DeliverOrderRequest* request,
                                                      wire::DeliverOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return ReplyInto(
      processor_->DeliverOrder(request->order_id(), request->note(), PeerSpiffeId(*ctx)), response,
      &wire::DeliverOrderResponse::mutable_order);
}

}  // namespace shop::ops
