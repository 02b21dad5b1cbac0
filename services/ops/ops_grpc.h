// gRPC adapter of the order processing system.
#ifndef SHOP_SERVICES_OPS_OPS_GRPC_H_
#define SHOP_SERVICES_OPS_OPS_GRPC_H_

#include "services/ops/order_processor.h"
#include "shop/ops/v1/ops.grpc.pb.h"

namespace shop::ops {

class OrderProcessingGrpcService final : public shop::ops::v1::OrderProcessingService::Service {
 public:
  explicit OrderProcessingGrpcService(OrderProcessor* processor) : processor_(processor) {}

  grpc::Status PlaceOrder(grpc::ServerContext* ctx, const shop::ops::v1::PlaceOrderRequest* request,
                          shop::ops::v1::PlaceOrderResponse* response) override;
  grpc::Status GetOrder(grpc::ServerContext* ctx, const shop::ops::v1::GetOrderRequest* request,
                        shop::ops::v1::GetOrderResponse* response) override;
  grpc::Status ListOrders(grpc::ServerContext* ctx, const shop::ops::v1::ListOrdersRequest* request,
                          shop::ops::v1::ListOrdersResponse* response) override;
  grpc::Status CancelOrder(grpc::ServerContext* ctx,
                           const shop::ops::v1::CancelOrderRequest* request,
                           shop::ops::v1::CancelOrderResponse* response) override;
  grpc::Status RecordPaymentEvent(grpc::ServerContext* ctx,
                                  const shop::ops::v1::RecordPaymentEventRequest* request,
                                  shop::ops::v1::RecordPaymentEventResponse* response) override;
  grpc::Status StartProcessing(grpc::ServerContext* ctx,
                               const shop::ops::v1::StartProcessingRequest* request,
                               shop::ops::v1::StartProcessingResponse* response) override;
  grpc::Status ShipOrder(grpc::ServerContext* ctx, const shop::ops::v1::ShipOrderRequest* request,
                         shop::ops::v1::ShipOrderResponse* response) override;
  grpc::Status DeliverOrder(grpc::ServerContext* ctx,
                            const shop::ops::v1::DeliverOrderRequest* request,
                            shop::ops::v1::DeliverOrderResponse* response) override;

 private:
  OrderProcessor* processor_;
};

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_OPS_GRPC_H_
