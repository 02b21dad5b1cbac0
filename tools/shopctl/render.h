// How shopctl shows answers and errors to a person (or as proto JSON).
#ifndef SHOP_TOOLS_SHOPCTL_RENDER_H_
#define SHOP_TOOLS_SHOPCTL_RENDER_H_

#include <string>

#include "absl/status/status.h"
#include "shop/v1/audit.pb.h"
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
// The span trees as a waterfall: one line per span with its offset from the
// start of its trace, a bar, the duration, service, kind, name, status and
// caller, indented by depth.
std::string DescribeTrace(const shop::v1::GetTraceResponse& trace);
// One line per audit record (tail, query).
std::string DescribeRecord(const shop::v1::AuditRecord& record);

}  // namespace shop::cli

#endif  // SHOP_TOOLS_SHOPCTL_RENDER_H_
