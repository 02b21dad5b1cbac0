// gRPC implementations of the edge's backends (OPS and the IMS catalog).
#ifndef SHOP_SERVICES_ECP_BACKENDS_H_
#define SHOP_SERVICES_ECP_BACKENDS_H_

#include <grpcpp/channel.h>

#include <memory>

#include "services/ecp/storefront.h"
#include "shop/v1/ims.grpc.pb.h"
#include "shop/v1/ops.grpc.pb.h"

namespace shop::ecp {

class GrpcOrdersBackend final : public OrdersBackend {
 public:
  explicit GrpcOrdersBackend(std::shared_ptr<grpc::Channel> channel)
      : stub_(shop::v1::OrderProcessingService::NewStub(std::move(channel))) {}
  absl::StatusOr<shop::v1::ProcessOrderResponse> ProcessOrder(
      const shop::v1::ProcessOrderRequest& request) override;
  absl::StatusOr<shop::v1::LookupOrderResponse> LookupOrder(
      const shop::v1::LookupOrderRequest& request) override;
  absl::StatusOr<shop::v1::ListCustomerOrdersResponse> ListCustomerOrders(
      const shop::v1::ListCustomerOrdersRequest& request) override;
  absl::StatusOr<shop::v1::CancelCustomerOrderResponse> CancelCustomerOrder(
      const shop::v1::CancelCustomerOrderRequest& request) override;
  absl::StatusOr<shop::v1::MarkProcessingResponse> MarkProcessing(
      const shop::v1::MarkProcessingRequest& request) override;
  absl::StatusOr<shop::v1::MarkShippedResponse> MarkShipped(
      const shop::v1::MarkShippedRequest& request) override;
  absl::StatusOr<shop::v1::MarkDeliveredResponse> MarkDelivered(
      const shop::v1::MarkDeliveredRequest& request) override;

 private:
  std::unique_ptr<shop::v1::OrderProcessingService::Stub> stub_;
};

class GrpcCatalogBackend final : public CatalogBackend {
 public:
  explicit GrpcCatalogBackend(std::shared_ptr<grpc::Channel> channel)
      : stub_(shop::v1::InventoryService::NewStub(std::move(channel))) {}
  absl::StatusOr<shop::v1::ListProductsResponse> ListProducts(
      const shop::v1::ListProductsRequest& request) override;

 private:
  std::unique_ptr<shop::v1::InventoryService::Stub> stub_;
};

}  // namespace shop::ecp

#endif  // SHOP_SERVICES_ECP_BACKENDS_H_
