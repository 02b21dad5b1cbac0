// The port through which the saga reaches the payment adapter (pg-adapter);
// the gRPC implementation is services/ops/clients.h.
#ifndef SHOP_SERVICES_OPS_PAYMENT_CLIENT_H_
#define SHOP_SERVICES_OPS_PAYMENT_CLIENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "shop/v1/payments.pb.h"
#include "shop/v1/types.pb.h"

namespace shop::ops {

class PaymentClient {
 public:
  virtual ~PaymentClient() = default;
  virtual absl::StatusOr<shop::v1::Payment> Authorize(const std::string& order_id,
                                                      const shop::v1::Money& amount,
                                                      const std::string& payment_method_token,
                                                      const std::string& idempotency_key) = 0;
  virtual absl::StatusOr<shop::v1::Payment> Capture(const std::string& payment_id,
                                                    const std::string& idempotency_key) = 0;
  // By payment id, or by the authorization's key when `payment_id` is empty.
  virtual absl::StatusOr<shop::v1::Payment> Void(const std::string& payment_id,
                                                 const std::string& authorization_key,
                                                 const std::string& idempotency_key) = 0;
  virtual absl::StatusOr<shop::v1::RefundResponse> Refund(const std::string& payment_id,
                                                          const std::string& idempotency_key,
                                                          const std::string& reason) = 0;
};

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_PAYMENT_CLIENT_H_
