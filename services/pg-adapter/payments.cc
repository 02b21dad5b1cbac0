#include "services/pg-adapter/payments.h"

#include <nlohmann/json.hpp>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/span.h"
#include "core/status.h"
#include "core/validation.h"

namespace shop::payments {
namespace {

const char* OperationName(Operation op) {
  switch (op) {
    case Operation::kAuthorize:
      return "authorize";
    case Operation::kCapture:
      return "capture";
    case Operation::kVoid:
      return "void";
    case Operation::kRefund:
      return "refund";
    case Operation::kReconcile:
      return "reconcile";
  }
  return "unknown";
}

bool Retryable(const GatewayResponse& r) {
  return r.http_status == 0 || r.http_status == 429 || r.http_status >= 500;
}

absl::Status Unavailable(const std::string& detail) {
  return ErrorWithReason(absl::StatusCode::kUnavailable,
                         absl::StrCat("payment service unavailable: ", detail),
                         shop::v1::PAYMENT_GATEWAY_UNAVAILABLE);
}

nlohmann::json ParseJson(const std::string& body) {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

std::string JsonString(const nlohmann::json& json, const char* key) {
  if (json.is_object() && json.contains(key) && json[key].is_string()) {
    return json[key].get<std::string>();
  }
  return "";
}

absl::Status ValidateKey(const std::string& key) {
  FieldViolations violations;
  RequireId("idempotency_key", key, violations);
  return violations.ToStatus();
}

absl::Status StateError(const Payment& payment, const char* wanted) {
  return ErrorWithReason(
      absl::StatusCode::kFailedPrecondition,
      absl::StrCat("payment ", payment.payment_id, " is ", PaymentStateName(payment.state), "; ",
                   wanted),
      shop::v1::PAYMENT_STATE,
      {{"payment_id", payment.payment_id}, {"state", PaymentStateName(payment.state)}});
}

}  // namespace

const char* PaymentStateName(PaymentState state) {
  switch (state) {
    case PaymentState::kPending:
      return "PENDING";
    case PaymentState::kAuthorized:
      return "AUTHORIZED";
    case PaymentState::kCaptured:
      return "CAPTURED";
    case PaymentState::kVoided:
      return "VOIDED";
    case PaymentState::kRefunded:
      return "REFUNDED";
    case PaymentState::kPartiallyRefunded:
      return "PARTIALLY_REFUNDED";
    case PaymentState::kDeclined:
      return "DECLINED";
    case PaymentState::kFailed:
      return "FAILED";
    case PaymentState::kUnknown:
      return "UNKNOWN";
  }
  return "PENDING";
}

std::optional<PaymentState> ParsePaymentState(absl::string_view name) {
  for (PaymentState s :
       {PaymentState::kPending, PaymentState::kAuthorized, PaymentState::kCaptured,
        PaymentState::kVoided, PaymentState::kRefunded, PaymentState::kPartiallyRefunded,
        PaymentState::kDeclined, PaymentState::kFailed, PaymentState::kUnknown}) {
    if (name == PaymentStateName(s)) return s;
  }
  return std::nullopt;
}

absl::Status GatewayErrorToStatus(int http_status, const std::string& body,
                                  const std::string& order_id, std::string* decline_code) {
  nlohmann::json json = ParseJson(body);
  nlohmann::json error =
      json.is_object() && json.contains("error") ? json["error"] : nlohmann::json();
  std::string type = JsonString(error, "type");
  std::string code = JsonString(error, "code");
  std::string decline = JsonString(error, "decline_code");
  std::string message = JsonString(error, "message");
  *decline_code = decline.empty() ? code : decline;
  std::map<std::string, std::string> metadata = {{"order_id", order_id},
                                                 {"gateway_code", *decline_code}};
  if (type == "card_error") {
    shop::v1::ErrorReason reason = shop::v1::CARD_DECLINED;
    if (decline == "insufficient_funds") {
      reason = shop::v1::INSUFFICIENT_FUNDS;
    } else if (code == "expired_card" || decline == "expired_card") {
      reason = shop::v1::EXPIRED_CARD;
    } else if (code == "incorrect_cvc" || decline == "incorrect_cvc") {
      reason = shop::v1::INCORRECT_CVC;
    } else if (code == "processing_error" || decline == "processing_error") {
      reason = shop::v1::PROCESSING_ERROR;
    } else if (code == "incorrect_number") {
      reason = shop::v1::INVALID_PAYMENT_METHOD;
    }
    if (reason == shop::v1::INVALID_PAYMENT_METHOD) {
      return ErrorWithReason(absl::StatusCode::kInvalidArgument,
                             "invalid payment method: the card number is incorrect", reason,
                             metadata);
    }
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition,
        absl::StrCat("payment declined: ", message.empty() ? *decline_code : message), reason,
        metadata);
  }
  if (http_status == 400 && JsonString(error, "param") == "payment_method") {
    return ErrorWithReason(absl::StatusCode::kInvalidArgument,
                           "invalid payment method: the gateway does not know this token",
                           shop::v1::INVALID_PAYMENT_METHOD, metadata);
  }
  // Any other 4xx is our bug or a misconfiguration, not the customer's.
  return ErrorWithReason(absl::StatusCode::kInternal,
                         absl::StrCat("payment gateway rejected the request (HTTP ", http_status,
                                      "): ", message.empty() ? code : message),
                         shop::v1::PAYMENT_GATEWAY_REJECTED, metadata);
}

PaymentService::PaymentService(PaymentStore* store, GatewayClient* gateway,
                               PaymentServiceOptions options, CircuitBreaker* breaker)
    : store_(store), gateway_(gateway), options_(options), breaker_(breaker) {}

absl::StatusOr<PaymentService::CallResult> PaymentService::Call(const Payment& payment,
                                                                Operation op,
                                                                const GatewayRequest& request,
                                                                absl::Time deadline,
                                                                bool* nothing_sent) {
  CallResult result;
  if (nothing_sent != nullptr) *nothing_sent = true;
  absl::Duration backoff = options_.initial_backoff;
  for (int attempt = 1; attempt <= options_.max_tries; ++attempt) {
    absl::Duration remaining = deadline - options_.clock->Now();
    if (remaining <= absl::Milliseconds(50)) {
      return Unavailable("deadline exceeded before the gateway answered");
    }
    if (breaker_ != nullptr && !breaker_->Allow()) {
      // Fail fast: the gateway has been failing; nothing is sent.
      return Unavailable("the gateway is failing (circuit open); retry later");
    }
    SHOP_ASSIGN_OR_RETURN(
        int64_t attempt_id,
        store_->BeginAttempt(payment.payment_id, op, request.idempotency_key, attempt));
    {
      // One span per HTTPS attempt, with OpenTelemetry's HTTP client names.
      Span span(absl::StrCat("gateway ", OperationName(op)));
      span.SetAttribute("http.request.method", "POST");
      span.SetAttribute("url.path", request.path);
      span.SetAttribute("http.resend_count", attempt - 1);
      result.response = gateway_->Send(request, std::min(remaining, options_.per_try_timeout));
      span.SetAttribute("http.response.status_code", result.response.http_status);
      if (!result.response.transport_error.empty()) {
        span.SetAttribute("error.type", result.response.transport_error.substr(0, 200));
      }
      if (result.response.http_status < 200 || result.response.http_status >= 300) {
        span.SetStatus(absl::UnavailableError(
            result.response.http_status == 0
                ? result.response.transport_error
                : absl::StrCat("gateway answered HTTP ", result.response.http_status)));
      }
    }
    if (breaker_ != nullptr) {
      Retryable(result.response) ? breaker_->RecordFailure() : breaker_->RecordSuccess();
    }
    result.tries = attempt;
    if (nothing_sent != nullptr && !result.response.not_sent) *nothing_sent = false;
    const GatewayResponse& r = result.response;
    std::string outcome = r.http_status >= 200 && r.http_status < 300 ? "SUCCEEDED"
                          : r.http_status == 402                      ? "DECLINED"
                          : Retryable(r)                              ? "ERROR"
                                                                      : "REJECTED";
    SHOP_RETURN_IF_ERROR(store_->FinishAttempt(attempt_id, r.http_status, outcome,
                                               r.transport_error.empty() ? "" : r.transport_error));
    if (!Retryable(r)) return result;
    log::Warn("gateway call failed", {{"operation", OperationName(op)},
                                      {"try", attempt},
                                      {"http_status", r.http_status},
                                      {"error", r.transport_error}});
    if (attempt == options_.max_tries) break;
    // Full jitter keeps many adapters from retrying in lockstep...
    thread_local absl::BitGen random;
    absl::Duration wait = absl::Milliseconds(absl::Uniform<int64_t>(
        random, 1, std::max<int64_t>(2, absl::ToInt64Milliseconds(backoff))));
    // ...but never sooner than the gateway asked.
    if (r.http_status == 429 && r.retry_after_seconds >= 0) {
      wait = std::max(wait, absl::Seconds(r.retry_after_seconds));
    }
    if (options_.clock->Now() + wait >= deadline) break;
    options_.clock->SleepFor(wait);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  const GatewayResponse& r = result.response;
  return Unavailable(r.http_status == 0 ? r.transport_error
                                        : absl::StrCat("gateway answered HTTP ", r.http_status));
}

absl::Mutex& PaymentService::LockFor(const std::string& authorization_key) {
  return locks_[std::hash<std::string>{}(authorization_key) % 64];
}

absl::StatusOr<Payment> PaymentService::Authorize(const std::string& order_id, const Money& amount,
                                                  const std::string& payment_method_token,
                                                  const std::string& idempotency_key,
                                                  absl::Time deadline) {
  absl::MutexLock lock(&LockFor(idempotency_key));
  return AuthorizeLocked(order_id, amount, payment_method_token, idempotency_key, deadline);
}

absl::StatusOr<Payment> PaymentService::AuthorizeLocked(const std::string& order_id,
                                                        const Money& amount,
                                                        const std::string& payment_method_token,
                                                        const std::string& idempotency_key,
                                                        absl::Time deadline) {
  FieldViolations violations;
  RequireId("order_id", order_id, violations);
  if (!IsValidId(payment_method_token) || !absl::StartsWith(payment_method_token, "pm_") ||
      HasCardNumberLikeRun(payment_method_token)) {
    violations.Add("payment_method_token", "must be a payment-method token (pm_...)");
  }
  RequireId("idempotency_key", idempotency_key, violations);
  absl::StatusOr<int64_t> minor = ToMinorUnits(amount);
  if (!minor.ok()) {
    violations.Add("amount", std::string(minor.status().message()));
  } else if (*minor <= 0 || *minor > 99'999'999) {
    violations.Add("amount", "must be positive and at most 999999.99");
  }
  SHOP_RETURN_IF_ERROR(violations.ToStatus());

  Payment wanted;
  wanted.payment_id = NewId("pay");
  wanted.order_id = order_id;
  wanted.idempotency_key = idempotency_key;
  wanted.currency = amount.currency;
  wanted.amount_minor = *minor;
  wanted.payment_method_token = payment_method_token;
  SHOP_ASSIGN_OR_RETURN(Payment payment, store_->CreateOrGet(wanted));
  if (payment.order_id != order_id || payment.amount_minor != *minor ||
      payment.currency != amount.currency || payment.payment_method_token != payment_method_token) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                           "idempotency key was used for a different authorization",
                           shop::v1::IDEMPOTENCY_KEY_REUSED, {{"payment_id", payment.payment_id}});
  }
  switch (payment.state) {
    case PaymentState::kPending:
    case PaymentState::kFailed:
    case PaymentState::kUnknown:
      break;  // (re)try at the gateway under the same Idempotency-Key
    case PaymentState::kVoided:
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "this authorization was voided",
                             shop::v1::PAYMENT_VOIDED,
                             {{"payment_id", payment.payment_id}, {"order_id", order_id}});
    case PaymentState::kDeclined: {
      std::string code;
      return GatewayErrorToStatus(402, payment.failure_body, order_id, &code);
    }
    default:
      return payment;  // already authorized (or beyond): replay
  }

  GatewayRequest request;
  request.path = "/v1/payment_intents";
  request.idempotency_key = absl::StrCat(idempotency_key, ":authorize");
  request.form = {{"amount", std::to_string(*minor)},
                  {"currency", absl::AsciiStrToLower(amount.currency)},
                  {"payment_method", payment_method_token},
                  {"capture_method", "manual"},
                  {"confirm", "true"},
                  {"metadata[order_id]", order_id}};
  bool nothing_sent = true;
  absl::StatusOr<CallResult> call =
      Call(payment, Operation::kAuthorize, request, deadline, &nothing_sent);
  if (!call.ok()) {
    payment.state = nothing_sent ? PaymentState::kFailed : PaymentState::kUnknown;
    SHOP_RETURN_IF_ERROR(store_->Update(payment));
    return call.status();
  }
  const GatewayResponse& r = call->response;
  if (r.http_status == 200) {
    nlohmann::json intent = ParseJson(r.body);
    payment.gateway_intent_id = JsonString(intent, "id");
    if (payment.gateway_intent_id.empty() || JsonString(intent, "status") != "requires_capture") {
      payment.state = PaymentState::kFailed;
      SHOP_RETURN_IF_ERROR(store_->Update(payment));
      return absl::InternalError("payment gateway answered an authorization without an intent");
    }
    payment.state = PaymentState::kAuthorized;
    SHOP_RETURN_IF_ERROR(store_->Update(payment));
    return payment;
  }
  absl::Status error = GatewayErrorToStatus(r.http_status, r.body, order_id, &payment.decline_code);
  payment.state = r.http_status == 402 ? PaymentState::kDeclined : PaymentState::kFailed;
  payment.failure_body = r.body;  // the gateway's error object, to replay the same answer
  SHOP_RETURN_IF_ERROR(store_->Update(payment));
  return error;
}

absl::Status PaymentService::Reconcile(Payment& payment, absl::Time deadline) {
  GatewayRequest request;
  request.method = "GET";
  request.path = absl::StrCat("/v1/payment_intents/", payment.gateway_intent_id);
  SHOP_ASSIGN_OR_RETURN(CallResult call, Call(payment, Operation::kReconcile, request, deadline));
  if (call.response.http_status != 200) {
    std::string code;
    return GatewayErrorToStatus(call.response.http_status, call.response.body, payment.order_id,
                                &code);
  }
  nlohmann::json intent = ParseJson(call.response.body);
  const std::string status = JsonString(intent, "status");
  if (status == "succeeded") {
    payment.state = payment.refunded_minor > 0 ? payment.state : PaymentState::kCaptured;
    if (intent.contains("amount_received") && intent["amount_received"].is_number_integer()) {
      payment.captured_minor = intent["amount_received"].get<int64_t>();
    }
  } else if (status == "canceled") {
    payment.state = PaymentState::kVoided;
  } else if (status == "requires_capture") {
    payment.state = PaymentState::kAuthorized;
  } else {
    return absl::InternalError(absl::StrCat("gateway intent in unexpected status ", status));
  }
  log::Warn("payment reconciled with the gateway",
            {{"payment_id", payment.payment_id}, {"state", PaymentStateName(payment.state)}});
  return store_->Update(payment);
}

absl::StatusOr<Payment> PaymentService::Capture(const std::string& payment_id,
                                                const std::string& key, absl::Time deadline) {
  SHOP_RETURN_IF_ERROR(ValidateKey(key));
  SHOP_ASSIGN_OR_RETURN(Payment unlocked, store_->Get(payment_id));
  absl::MutexLock lock(&LockFor(unlocked.idempotency_key));
  SHOP_ASSIGN_OR_RETURN(Payment payment, store_->Get(payment_id));  // as of now
  if (payment.state == PaymentState::kCaptured || payment.state == PaymentState::kRefunded ||
      payment.state == PaymentState::kPartiallyRefunded) {
    return payment;
  }
  if (payment.state != PaymentState::kAuthorized) return StateError(payment, "cannot capture");
  GatewayRequest request;
  request.path = absl::StrCat("/v1/payment_intents/", payment.gateway_intent_id, "/capture");
  request.idempotency_key = absl::StrCat(key, ":capture");
  SHOP_ASSIGN_OR_RETURN(CallResult call, Call(payment, Operation::kCapture, request, deadline));
  if (call.response.http_status == 400) {
    // Perhaps captured (or voided) by a call whose answer we lost.
    SHOP_RETURN_IF_ERROR(Reconcile(payment, deadline));
    if (payment.state == PaymentState::kCaptured) return payment;
    return StateError(payment, "cannot capture");
  }
  if (call.response.http_status != 200) {
    std::string code;
    return GatewayErrorToStatus(call.response.http_status, call.response.body, payment.order_id,
                                &code);
  }
  payment.state = PaymentState::kCaptured;
  payment.captured_minor = payment.amount_minor;
  SHOP_RETURN_IF_ERROR(store_->Update(payment));
  return payment;
}

absl::StatusOr<Payment> PaymentService::Void(const std::string& payment_id,
                                             const std::string& authorization_key,
                                             const std::string& key, absl::Time deadline) {
  SHOP_RETURN_IF_ERROR(ValidateKey(key));
  if (payment_id.empty() == authorization_key.empty()) {
    FieldViolations violations;
    violations.Add("payment_id", "give exactly one of payment_id and authorization_key");
    return violations.ToStatus();
  }
  absl::StatusOr<Payment> found =
      payment_id.empty() ? store_->GetByKey(authorization_key) : store_->Get(payment_id);
  if (!found.ok()) return found.status();
  absl::MutexLock lock(&LockFor(found->idempotency_key));
  SHOP_ASSIGN_OR_RETURN(Payment payment, store_->Get(found->payment_id));  // as of now
  if (payment.state == PaymentState::kPending || payment.state == PaymentState::kUnknown) {
    // The gateway's answer to the authorization was never seen (crash or
    // network failure). Replaying it under the same Idempotency-Key tells
    // what happened without charging twice; an authorization found is then
    // voided below.
    absl::StatusOr<Payment> resolved =
        AuthorizeLocked(payment.order_id, *FromMinorUnits(payment.currency, payment.amount_minor),
                        payment.payment_method_token, payment.idempotency_key, deadline);
    if (resolved.ok()) {
      payment = *resolved;
    } else if (resolved.status().code() == absl::StatusCode::kUnavailable) {
      return resolved.status();
    } else {
      SHOP_ASSIGN_OR_RETURN(payment, store_->Get(payment.payment_id));
    }
  }
  switch (payment.state) {
    case PaymentState::kAuthorized:
      break;
    case PaymentState::kCaptured:
    case PaymentState::kRefunded:
    case PaymentState::kPartiallyRefunded:
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                             absl::StrCat("payment ", payment.payment_id, " is ",
                                          PaymentStateName(payment.state), "; refund it instead"),
                             shop::v1::PAYMENT_CAPTURED, {{"payment_id", payment.payment_id}});
    default:
      return payment;  // nothing is held: declined, failed or already voided
  }
  GatewayRequest request;
  request.path = absl::StrCat("/v1/payment_intents/", payment.gateway_intent_id, "/cancel");
  request.idempotency_key = absl::StrCat(key, ":void");
  SHOP_ASSIGN_OR_RETURN(CallResult call, Call(payment, Operation::kVoid, request, deadline));
  if (call.response.http_status == 400) {
    // Perhaps captured (or voided) by a call whose answer we lost.
    SHOP_RETURN_IF_ERROR(Reconcile(payment, deadline));
    if (payment.state == PaymentState::kVoided) return payment;
    if (payment.state == PaymentState::kCaptured) {
      return ErrorWithReason(
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat("payment ", payment.payment_id, " is CAPTURED; refund it instead"),
          shop::v1::PAYMENT_CAPTURED, {{"payment_id", payment.payment_id}});
    }
  }
  if (call.response.http_status != 200) {
    std::string code;
    return GatewayErrorToStatus(call.response.http_status, call.response.body, payment.order_id,
                                &code);
  }
  payment.state = PaymentState::kVoided;
  SHOP_RETURN_IF_ERROR(store_->Update(payment));
  return payment;
}

absl::StatusOr<RefundResult> PaymentService::Refund(const std::string& payment_id,
                                                    const std::optional<Money>& amount,
                                                    const std::string& key, absl::Time deadline) {
  SHOP_RETURN_IF_ERROR(ValidateKey(key));
  SHOP_ASSIGN_OR_RETURN(Payment unlocked, store_->Get(payment_id));
  absl::MutexLock lock(&LockFor(unlocked.idempotency_key));
  SHOP_ASSIGN_OR_RETURN(Payment payment, store_->Get(payment_id));  // as of now
  SHOP_ASSIGN_OR_RETURN(auto previous, store_->FindRefund(key));
  if (previous.has_value()) return RefundResult{payment, previous->refund_id};
  if (payment.state != PaymentState::kCaptured &&
      payment.state != PaymentState::kPartiallyRefunded) {
    return StateError(payment, "only captured payments can be refunded");
  }
  int64_t refundable = payment.captured_minor - payment.refunded_minor;
  int64_t refund_minor = refundable;
  if (amount.has_value()) {
    FieldViolations violations;
    absl::StatusOr<int64_t> minor = ToMinorUnits(*amount);
    if (!minor.ok() || amount->currency != payment.currency) {
      violations.Add("amount", absl::StrCat("must be in ", payment.currency, " minor units"));
    } else if (*minor <= 0 || *minor > refundable) {
      violations.Add("amount", absl::StrCat("must be between 0.01 and the refundable ", refundable,
                                            " minor units"));
    } else {
      refund_minor = *minor;
    }
    SHOP_RETURN_IF_ERROR(violations.ToStatus());
  }
  GatewayRequest request;
  request.path = "/v1/refunds";
  request.idempotency_key = absl::StrCat(key, ":refund");
  request.form = {{"payment_intent", payment.gateway_intent_id},
                  {"amount", std::to_string(refund_minor)}};
  SHOP_ASSIGN_OR_RETURN(CallResult call, Call(payment, Operation::kRefund, request, deadline));
  if (call.response.http_status != 200) {
    std::string code;
    return GatewayErrorToStatus(call.response.http_status, call.response.body, payment.order_id,
                                &code);
  }
  std::string gateway_refund_id = JsonString(ParseJson(call.response.body), "id");
  // The store adds the refund up and sets the state (concurrent refunds).
  SHOP_RETURN_IF_ERROR(
      store_->RecordRefund(payment, NewId("rfd"), key, refund_minor, gateway_refund_id));
  SHOP_ASSIGN_OR_RETURN(auto recorded, store_->FindRefund(key));
  SHOP_ASSIGN_OR_RETURN(payment, store_->Get(payment_id));
  return RefundResult{payment, recorded.has_value() ? recorded->refund_id : ""};
}

}  // namespace shop::payments
