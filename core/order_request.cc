#include "core/order_request.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/string_view.h"
#include "core/digest.h"
#include "core/status.h"
#include "core/validation.h"

namespace shop {

absl::Status ValidateOrderRequest(const OrderRequest& request) {
  FieldViolations violations;
  RequireId("customer_id", request.customer_id, violations);
  ValidateLineItems(request.lines, "lines", violations);
  if (!request.shipping_address.has_value()) {
    violations.Add("shipping_address", "is required");
  } else {
    ValidateAddress(*request.shipping_address, "shipping_address", violations);
  }
  if (request.billing_address.has_value()) {
    ValidateAddress(*request.billing_address, "billing_address", violations);
  }
  if (request.payment_method_token.empty()) {
    violations.Add("payment_method_token", "is required (a pm_... token from the gateway)");
  } else if (!IsValidId(request.payment_method_token) ||
             request.payment_method_token.rfind("pm_", 0) != 0 ||
             HasCardNumberLikeRun(request.payment_method_token)) {
    violations.Add("payment_method_token",
                   "must be a payment-method token (pm_...), never a card number");
  }
  if (request.idempotency_key.empty()) {
    violations.Add("idempotency_key", "is required: a client-chosen key that makes retries safe");
  } else {
    RequireId("idempotency_key", request.idempotency_key, violations);
  }
  return violations.ToStatus();
}

std::string OrderRequestDigest(const OrderRequest& request) {
  // The wire encoding of the fields, in field order, with protobuf's
  // deterministic serialization: the same bytes as the PlaceOrderRequest
  // message both APIs send, so digests stored before this type existed
  // still match.
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    auto write_string = [&out](int field, const std::string& value) {
      if (value.empty()) return;
      out.WriteTag(static_cast<uint32_t>(field << 3 | 2));
      out.WriteVarint32(static_cast<uint32_t>(value.size()));
      out.WriteString(value);
    };
    auto write_message = [&out](int field, const google::protobuf::MessageLite& message) {
      std::string encoded;
      {
        google::protobuf::io::StringOutputStream inner(&encoded);
        google::protobuf::io::CodedOutputStream coded(&inner);
        coded.SetSerializationDeterministic(true);
        message.SerializeToCodedStream(&coded);
      }
      out.WriteTag(static_cast<uint32_t>(field << 3 | 2));
      out.WriteVarint32(static_cast<uint32_t>(encoded.size()));
      out.WriteString(encoded);
    };
    write_string(1, request.customer_id);
    for (const auto& line : request.lines) write_message(2, line);
    if (request.shipping_address) write_message(3, *request.shipping_address);
    if (request.billing_address) write_message(4, *request.billing_address);
    write_string(5, request.payment_method_token);
    write_string(6, request.idempotency_key);
  }
  return Sha256Hex(bytes);
}

}  // namespace shop
