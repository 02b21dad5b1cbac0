// gRPC implementations of the saga's downstream interfaces (IMS, payments).
#ifndef SHOP_SERVICES_OPS_CLIENTS_H_
#define SHOP_SERVICES_OPS_CLIENTS_H_

#include <grpcpp/channel.h>

#include <chrono>
#include <memory>

#include "services/ops/inventory_client.h"
#include "services/ops/payment_client.h"
#include "shop/v1/ims.grpc.pb.h"
#include "shop/v1/payments.grpc.pb.h"

namespace shop::ops {

class GrpcInventoryClient final : public InventoryClient {
 public:
  explicit GrpcInventoryClient(std::shared_ptr<grpc::Channel> channel)
      : stub_(shop::v1::InventoryService::NewStub(std::move(channel))) {}
  absl::Status CheckSkusExist(
      const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) override;
  absl::StatusOr<shop::v1::Reservation> Reserve(
      const std::string& order_id,
      const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) override;
  absl::StatusOr<shop::v1::Reservation> Commit(const std::string& reservation_id) override;
  absl::StatusOr<shop::v1::Reservation> Release(const std::string& reservation_id,
                                                const std::string& order_id,
                                                const std::string& reason) override;
  absl::StatusOr<shop::v1::Reservation> Restock(const std::string& reservation_id,
                                                const std::string& reason) override;

 private:
  std::unique_ptr<shop::v1::InventoryService::Stub> stub_;
};

class GrpcPaymentClient final : public PaymentClient {
 public:
  explicit GrpcPaymentClient(std::shared_ptr<grpc::Channel> channel)
      : stub_(shop::v1::PaymentGatewayService::NewStub(std::move(channel))) {}
  absl::StatusOr<shop::v1::Payment> Authorize(const std::string& order_id,
                                              const shop::v1::Money& amount,
                                              const std::string& payment_method_token,
                                              const std::string& idempotency_key) override;
  absl::StatusOr<shop::v1::Payment> Capture(const std::string& payment_id,
                                            const std::string& idempotency_key) override;
  absl::StatusOr<shop::v1::Payment> Void(const std::string& payment_id,
                                         const std::string& authorization_key,
                                         const std::string& idempotency_key) override;
  absl::StatusOr<shop::v1::RefundResponse> Refund(const std::string& payment_id,
                                                  const std::string& idempotency_key,
                                                  const std::string& reason) override;

 private:
  std::unique_ptr<shop::v1::PaymentGatewayService::Stub> stub_;
};

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_CLIENTS_H_
