// The port through which the saga reaches the inventory system (ims); the
// gRPC implementation is services/ops/clients.h.
#ifndef SHOP_SERVICES_OPS_INVENTORY_CLIENT_H_
#define SHOP_SERVICES_OPS_INVENTORY_CLIENT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "shop/v1/ims.pb.h"
#include "shop/v1/types.pb.h"

namespace shop::ops {

class InventoryClient {
 public:
  virtual ~InventoryClient() = default;
  // Read-only: INVALID_ARGUMENT (BadRequest) naming unknown SKUs.
  virtual absl::Status CheckSkusExist(
      const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) = 0;
  virtual absl::StatusOr<shop::v1::Reservation> Reserve(
      const std::string& order_id,
      const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines) = 0;
  virtual absl::StatusOr<shop::v1::Reservation> Commit(const std::string& reservation_id) = 0;
  // By reservation id, or by order id when `reservation_id` is empty.
  virtual absl::StatusOr<shop::v1::Reservation> Release(const std::string& reservation_id,
                                                        const std::string& order_id,
                                                        const std::string& reason) = 0;
  virtual absl::StatusOr<shop::v1::Reservation> Restock(const std::string& reservation_id,
                                                        const std::string& reason) = 0;
};

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_INVENTORY_CLIENT_H_
