// An order as a customer asks for it: what the edge (ecp) checks and the saga
// (ops) runs. The domain's own type: each gRPC adapter converts its wire
// request to it, once.
#ifndef SHOP_CORE_ORDER_REQUEST_H_
#define SHOP_CORE_ORDER_REQUEST_H_

#include <google/protobuf/repeated_ptr_field.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "shop/v1/types.pb.h"

namespace shop {

struct OrderRequest {
  std::string customer_id;  // the authenticated end user
  google::protobuf::RepeatedPtrField<shop::v1::LineItem> lines;
  std::optional<shop::v1::Address> shipping_address;
  std::optional<shop::v1::Address> billing_address;  // none: the shipping address
  std::string payment_method_token;                  // pm_..., never a card number
  std::string idempotency_key;                       // chosen by the client
};

// Customer, lines, addresses, payment method token and idempotency key:
// INVALID_ARGUMENT with a BadRequest listing every problem, with the field
// names of the wire requests (lines[0].sku, shipping_address.city, ...).
absl::Status ValidateOrderRequest(const OrderRequest& request);

// A digest of everything the request asks for, in a canonical encoding: the
// same request (retried with its key) has the same digest; any difference in
// lines, addresses, token or customer changes it. Lower-case hex SHA-256.
std::string OrderRequestDigest(const OrderRequest& request);

}  // namespace shop

#endif  // SHOP_CORE_ORDER_REQUEST_H_
