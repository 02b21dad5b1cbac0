// gRPC adapter of the inventory: proto ↔ domain, absl::Status ↔ grpc::Status.
#ifndef SHOP_SERVICES_IMS_IMS_GRPC_H_
#define SHOP_SERVICES_IMS_IMS_GRPC_H_

#include "services/ims/inventory.h"
#include "shop/v1/ims.grpc.pb.h"

namespace shop::ims {

class InventoryGrpcService final : public shop::v1::InventoryService::Service {
 public:
  explicit InventoryGrpcService(Inventory* inventory) : inventory_(inventory) {}

  grpc::Status CheckAvailability(grpc::ServerContext* ctx,
                                 const shop::v1::CheckAvailabilityRequest* request,
                                 shop::v1::CheckAvailabilityResponse* response) override;
  grpc::Status Reserve(grpc::ServerContext* ctx, const shop::v1::ReserveRequest* request,
                       shop::v1::ReserveResponse* response) override;
  grpc::Status Commit(grpc::ServerContext* ctx, const shop::v1::CommitRequest* request,
                      shop::v1::CommitResponse* response) override;
  grpc::Status Release(grpc::ServerContext* ctx, const shop::v1::ReleaseRequest* request,
                       shop::v1::ReleaseResponse* response) override;
  grpc::Status Restock(grpc::ServerContext* ctx, const shop::v1::RestockRequest* request,
                       shop::v1::RestockResponse* response) override;
  grpc::Status GetStock(grpc::ServerContext* ctx, const shop::v1::GetStockRequest* request,
                        shop::v1::GetStockResponse* response) override;
  grpc::Status ListProducts(grpc::ServerContext* ctx, const shop::v1::ListProductsRequest* request,
                            shop::v1::ListProductsResponse* response) override;

 private:
  Inventory* inventory_;
};

}  // namespace shop::ims

#endif  // SHOP_SERVICES_IMS_IMS_GRPC_H_
