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

// The order fields of a wire request (shop.v1.PlaceOrderRequest at the edge,
// shop.ops.v1.PlaceOrderRequest in ops): lines, addresses, token and key. Not
// the customer: the edge takes it from the verified caller, ops from its
// request.
template <typename WireRequest>
OrderRequest OrderRequestFromWire(const WireRequest& wire) {
  OrderRequest request;
  request.lines = wire.lines();
  if (wire.has_shipping_address()) request.shipping_address = wire.shipping_address();
  if (wire.has_billing_address()) request.billing_address = wire.billing_address();
  request.payment_method_token = wire.payment_method_token();
  request.idempotency_key = wire.idempotency_key();
  return request;
}

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
