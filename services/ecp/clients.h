// gRPC implementations of the edge's clients of ops and of the ims catalog.
#ifndef SHOP_SERVICES_ECP_CLIENTS_H_
#define SHOP_SERVICES_ECP_CLIENTS_H_

#include <grpcpp/channel.h>

#include <memory>

#include "services/ecp/catalog_client.h"
#include "services/ecp/orders_client.h"
#include "shop/ops/v1/ops.grpc.pb.h"
#include "shop/v1/ims.grpc.pb.h"

namespace shop::ecp {

class GrpcOrdersClient final : public OrdersClient {
 public:
  explicit GrpcOrdersClient(std::shared_ptr<grpc::Channel> channel)
      : stub_(shop::ops::v1::OrderProcessingService::NewStub(std::move(channel))) {}
  absl::StatusOr<shop::v1::Order> PlaceOrder(const OrderRequest& request) override;
  absl::StatusOr<shop::v1::Order> GetOrder(const std::string& order_id,
                                           const std::string& customer_id) override;
  absl::StatusOr<OrderPage> ListOrders(const std::string& customer_id, int32_t page_size,
                                       const std::string& page_token,
                                       shop::v1::OrderStatus status) override;
  absl::StatusOr<shop::v1::Order> CancelOrder(const std::string& order_id,
                                              const std::string& customer_id,
                                              const std::string& reason) override;
  absl::StatusOr<shop::v1::Order> StartProcessing(const std::string& order_id,
                                                  const std::string& note) override;
  absl::StatusOr<shop::v1::Order> ShipOrder(const std::string& order_id, const std::string& carrier,
                                            const std::string& tracking_number) override;
  absl::StatusOr<shop::v1::Order> DeliverOrder(const std::string& order_id,
                                               const std::string& note) override;

 private:
  std::unique_ptr<shop::ops::v1::OrderProcessingService::Stub> stub_;
};

class GrpcCatalogClient final : public CatalogClient {
 public:
  explicit GrpcCatalogClient(std::shared_ptr<grpc::Channel> channel)
      : stub_(shop::v1::InventoryService::NewStub(std::move(channel))) {}
  absl::StatusOr<ProductPage> ListProducts(int32_t page_size,
                                           const std::string& page_token) override;

 private:
  std::unique_ptr<shop::v1::InventoryService::Stub> stub_;
};

}  // namespace shop::ecp

#endif  // SHOP_SERVICES_ECP_CLIENTS_H_
