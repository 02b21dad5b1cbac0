// The payment domain: authorize, capture, void and refund through the
// external gateway, each recorded before and after the gateway call, each
// idempotent by the caller's key (and by a derived Idempotency-Key at the
// gateway, so a retried call never charges twice).
#ifndef SHOP_SERVICES_PG_ADAPTER_PAYMENTS_H_
#define SHOP_SERVICES_PG_ADAPTER_PAYMENTS_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/money.h"
#include "services/pg-adapter/circuit_breaker.h"
#include "services/pg-adapter/gateway_client.h"
#include "services/pg-adapter/payment_store.h"

namespace shop::payments {

struct PaymentServiceOptions {
  int max_tries = 3;
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(2);
  absl::Duration per_try_timeout = absl::Seconds(5);
  // Reads the time for deadlines and sleeps between tries (tests pass a
  // SimulatedClock, so backoff costs no real time).
  Clock* clock = Clock::Real();
};

struct RefundResult {
  Payment payment;
  std::string refund_id;
};

class PaymentService {
 public:
  // `breaker` may be null (no circuit breaking).
  PaymentService(PaymentStore* store, GatewayClient* gateway, PaymentServiceOptions options,
                 CircuitBreaker* breaker = nullptr);

  // `deadline` bounds all tries (the incoming call's deadline).
  absl::StatusOr<Payment> Authorize(const std::string& order_id, const Money& amount,
                                    const std::string& payment_method_token,
                                    const std::string& idempotency_key, absl::Time deadline);
  absl::StatusOr<Payment> Capture(const std::string& payment_id, const std::string& key,
                                  absl::Time deadline);
  // See PaymentGatewayService.Void: one of payment_id and authorization_key.
  absl::StatusOr<Payment> Void(const std::string& payment_id, const std::string& authorization_key,
                               const std::string& key, absl::Time deadline);
  // `amount` absent: everything not yet refunded.
  absl::StatusOr<RefundResult> Refund(const std::string& payment_id,
                                      const std::optional<Money>& amount, const std::string& key,
                                      absl::Time deadline);

 private:
  struct CallResult {
    GatewayResponse response;
    int tries = 0;
  };
  absl::StatusOr<Payment> AuthorizeLocked(const std::string& order_id, const Money& amount,
                                          const std::string& payment_method_token,
                                          const std::string& idempotency_key, absl::Time deadline);
  // Reads the intent at the gateway and records its true state (after a
  // crash between a gateway call and our write, the two can differ).
  absl::Status Reconcile(Payment& payment, absl::Time deadline);
  // One payment is worked on by one call at a time (in this process): its
  // gateway calls and state writes never interleave. Keyed by the
  // authorization's idempotency key.
  absl::Mutex& LockFor(const std::string& authorization_key);

  // Sends with retries on transport errors, 429 and 5xx (never on a decline
  // or another 4xx), recording each try.
  // `nothing_sent` (optional) tells, on failure, whether no try reached the gateway.
  absl::StatusOr<CallResult> Call(const Payment& payment, Operation op,
                                  const GatewayRequest& request, absl::Time deadline,
                                  bool* nothing_sent = nullptr);

  PaymentStore* store_;
  GatewayClient* gateway_;
  PaymentServiceOptions options_;
  CircuitBreaker* breaker_;
  absl::Mutex locks_[64];
};

// Maps a Stripe-style error body (HTTP 402/400) to the status the caller
// gets: declines → FAILED_PRECONDITION with reason INSUFFICIENT_FUNDS,
// CARD_DECLINED, EXPIRED_CARD, INCORRECT_CVC or PROCESSING_ERROR; an unknown
// payment method → INVALID_ARGUMENT with reason INVALID_PAYMENT_METHOD.
absl::Status GatewayErrorToStatus(int http_status, const std::string& body,
                                  const std::string& order_id, std::string* decline_code);

}  // namespace shop::payments

#endif  // SHOP_SERVICES_PG_ADAPTER_PAYMENTS_H_
