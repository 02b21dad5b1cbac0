#include "tools/shopctl/render.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
  if (!order.payment_id().empty() ||
      order.payment_status() != shop::v1::PAYMENT_STATUS_UNSPECIFIED) {
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
      absl::StrAppend(&out, "  unavailable ", item.sku(), ": requested ", item.requested_quantity(),
                      ", available ", item.available_quantity(), "\n");
    }
  }
  return out;
}

namespace {

using google::protobuf::util::TimeUtil;

int64_t Micros(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

std::string KindName(shop::v1::EventKind kind) {
  switch (kind) {
    case shop::v1::EVENT_KIND_SERVER_SPAN:
      return "server";
    case shop::v1::EVENT_KIND_CLIENT_SPAN:
      return "client";
    case shop::v1::EVENT_KIND_INTERNAL_SPAN:
      return "internal";
    case shop::v1::EVENT_KIND_BUSINESS:
      return "event";
    default:
      return "?";
  }
}

// "spiffe://shop.local/ns/shop/sa/ecp" -> "ecp".
std::string ShortIdentity(const std::string& spiffe) {
  size_t slash = spiffe.rfind('/');
  return slash == std::string::npos ? spiffe : spiffe.substr(slash + 1);
}

std::string CodeText(int code, const std::string& message) {
  if (code == 0) return "OK";
  std::string text = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  if (!message.empty()) absl::StrAppend(&text, " (", message.substr(0, 80), ")");
  return text;
}

void MinMax(const shop::v1::TraceSpan& span, int64_t& begin, int64_t& end) {
  begin = std::min(begin, Micros(span.event().start_time()));
  end = std::max(end, Micros(span.event().end_time()));
  for (const auto& child : span.children()) MinMax(child, begin, end);
}

void Waterfall(const shop::v1::TraceSpan& span, int depth, int64_t begin, int64_t total,
               std::string& out) {
  constexpr int kBar = 30;
  const auto& e = span.event();
  int64_t start = Micros(e.start_time()) - begin;
  int64_t duration = std::max<int64_t>(0, Micros(e.end_time()) - Micros(e.start_time()));
  int from = total > 0 ? static_cast<int>(start * kBar / total) : 0;
  int width = total > 0 ? static_cast<int>(duration * kBar / total) : 0;
  from = std::min(std::max(from, 0), kBar - 1);
  width = std::max(1, std::min(width, kBar - from));
  std::string bar =
      std::string(from, ' ') +
      (e.kind() == shop::v1::EVENT_KIND_BUSINESS ? std::string("*") : std::string(width, '#'));
  bar.resize(kBar, ' ');
  std::string who = e.kind() == shop::v1::EVENT_KIND_SERVER_SPAN && !e.caller().empty()
                        ? " from " + ShortIdentity(e.caller())
                        : "";
  if (!e.customer_id().empty() && e.kind() == shop::v1::EVENT_KIND_SERVER_SPAN) {
    absl::StrAppend(&who, " for ", e.customer_id());
  }
  absl::StrAppend(
      &out, absl::StrFormat("%9.1f ms |%s| %8.1f ms  ", start / 1000.0, bar, duration / 1000.0),
      std::string(static_cast<size_t>(depth) * 2, ' '), e.service(), " ", KindName(e.kind()), " ",
      e.name(), "  ", CodeText(e.status_code(), e.status_message()), who);
  if (auto it = e.attributes().find("http.resend_count"); it != e.attributes().end()) {
    absl::StrAppend(&out, " retry ", it->second);
  }
  if (auto it = e.attributes().find("db.attempts");
      it != e.attributes().end() && it->second != "1") {
    absl::StrAppend(&out, " attempts ", it->second);
  }
  out += "\n";
  for (const auto& child : span.children()) Waterfall(child, depth + 1, begin, total, out);
}

}  // namespace

std::string DescribeTrace(const shop::v1::GetTraceResponse& trace) {
  std::string out;
  // One waterfall per trace, roots in time order.
  for (const std::string& trace_id : trace.trace_ids()) {
    int64_t begin = INT64_MAX, end = INT64_MIN;
    int spans = 0;
    for (const auto& root : trace.roots()) {
      if (root.event().trace_id() != trace_id) continue;
      MinMax(root, begin, end);
      ++spans;
    }
    if (spans == 0) continue;
    absl::StrAppend(&out, "trace ", trace_id, "  ",
                    absl::StrFormat("%.1f ms", (end - begin) / 1000.0), "\n");
    for (const auto& root : trace.roots()) {
      if (root.event().trace_id() == trace_id) Waterfall(root, 0, begin, end - begin, out);
    }
    out += "\n";
  }
  absl::StrAppend(&out, trace.span_count(), " spans in ", trace.trace_ids_size(), " trace(s)\n");
  return out;
}

std::string DescribeRecord(const shop::v1::AuditRecord& record) {
  const auto& e = record.event();
  return absl::StrCat(record.sequence(), "\t", TimeUtil::ToString(e.start_time()), "\t",
                      e.service(), "\t", KindName(e.kind()), "\t", e.name(), "\t",
                      CodeText(e.status_code(), e.status_message()), "\ttrace=", e.trace_id(),
                      e.order_id().empty() ? "" : "\torder=" + e.order_id(),
                      e.caller().empty() ? "" : "\tcaller=" + ShortIdentity(e.caller()), "\n");
}

}  // namespace shop::cli
