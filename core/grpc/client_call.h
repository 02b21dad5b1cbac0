// One outgoing unary call with the current trace and a deadline, its status
// converted to absl (details kept). Used by every service's gRPC clients.
#ifndef SHOP_CORE_GRPC_CLIENT_CALL_H_
#define SHOP_CORE_GRPC_CLIENT_CALL_H_

#include <grpcpp/client_context.h>

#include <chrono>

#include "absl/status/statusor.h"
#include "core/grpc/call_context.h"
#include "core/grpc/grpc_status.h"

namespace shop {

// `call(ctx, response)` makes the RPC, e.g.
//   CallUnary<ReserveResponse>(5s, [&](auto* ctx, auto* out) {
//     return stub->Reserve(ctx, request, out); });
template <typename Response, typename Call>
absl::StatusOr<Response> CallUnary(std::chrono::milliseconds timeout, Call call,
                                   bool inherit_deadline = true) {
  grpc::ClientContext ctx;
  PrepareClientContext(ctx, timeout, inherit_deadline);
  Response response;
  grpc::Status status = call(&ctx, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

// The common case, one method of a generated stub:
//   CallUnary(*stub_, &InventoryService::Stub::Reserve, request, 5s);
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> CallUnary(
    Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    const Request& request, std::chrono::milliseconds timeout, bool inherit_deadline = true) {
  return CallUnary<Response>(
      timeout,
      [&](grpc::ClientContext* ctx, Response* response) {
        return (stub.*method)(ctx, request, response);
      },
      inherit_deadline);
}

}  // namespace shop

#endif  // SHOP_CORE_GRPC_CLIENT_CALL_H_
