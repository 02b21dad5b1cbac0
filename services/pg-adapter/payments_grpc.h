// gRPC adapter of the payment service.
#ifndef SHOP_SERVICES_PG_ADAPTER_PAYMENTS_GRPC_H_
#define SHOP_SERVICES_PG_ADAPTER_PAYMENTS_GRPC_H_

#include "services/pg-adapter/payments.h"
#include "shop/v1/payments.grpc.pb.h"

namespace shop::payments {

class PaymentGatewayGrpcService final : public shop::v1::PaymentGatewayService::Service {
 public:
  explicit PaymentGatewayGrpcService(PaymentService* payments) : payments_(payments) {}

  grpc::Status Authorize(grpc::ServerContext* ctx, const shop::v1::AuthorizeRequest* request,
                         shop::v1::AuthorizeResponse* response) override;
  grpc::Status Capture(grpc::ServerContext* ctx, const shop::v1::CaptureRequest* request,
                       shop::v1::CaptureResponse* response) override;
  grpc::Status Void(grpc::ServerContext* ctx, const shop::v1::VoidRequest* request,
                    shop::v1::VoidResponse* response) override;
  grpc::Status Refund(grpc::ServerContext* ctx, const shop::v1::RefundRequest* request,
                      shop::v1::RefundResponse* response) override;

 private:
  PaymentService* payments_;
};

}  // namespace shop::payments

#endif  // SHOP_SERVICES_PG_ADAPTER_PAYMENTS_GRPC_H_
