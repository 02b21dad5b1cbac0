#include "core/status.h"

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace shop {
namespace {

std::string TypeUrl(const google::protobuf::Message& message) {
  return absl::StrCat("type.googleapis.com/", message.GetDescriptor()->full_name());
}

}  // namespace

void AddDetail(absl::Status& status, const google::protobuf::Message& detail) {
  if (status.ok()) return;
  status.SetPayload(TypeUrl(detail), absl::Cord(detail.SerializeAsString()));
}

bool GetDetail(const absl::Status& status, google::protobuf::Message& out) {
  auto payload = status.GetPayload(TypeUrl(out));
  if (!payload.has_value()) return false;
  return out.ParseFromString(std::string(*payload));
}

absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view message,
                             shop::v1::ErrorReason reason,
                             const std::map<std::string, std::string>& metadata) {
  absl::Status status(code, message);
  google::rpc::ErrorInfo info;
  info.set_reason(ReasonName(reason));
  info.set_domain(std::string(kErrorDomain));
  for (const auto& [key, value] : metadata) (*info.mutable_metadata())[key] = value;
  AddDetail(status, info);
  return status;
}

shop::v1::ErrorReason ReasonOf(const absl::Status& status) {
  shop::v1::ErrorReason reason = shop::v1::ERROR_REASON_UNSPECIFIED;
  google::rpc::ErrorInfo info;
  if (GetDetail(status, info) && info.domain() == kErrorDomain) {
    if (!shop::v1::ErrorReason_Parse(info.reason(), &reason)) {
      reason = shop::v1::ERROR_REASON_UNSPECIFIED;
    }
  }
  return reason;
}

std::string ReasonName(shop::v1::ErrorReason reason) { return shop::v1::ErrorReason_Name(reason); }

std::string ErrorReason(const absl::Status& status) {
  google::rpc::ErrorInfo info;
  return GetDetail(status, info) ? info.reason() : "";
}

std::string SerializeStatus(const absl::Status& status) {
  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(std::string(status.message()));
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    auto* any = rpc_status.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
  });
  return rpc_status.SerializeAsString();
}

absl::Status DeserializeStatus(absl::string_view bytes) {
  google::rpc::Status rpc_status;
  if (!rpc_status.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InternalError("stored status is corrupt");
  }
  if (rpc_status.code() == 0) return absl::OkStatus();
  absl::Status status(static_cast<absl::StatusCode>(rpc_status.code()), rpc_status.message());
  for (const auto& any : rpc_status.details()) {
    status.SetPayload(any.type_url(), absl::Cord(any.value()));
  }
  return status;
}

void FieldViolations::Add(std::string field, std::string description) {
  violations_.emplace_back(std::move(field), std::move(description));
}

absl::Status FieldViolations::ToStatus(absl::string_view message) const {
  if (violations_.empty()) return absl::OkStatus();
  std::string text(message);
  for (const auto& [field, description] : violations_) {
    absl::StrAppend(&text, violations_.size() == 1 ? ": " : "; ", field, ": ", description);
  }
  absl::Status status = absl::InvalidArgumentError(text);
  google::rpc::BadRequest bad_request;
  for (const auto& [field, description] : violations_) {
    auto* violation = bad_request.add_field_violations();
    violation->set_field(field);
    violation->set_description(description);
  }
  AddDetail(status, bad_request);
  return status;
}

}  // namespace shop
