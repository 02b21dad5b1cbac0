#include "services/bridge/http_errors.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "core/status.h"

namespace shop::bridge {

int HttpStatusFromCode(int grpc_code) {
  switch (static_cast<absl::StatusCode>(grpc_code)) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kUnknown:
      return 500;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kFailedPrecondition:
      return 400;
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kInternal:
      return 500;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDataLoss:
      return 500;
    default:
      return 500;
  }
}

google::rpc::Status RpcStatusFromGrpc(int code, absl::string_view message,
                                      absl::string_view details_bin) {
  google::rpc::Status status;
  if (!details_bin.empty() &&
      status.ParseFromArray(details_bin.data(), static_cast<int>(details_bin.size()))) {
    // The call's own code and message are authoritative; the trailer brings details.
  } else {
    status.Clear();
  }
  status.set_code(code);
  status.set_message(std::string(message));
  return status;
}

google::rpc::Status RpcStatusFromAbsl(const absl::Status& status) {
  google::rpc::Status rpc_status;
  rpc_status.ParseFromString(SerializeStatus(status));
  return rpc_status;
}

std::string ErrorJson(const google::rpc::Status& status) {
  nlohmann::ordered_json body;
  body["code"] = status.code();
  body["message"] = status.message();
  body["details"] = nlohmann::ordered_json::array();
  for (const google::protobuf::Any& any : status.details()) {
    std::string rendered;
    nlohmann::ordered_json detail;
    if (google::protobuf::util::MessageToJsonString(any, &rendered).ok()) {
      detail = nlohmann::ordered_json::parse(rendered, nullptr, /*allow_exceptions=*/false);
    }
    if (detail.is_discarded() || !detail.is_object()) {
      detail = nlohmann::ordered_json::object();
      detail["@type"] = any.type_url();
      detail["value"] = absl::Base64Escape(any.value());
    }
    body["details"].push_back(std::move(detail));
  }
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace shop::bridge
