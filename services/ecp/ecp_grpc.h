// gRPC adapter of the customer-facing edge.
#ifndef SHOP_SERVICES_ECP_ECP_GRPC_H_
#define SHOP_SERVICES_ECP_ECP_GRPC_H_

#include "services/ecp/storefront.h"
#include "shop/v1/ecp.grpc.pb.h"

namespace shop::ecp {

class CustomerGrpcService final : public shop::v1::CustomerService::Service {
 public:
  explicit CustomerGrpcService(Storefront* storefront) : storefront_(storefront) {}

  grpc::Status PlaceOrder(grpc::ServerContext* ctx, const shop::v1::PlaceOrderRequest* request,
                          shop::v1::PlaceOrderResponse* response) override;
  grpc::Status GetOrder(grpc::ServerContext* ctx, const shop::v1::GetOrderRequest* request,
                        shop::v1::GetOrderResponse* response) override;
  grpc::Status ListOrders(grpc::ServerContext* ctx, const shop::v1::ListOrdersRequest* request,
                          shop::v1::ListOrdersResponse* response) override;
  grpc::Status CancelOrder(grpc::ServerContext* ctx, const shop::v1::CancelOrderRequest* request,
                           shop::v1::CancelOrderResponse* response) override;
  grpc::Status BrowseCatalog(grpc::ServerContext* ctx,
                             const shop::v1::BrowseCatalogRequest* request,
                             shop::v1::BrowseCatalogResponse* response) override;

 private:
  Storefront* storefront_;
};

}  // namespace shop::ecp

#endif  // SHOP_SERVICES_ECP_ECP_GRPC_H_
