// gRPC adapter of the customer-facing edge.
#ifndef SHOP_SERVICES_ECP_ECP_GRPC_H_
#define SHOP_SERVICES_ECP_ECP_GRPC_H_

#include "services/ecp/end_user.h"
#include "services/ecp/storefront.h"
#include "shop/v1/ecp.grpc.pb.h"

namespace shop::ecp {

class CustomerGrpcService final : public shop::v1::CustomerService::Service {
 public:
  CustomerGrpcService(Storefront* storefront, const EndUserAuthenticator* users)
      : storefront_(storefront), users_(users) {}

  grpc::Status PlaceOrder(grpc::ServerContext* ctx, const shop::v1::PlaceOrderRequest* request,
                          shop::v1::PlaceOrderResponse* response) override;
  grpc::Status GetOrder(grpc::ServerContext* ctx, const shop::v1::GetOrderRequest* request,
                        shop::v1::GetOrderResponse* response) override;
  grpc::Status ListOrders(grpc::ServerContext* ctx, const shop::v1::ListOrdersRequest* request,
                          shop::v1::ListOrdersResponse* response) override;
  grpc::Status WatchOrder(grpc::ServerContext* ctx, const shop::v1::WatchOrderRequest* request,
                          grpc::ServerWriter<shop::v1::WatchOrderResponse>* writer) override;
  grpc::Status CancelOrder(grpc::ServerContext* ctx, const shop::v1::CancelOrderRequest* request,
                           shop::v1::CancelOrderResponse* response) override;
  grpc::Status BrowseCatalog(grpc::ServerContext* ctx,
                             const shop::v1::BrowseCatalogRequest* request,
                             shop::v1::BrowseCatalogResponse* response) override;

 private:
  Storefront* storefront_;
  const EndUserAuthenticator* users_;
};

class FulfilmentGrpcService final : public shop::v1::FulfilmentService::Service {
 public:
  FulfilmentGrpcService(Storefront* storefront, const EndUserAuthenticator* users)
      : storefront_(storefront), users_(users) {}

  grpc::Status StartProcessing(grpc::ServerContext* ctx,
                               const shop::v1::StartProcessingRequest* request,
                               shop::v1::FulfilmentResponse* response) override;
  grpc::Status ShipOrder(grpc::ServerContext* ctx, const shop::v1::ShipOrderRequest* request,
                         shop::v1::FulfilmentResponse* response) override;
  grpc::Status DeliverOrder(grpc::ServerContext* ctx, const shop::v1::DeliverOrderRequest* request,
                            shop::v1::FulfilmentResponse* response) override;

 private:
  Storefront* storefront_;
  const EndUserAuthenticator* users_;
};

}  // namespace shop::ecp

#endif  // SHOP_SERVICES_ECP_ECP_GRPC_H_
