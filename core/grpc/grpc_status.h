// The one place where absl::Status and grpc::Status meet. Details travel as
// google.rpc.Status in grpc-status-details-bin, in both directions.
#ifndef SHOP_CORE_GRPC_GRPC_STATUS_H_
#define SHOP_CORE_GRPC_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shop {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// A handler's answer: the error as a gRPC status, or OK once `fill` has put
// the value into the response, e.g.
//   return Reply(processor_->GetOrder(...),
//                [&](shop::v1::Order order) { *response->mutable_order() = std::move(order); });
template <typename T, typename Fill>
grpc::Status Reply(absl::StatusOr<T> result, Fill fill) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  fill(*std::move(result));
  return grpc::Status::OK;
}

// The common case, a response that is one message field:
//   return ReplyInto(processor_->GetOrder(...), response, &GetOrderResponse::mutable_order);
template <typename T, typename Response>
grpc::Status ReplyInto(absl::StatusOr<T> result, Response* response, T* (Response::*field)()) {
  return Reply(std::move(result), [&](T value) { *(response->*field)() = std::move(value); });
}

}  // namespace shop

#endif  // SHOP_CORE_GRPC_GRPC_STATUS_H_
