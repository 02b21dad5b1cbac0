// Payments and their attempts at the gateway, and the port through which the
// payment domain stores them; store.h is the PostgreSQL implementation.
#ifndef SHOP_SERVICES_PG_ADAPTER_PAYMENT_STORE_H_
#define SHOP_SERVICES_PG_ADAPTER_PAYMENT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shop::payments {

// kFailed: nothing is held at the gateway. kUnknown: the gateway may have
// authorized (the answer was lost); replaying the request tells.
enum class PaymentState {
  kPending,
  kAuthorized,
  kCaptured,
  kVoided,
  kRefunded,
  kPartiallyRefunded,
  kDeclined,
  kFailed,
  kUnknown
};
const char* PaymentStateName(PaymentState state);
std::optional<PaymentState> ParsePaymentState(absl::string_view name);

struct Payment {
  std::string payment_id;
  std::string order_id;
  std::string idempotency_key;
  PaymentState state = PaymentState::kPending;
  std::string currency;
  int64_t amount_minor = 0;
  int64_t captured_minor = 0;
  int64_t refunded_minor = 0;
  std::string payment_method_token;
  std::string gateway_intent_id;
  std::string decline_code;
  // For a declined or failed payment: the error the caller got, replayed.
  std::string failure_body;
};

enum class Operation { kAuthorize, kCapture, kVoid, kRefund, kReconcile };

struct RecordedRefund {
  std::string refund_id;
  int64_t amount_minor = 0;
};

class PaymentStore {
 public:
  virtual ~PaymentStore() = default;
  // Inserts `payment` unless its idempotency key exists; returns the stored one.
  virtual absl::StatusOr<Payment> CreateOrGet(const Payment& payment) = 0;
  virtual absl::StatusOr<Payment> Get(const std::string& payment_id) = 0;
  virtual absl::StatusOr<Payment> GetByKey(const std::string& idempotency_key) = 0;
  virtual absl::Status Update(const Payment& payment) = 0;
  // Returns the attempt id.
  virtual absl::StatusOr<int64_t> BeginAttempt(const std::string& payment_id, Operation op,
                                               const std::string& gateway_key, int try_number) = 0;
  virtual absl::Status FinishAttempt(int64_t attempt_id, int http_status,
                                     const std::string& outcome, const std::string& detail) = 0;
  // A refund already made with this key, if any.
  virtual absl::StatusOr<std::optional<RecordedRefund>> FindRefund(
      const std::string& idempotency_key) = 0;
  // Records the refund and the payment's new refunded total in one transaction.
  virtual absl::Status RecordRefund(const Payment& payment, const std::string& refund_id,
                                    const std::string& idempotency_key, int64_t amount_minor,
                                    const std::string& gateway_refund_id) = 0;
};

}  // namespace shop::payments

#endif  // SHOP_SERVICES_PG_ADAPTER_PAYMENT_STORE_H_
