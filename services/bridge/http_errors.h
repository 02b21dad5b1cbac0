// gRPC status → HTTP error response of the JSON bridge: the HTTP status
// (grpc-gateway v2's table) and the body
//   {"code": <gRPC code>, "message": "...", "details": [<proto3 JSON of Any>...]}
// for backend errors (details from grpc-status-details-bin) and the bridge's
// own errors alike.
#ifndef SHOP_SERVICES_BRIDGE_HTTP_ERRORS_H_
#define SHOP_SERVICES_BRIDGE_HTTP_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/rpc/status.pb.h"

namespace shop::bridge {

// OK 200, CANCELLED 499, UNKNOWN 500, INVALID_ARGUMENT 400,
// DEADLINE_EXCEEDED 504, NOT_FOUND 404, ALREADY_EXISTS 409,
// PERMISSION_DENIED 403, UNAUTHENTICATED 401, RESOURCE_EXHAUSTED 429,
// FAILED_PRECONDITION 400, ABORTED 409, OUT_OF_RANGE 400, UNIMPLEMENTED 501,
// INTERNAL 500, UNAVAILABLE 503, DATA_LOSS 500; anything else 500.
int HttpStatusFromCode(int grpc_code);

// The status of a backend call: its code and message, with the details of
// the grpc-status-details-bin trailer when it holds a google.rpc.Status.
google::rpc::Status RpcStatusFromGrpc(int code, absl::string_view message,
                                      absl::string_view details_bin);

// A bridge-local error (details are the status payloads, see core/status.h).
google::rpc::Status RpcStatusFromAbsl(const absl::Status& status);

// The JSON error object. A detail whose type this binary does not know is
// rendered as {"@type": <url>, "value": <base64 of its bytes>}.
std::string ErrorJson(const google::rpc::Status& status);

}  // namespace shop::bridge

#endif  // SHOP_SERVICES_BRIDGE_HTTP_ERRORS_H_
