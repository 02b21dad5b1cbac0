#include "services/ops/lifecycle.h"

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace shop::ops {

using shop::v1::OrderStatus;

bool CanTransition(OrderStatus from, OrderStatus to) {
  switch (from) {
    case shop::v1::ORDER_STATUS_PENDING:
      return to == shop::v1::ORDER_STATUS_CONFIRMED || to == shop::v1::ORDER_STATUS_FAILED ||
             to == shop::v1::ORDER_STATUS_PAYMENT_FAILED || to == shop::v1::ORDER_STATUS_CANCELLED;
    case shop::v1::ORDER_STATUS_CONFIRMED:
      return to == shop::v1::ORDER_STATUS_PROCESSING || to == shop::v1::ORDER_STATUS_CANCELLED;
    case shop::v1::ORDER_STATUS_PROCESSING:
      return to == shop::v1::ORDER_STATUS_SHIPPED || to == shop::v1::ORDER_STATUS_CANCELLED;
    case shop::v1::ORDER_STATUS_SHIPPED:
      return to == shop::v1::ORDER_STATUS_DELIVERED;
    default:
      return false;
  }
}

std::string ShortName(OrderStatus status) {
  std::string name = shop::v1::OrderStatus_Name(status);
  return name.rfind("ORDER_STATUS_", 0) == 0 ? name.substr(13) : name;
}

absl::Status IllegalTransition(const std::string& order_id, OrderStatus from, OrderStatus to) {
  return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                         absl::StrCat("order ", order_id, " is ", ShortName(from),
                                      "; it cannot become ", ShortName(to)),
                         shop::v1::ILLEGAL_TRANSITION,
                         {{"order_id", order_id}, {"current_status", ShortName(from)}});
}

}  // namespace shop::ops
