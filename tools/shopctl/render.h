// How shopctl shows answers and errors to a person (or as proto JSON).
#ifndef SHOP_TOOLS_SHOPCTL_RENDER_H_
#define SHOP_TOOLS_SHOPCTL_RENDER_H_

#include <string>

#include "absl/status/status.h"
#include "shop/v1/types.pb.h"

namespace google::protobuf {
class Message;
}

namespace shop::cli {

std::string ToJson(const google::protobuf::Message& message);
std::string FormatMoneyProto(const shop::v1::Money& money);
std::string StatusName(shop::v1::OrderStatus status);
// A few lines describing an order: id, status, lines, totals, payment.
std::string DescribeOrder(const shop::v1::Order& order);
// "error: FAILED_PRECONDITION: not enough stock: ..." followed by one line
// per detail (reason, field violations, unavailable items).
std::string DescribeError(const absl::Status& status);

}  // namespace shop::cli

#endif  // SHOP_TOOLS_SHOPCTL_RENDER_H_
