// The order status machine.
//   PENDING → CONFIRMED | FAILED | PAYMENT_FAILED | CANCELLED
//   CONFIRMED → PROCESSING | CANCELLED
//   PROCESSING → SHIPPED | CANCELLED
//   SHIPPED → DELIVERED
#ifndef SHOP_SERVICES_OPS_LIFECYCLE_H_
#define SHOP_SERVICES_OPS_LIFECYCLE_H_

#include <string>

#include "absl/status/status.h"
#include "shop/v1/types.pb.h"

namespace shop::ops {

bool CanTransition(shop::v1::OrderStatus from, shop::v1::OrderStatus to);
// "CONFIRMED" for ORDER_STATUS_CONFIRMED.
std::string ShortName(shop::v1::OrderStatus status);
// FAILED_PRECONDITION (reason ILLEGAL_TRANSITION) naming the current status.
absl::Status IllegalTransition(const std::string& order_id, shop::v1::OrderStatus from,
                               shop::v1::OrderStatus to);

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_LIFECYCLE_H_
