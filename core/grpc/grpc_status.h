// The one place where absl::Status and grpc::Status meet. Details travel as
// google.rpc.Status in grpc-status-details-bin, in both directions.
#ifndef SHOP_CORE_GRPC_STATUS_H_
#define SHOP_CORE_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace shop {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace shop

#endif  // SHOP_CORE_GRPC_STATUS_H_
