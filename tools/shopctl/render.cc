#include "tools/shopctl/render.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "core/money.h"
#include "core/status.h"
#include "google/rpc/error_details.pb.h"

namespace shop::cli {

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

std::string FormatMoneyProto(const shop::v1::Money& money) {
  return FormatMoney(Money{money.currency_code(), money.units(), money.nanos()});
}

std::string StatusName(shop::v1::OrderStatus status) {
  std::string name = shop::v1::OrderStatus_Name(status);
  return name.rfind("ORDER_STATUS_", 0) == 0 ? name.substr(13) : name;
}

std::string DescribeOrder(const shop::v1::Order& order) {
  std::string out = absl::StrCat("order ", order.order_id(), "  ", StatusName(order.status()));
  if (!order.failure_reason().empty()) absl::StrAppend(&out, " (", order.failure_reason(), ")");
  absl::StrAppend(&out, "\n");
  for (const auto& line : order.lines()) {
    absl::StrAppend(&out, "  ", line.quantity(), " x ", line.sku());
    if (!line.name().empty()) absl::StrAppend(&out, "  ", line.name());
    if (line.has_line_total()) absl::StrAppend(&out, "  ", FormatMoneyProto(line.line_total()));
    absl::StrAppend(&out, "\n");
  }
  if (order.has_totals() && !order.totals().grand_total().currency_code().empty()) {
    const auto& t = order.totals();
    absl::StrAppend(&out, "  subtotal ", FormatMoneyProto(t.subtotal()), "  tax ",
                    FormatMoneyProto(t.tax()), "  shipping ", FormatMoneyProto(t.shipping()),
                    "  total ", FormatMoneyProto(t.grand_total()), "\n");
  }
  if (!order.payment_id().empty() || order.payment_status() != shop::v1::PAYMENT_STATUS_UNSPECIFIED) {
    std::string payment = shop::v1::PaymentStatus_Name(order.payment_status());
    absl::StrAppend(&out, "  payment ", order.payment_id().empty() ? "-" : order.payment_id(), " ",
                    payment.substr(sizeof("PAYMENT_STATUS_") - 1));
    if (!order.refund_id().empty()) absl::StrAppend(&out, "  refund ", order.refund_id());
    absl::StrAppend(&out, "\n");
  }
  if (order.has_tracking()) {
    absl::StrAppend(&out, "  shipped with ", order.tracking().carrier(), ", tracking ",
                    order.tracking().tracking_number(), "\n");
  }
  for (const auto& change : order.status_history()) {
    absl::StrAppend(&out, "  ", google::protobuf::util::TimeUtil::ToString(change.change_time()),
                    "  ", StatusName(change.status()), "  by ", change.actor());
    if (!change.note().empty()) absl::StrAppend(&out, "  (", change.note(), ")");
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string DescribeError(const absl::Status& status) {
  std::string out = absl::StrCat("error: ", absl::StatusCodeToString(status.code()), ": ",
                                 status.message(), "\n");
  google::rpc::ErrorInfo info;
  if (GetDetail(status, info)) {
    absl::StrAppend(&out, "  reason: ", info.reason());
    for (const auto& [key, value] : info.metadata()) absl::StrAppend(&out, "  ", key, "=", value);
    absl::StrAppend(&out, "\n");
  }
  google::rpc::BadRequest bad_request;
  if (GetDetail(status, bad_request)) {
    for (const auto& v : bad_request.field_violations()) {
      absl::StrAppend(&out, "  field ", v.field(), ": ", v.description(), "\n");
    }
  }
  shop::v1::StockShortage shortage;
  if (GetDetail(status, shortage)) {
    for (const auto& item : shortage.items()) {
      absl::StrAppend(&out, "  unavailable ", item.sku(), ": requested ",
                      item.requested_quantity(), ", available ", item.available_quantity(), "\n");
    }
  }
  return out;
}

}  // namespace shop::cli
