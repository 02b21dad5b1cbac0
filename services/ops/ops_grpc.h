// gRPC adapter of the order processing system.
#ifndef SHOP_SERVICES_OPS_OPS_GRPC_H_
#define SHOP_SERVICES_OPS_OPS_GRPC_H_

#include "services/ops/order_processor.h"
#include "shop/v1/ops.grpc.pb.h"

namespace shop::ops {

class OrderProcessingGrpcService final : public shop::v1::OrderProcessingService::Service {
 public:
  explicit OrderProcessingGrpcService(OrderProcessor* processor) : processor_(processor) {}

  grpc::Status ProcessOrder(grpc::ServerContext* ctx, const shop::v1::ProcessOrderRequest* request,
                            shop::v1::ProcessOrderResponse* response) override;
  grpc::Status LookupOrder(grpc::ServerContext* ctx, const shop::v1::LookupOrderRequest* request,
                           shop::v1::LookupOrderResponse* response) override;
  grpc::Status ListCustomerOrders(grpc::ServerContext* ctx,
                                  const shop::v1::ListCustomerOrdersRequest* request,
                                  shop::v1::ListCustomerOrdersResponse* response) override;
  grpc::Status CancelCustomerOrder(grpc::ServerContext* ctx,
                                   const shop::v1::CancelCustomerOrderRequest* request,
                                   shop::v1::CancelCustomerOrderResponse* response) override;
  grpc::Status RecordPaymentEvent(grpc::ServerContext* ctx,
                                  const shop::v1::RecordPaymentEventRequest* request,
                                  shop::v1::RecordPaymentEventResponse* response) override;
  grpc::Status MarkProcessing(grpc::ServerContext* ctx,
                              const shop::v1::MarkProcessingRequest* request,
                              shop::v1::MarkProcessingResponse* response) override;
  grpc::Status MarkShipped(grpc::ServerContext* ctx, const shop::v1::MarkShippedRequest* request,
                           shop::v1::MarkShippedResponse* response) override;
  grpc::Status MarkDelivered(grpc::ServerContext* ctx,
                             const shop::v1::MarkDeliveredRequest* request,
                             shop::v1::MarkDeliveredResponse* response) override;

 private:
  OrderProcessor* processor_;
};

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_OPS_GRPC_H_
