// absl::Status helpers shared by every service: propagation macros, typed
// error details (google.rpc.* messages carried as payloads) and constructors
// for the errors the mesh returns most.
#ifndef SHOP_CORE_STATUS_H_
#define SHOP_CORE_STATUS_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "shop/v1/error_reason.pb.h"

namespace google::protobuf {
class Message;
}

#define SHOP_STATUS_CONCAT_INNER_(a, b) a##b
#define SHOP_STATUS_CONCAT_(a, b) SHOP_STATUS_CONCAT_INNER_(a, b)

#define SHOP_RETURN_IF_ERROR(expr)                                                   \
  do {                                                                               \
    if (absl::Status shop_status_ = (expr); !shop_status_.ok()) return shop_status_; \
  } while (0)

#define SHOP_ASSIGN_OR_RETURN(lhs, expr)                                      \
  auto SHOP_STATUS_CONCAT_(shop_statusor_, __LINE__) = (expr);                \
  if (!SHOP_STATUS_CONCAT_(shop_statusor_, __LINE__).ok())                    \
    return std::move(SHOP_STATUS_CONCAT_(shop_statusor_, __LINE__)).status(); \
  lhs = *std::move(SHOP_STATUS_CONCAT_(shop_statusor_, __LINE__))

namespace shop {

// The ErrorInfo domain of every error the mesh raises.
inline constexpr absl::string_view kErrorDomain = "shop.local";

// Attaches `detail` (e.g. a google.rpc.BadRequest) to a non-OK status. At the
// gRPC boundary each detail becomes one google.protobuf.Any in
// google.rpc.Status.details.
void AddDetail(absl::Status& status, const google::protobuf::Message& detail);

// Fills `out` from the detail of its type, if `status` carries one.
bool GetDetail(const absl::Status& status, google::protobuf::Message& out);

// An error with a google.rpc.ErrorInfo{reason, domain=shop.local, metadata};
// the reason travels as its name (protos/shop/v1/error_reason.proto).
absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view message,
                             shop::v1::ErrorReason reason,
                             const std::map<std::string, std::string>& metadata = {});

// What code decides on: the ErrorInfo reason of `status`, or
// ERROR_REASON_UNSPECIFIED when it has none (or one this build does not know).
shop::v1::ErrorReason ReasonOf(const absl::Status& status);

// The name of `reason` as it travels (ErrorInfo.reason, Order.failure_reason).
std::string ReasonName(shop::v1::ErrorReason reason);

// The ErrorInfo reason of `status` as it travels, or "" when it has none
// (for display; decide with ReasonOf).
std::string ErrorReason(const absl::Status& status);

// The status as serialized google.rpc.Status (code, message, details) and
// back, to store an answer and replay it later exactly.
std::string SerializeStatus(const absl::Status& status);
absl::Status DeserializeStatus(absl::string_view bytes);

// Collects field violations; ToStatus() is OK when none were added and
// INVALID_ARGUMENT with a google.rpc.BadRequest otherwise.
class FieldViolations {
 public:
  void Add(std::string field, std::string description);
  bool empty() const { return violations_.empty(); }
  size_t size() const { return violations_.size(); }
  absl::Status ToStatus(absl::string_view message = "invalid request") const;

 private:
  std::vector<std::pair<std::string, std::string>> violations_;
};

}  // namespace shop

#endif  // SHOP_CORE_STATUS_H_
