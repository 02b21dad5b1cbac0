#include "services/pg-adapter/payments.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "core/status.h"
#include "services/pg-adapter/fake_payment_store.h"

namespace shop::payments {
namespace {

using FakeStore = FakePaymentStore;

class ScriptedGateway final : public GatewayClient {
 public:
  GatewayResponse Send(const GatewayRequest& request, absl::Duration) override {
    requests.push_back(request);
    if (script.empty()) return GatewayResponse{0, "", "script exhausted", -1};
    GatewayResponse next = script.front();
    script.pop_front();
    return next;
  }
  void Answer(int status, std::string body) { script.push_back({status, std::move(body), "", -1}); }
  void FailTransport() { script.push_back({0, "", "Operation timed out", -1, false}); }
  void Refuse() { script.push_back({0, "", "Connection refused", -1, true}); }
  std::deque<GatewayResponse> script;
  std::vector<GatewayRequest> requests;
};

constexpr char kIntent[] = R"({"id":"pi_123","status":"requires_capture"})";

std::string Decline(const std::string& code, const std::string& decline_code) {
  return R"({"error":{"type":"card_error","code":")" + code + R"(","decline_code":")" +
         decline_code + R"(","message":"Your card was declined."}})";
}

class PaymentServiceTest : public ::testing::Test {
 protected:
  PaymentServiceTest() { options_.clock = &clock_; }
  // How long the service waited between tries (simulated: no real time).
  absl::Duration Slept() { return clock_.Now() - start_; }
  PaymentService Service() { return PaymentService(&store_, &gateway_, options_); }
  absl::StatusOr<Payment> Authorize(PaymentService& service, int64_t cents = 1234,
                                    const std::string& key = "ord_1:authorize") {
    return service.Authorize("ord_1", Money{"USD", cents / 100, int32_t(cents % 100) * 10'000'000},
                             "pm_card_visa", key, absl::Now() + absl::Seconds(30));
  }
  FakeStore store_;
  ScriptedGateway gateway_;
  // Starts at the real time: the tests' deadlines are absl::Now() + n.
  const absl::Time start_ = absl::Now();
  SimulatedClock clock_{start_};
  PaymentServiceOptions options_;
};

TEST_F(PaymentServiceTest, AuthorizeSendsMinorUnitsAndDerivedKey) {
  gateway_.Answer(200, kIntent);
  PaymentService service = Service();
  auto payment = Authorize(service);
  ASSERT_TRUE(payment.ok()) << payment.status();
  EXPECT_EQ(payment->state, PaymentState::kAuthorized);
  EXPECT_EQ(payment->gateway_intent_id, "pi_123");
  ASSERT_EQ(gateway_.requests.size(), 1u);
  const auto& form = gateway_.requests[0].form;
  EXPECT_EQ(form[0], (std::pair<std::string, std::string>{"amount", "1234"}));
  EXPECT_EQ(form[1], (std::pair<std::string, std::string>{"currency", "usd"}));
  // The gateway's own parameter names (Stripe's), whatever ours are.
  EXPECT_EQ(form[2], (std::pair<std::string, std::string>{"payment_method", "pm_card_visa"}));
  EXPECT_EQ(gateway_.requests[0].idempotency_key, "ord_1:authorize:authorize");
}

TEST_F(PaymentServiceTest, DeclinesMapToTypedReasons) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"card_declined", "insufficient_funds", "INSUFFICIENT_FUNDS"},
      {"card_declined", "generic_decline", "CARD_DECLINED"},
      {"expired_card", "", "EXPIRED_CARD"},
      {"incorrect_cvc", "", "INCORRECT_CVC"},
      {"processing_error", "", "PROCESSING_ERROR"},
  };
  for (const auto& [code, decline, reason] : cases) {
    std::string decline_code;
    absl::Status status = GatewayErrorToStatus(402, Decline(code, decline), "ord_1", &decline_code);
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << reason;
    EXPECT_EQ(ErrorReason(status), reason);
  }
}

TEST_F(PaymentServiceTest, UnknownPaymentMethodIsInvalidArgument) {
  std::string code;
  absl::Status status = GatewayErrorToStatus(
      400,
      R"({"error":{"type":"invalid_request_error","code":"resource_missing","param":"payment_method"}})",
      "ord_1", &code);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(status), "INVALID_PAYMENT_METHOD");
}

TEST_F(PaymentServiceTest, DeclineIsNotRetriedAndIsReplayed) {
  gateway_.Answer(402, Decline("card_declined", "insufficient_funds"));
  PaymentService service = Service();
  auto first = Authorize(service);
  EXPECT_EQ(ErrorReason(first.status()), "INSUFFICIENT_FUNDS");
  EXPECT_EQ(gateway_.requests.size(), 1u);
  auto again = Authorize(service);  // same key: same answer, no new gateway call
  EXPECT_EQ(ErrorReason(again.status()), "INSUFFICIENT_FUNDS");
  EXPECT_EQ(gateway_.requests.size(), 1u);
}

TEST_F(PaymentServiceTest, RetriesTransportErrorsAndServerErrorsThenSucceeds) {
  gateway_.FailTransport();
  gateway_.Answer(503, "");
  gateway_.Answer(200, kIntent);
  PaymentService service = Service();
  auto payment = Authorize(service);
  ASSERT_TRUE(payment.ok()) << payment.status();
  EXPECT_EQ(gateway_.requests.size(), 3u);
  // Every try reuses one Idempotency-Key, so the gateway charges once.
  EXPECT_EQ(gateway_.requests[0].idempotency_key, gateway_.requests[2].idempotency_key);
  EXPECT_EQ(store_.outcomes, (std::vector<std::string>{"ERROR", "ERROR", "SUCCEEDED"}));
  EXPECT_GT(Slept(), absl::ZeroDuration());
}

TEST_F(PaymentServiceTest, RateLimitIsRetriedNoSoonerThanRetryAfter) {
  gateway_.script.push_back({429,
                             R"({"error":{"type":"invalid_request_error","code":"rate_limit"}})",
                             "", /*retry_after_seconds=*/3, false});
  gateway_.Answer(200, kIntent);
  PaymentService service = Service();
  ASSERT_TRUE(Authorize(service).ok());
  EXPECT_GE(Slept(), absl::Seconds(3));
  EXPECT_EQ(gateway_.requests.size(), 2u);
}

TEST_F(PaymentServiceTest, OtherClientErrorsAreNotRetried) {
  gateway_.Answer(400, R"({"error":{"type":"invalid_request_error","code":"parameter_missing"}})");
  PaymentService service = Service();
  auto payment = Authorize(service);
  EXPECT_EQ(payment.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(gateway_.requests.size(), 1u);
}

TEST_F(PaymentServiceTest, ExhaustedRetriesAreUnavailable) {
  for (int i = 0; i < 3; ++i) gateway_.FailTransport();
  PaymentService service = Service();
  auto payment = Authorize(service);
  EXPECT_EQ(payment.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorReason(payment.status()), "PAYMENT_GATEWAY_UNAVAILABLE");
  EXPECT_EQ(gateway_.requests.size(), 3u);
}

TEST_F(PaymentServiceTest, KeyReuseWithOtherAmountIsRefused) {
  gateway_.Answer(200, kIntent);
  PaymentService service = Service();
  ASSERT_TRUE(Authorize(service, 1234).ok());
  auto other = Authorize(service, 999);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(other.status()), "IDEMPOTENCY_KEY_REUSED");
}

TEST_F(PaymentServiceTest, BadInputNeverReachesTheGateway) {
  PaymentService service = Service();
  auto payment = service.Authorize("", Money{"USD", 0, 5'000'000}, "4242424242424242", "",
                                   absl::Now() + absl::Seconds(5));
  EXPECT_EQ(payment.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(gateway_.requests.empty());
  EXPECT_TRUE(store_.payments.empty());
}

TEST_F(PaymentServiceTest, CaptureThenRefundInParts) {
  gateway_.Answer(200, kIntent);
  gateway_.Answer(200, R"({"id":"pi_123","status":"succeeded"})");
  gateway_.Answer(200, R"({"id":"re_1","status":"succeeded"})");
  PaymentService service = Service();
  auto payment = Authorize(service, 1000);
  ASSERT_TRUE(payment.ok());
  auto captured = service.Capture(payment->payment_id, "ord_1", absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(captured.ok()) << captured.status();
  EXPECT_EQ(captured->captured_minor, 1000);
  auto refund = service.Refund(payment->payment_id, Money{"USD", 4, 0}, "ord_1:refund:1",
                               absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(refund.ok()) << refund.status();
  EXPECT_EQ(refund->payment.state, PaymentState::kPartiallyRefunded);
  EXPECT_EQ(refund->payment.refunded_minor, 400);
  auto too_much = service.Refund(payment->payment_id, Money{"USD", 7, 0}, "ord_1:refund:2",
                                 absl::Now() + absl::Seconds(5));
  EXPECT_EQ(too_much.status().code(), absl::StatusCode::kInvalidArgument);
  auto replay = service.Refund(payment->payment_id, Money{"USD", 4, 0}, "ord_1:refund:1",
                               absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->refund_id, refund->refund_id);
  EXPECT_EQ(gateway_.requests.size(), 3u);
}

TEST_F(PaymentServiceTest, VoidOfACapturedPaymentAsksForARefund) {
  PaymentService service = Service();
  store_.payments["pay_x"] = Payment{"pay_x", "ord_1", "k", PaymentState::kCaptured, "USD", 100};
  auto voided = service.Void("pay_x", "", "ord_1", absl::Now() + absl::Seconds(5));
  EXPECT_EQ(voided.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(voided.status()), "PAYMENT_CAPTURED");
}

TEST_F(PaymentServiceTest, VoidOfADeclinedPaymentIsANoOp) {
  PaymentService service = Service();
  store_.payments["pay_x"] = Payment{"pay_x", "ord_1", "k", PaymentState::kDeclined, "USD", 100};
  auto voided = service.Void("", "k", "ord_1", absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(voided.ok()) << voided.status();
  EXPECT_EQ(voided->state, PaymentState::kDeclined);
  EXPECT_TRUE(gateway_.requests.empty());
}

TEST_F(PaymentServiceTest, VoidByKeyResolvesAnUnknownOutcomeThenVoids) {
  // The authorization's answer was lost: the gateway did authorize.
  for (int i = 0; i < 3; ++i) gateway_.FailTransport();
  PaymentService service = Service();
  EXPECT_EQ(Authorize(service).status().code(), absl::StatusCode::kUnavailable);
  gateway_.Answer(200, kIntent);                                   // replayed authorization
  gateway_.Answer(200, R"({"id":"pi_123","status":"canceled"})");  // the void
  auto voided = service.Void("", "ord_1:authorize", "ord_1", absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(voided.ok()) << voided.status();
  EXPECT_EQ(voided->state, PaymentState::kVoided);
  // Same Idempotency-Key on the replay: the gateway cannot charge twice.
  EXPECT_EQ(gateway_.requests[3].idempotency_key, gateway_.requests[0].idempotency_key);
  EXPECT_EQ(gateway_.requests[4].path, "/v1/payment_intents/pi_123/cancel");
}

TEST_F(PaymentServiceTest, AGatewayThatWasNeverReachedHoldsNothing) {
  for (int i = 0; i < 3; ++i) gateway_.Refuse();
  PaymentService service = Service();
  EXPECT_EQ(Authorize(service).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_.payments.begin()->second.state, PaymentState::kFailed);
  // Nothing to resolve: the void asks the gateway nothing.
  auto voided = service.Void("", "ord_1:authorize", "ord_1", absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(voided.ok()) << voided.status();
  EXPECT_EQ(gateway_.requests.size(), 3u);
}

TEST_F(PaymentServiceTest, VoidOfAnIntentCapturedBehindOurBackAsksForARefund) {
  // Our record says AUTHORIZED; the gateway captured it (our write was lost).
  gateway_.Answer(200, kIntent);
  PaymentService service = Service();
  auto payment = Authorize(service, 1000);
  ASSERT_TRUE(payment.ok());
  gateway_.Answer(
      400,
      R"({"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state"}})");
  gateway_.Answer(200, R"({"id":"pi_123","status":"succeeded","amount_received":1000})");
  auto voided = service.Void(payment->payment_id, "", "ord_1", absl::Now() + absl::Seconds(5));
  EXPECT_EQ(ErrorReason(voided.status()), "PAYMENT_CAPTURED");
  EXPECT_EQ(store_.payments[payment->payment_id].state, PaymentState::kCaptured);
  EXPECT_EQ(store_.payments[payment->payment_id].captured_minor, 1000);
  EXPECT_EQ(gateway_.requests.back().method, "GET");
}

TEST_F(PaymentServiceTest, AnOpenCircuitFailsFastWithoutCallingTheGateway) {
  CircuitBreaker breaker({2, absl::Seconds(60)});
  for (int i = 0; i < 3; ++i) gateway_.Refuse();
  PaymentService service(&store_, &gateway_, options_, &breaker);
  auto first = Authorize(service, 1000, "k1");
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(gateway_.requests.size(), 2u);  // the second failure opened the circuit
  auto second = Authorize(service, 1000, "k2");
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("circuit open"), absl::string_view::npos);
  EXPECT_EQ(gateway_.requests.size(), 2u);
  EXPECT_EQ(store_.payments.size(), 2u);
  for (auto& [id, p] : store_.payments) {
    if (p.idempotency_key == "k2") EXPECT_EQ(p.state, PaymentState::kFailed);  // nothing sent
  }
}

TEST_F(PaymentServiceTest, VoidByUnknownKeyIsNotFound) {
  PaymentService service = Service();
  auto voided = service.Void("", "ord_9:authorize", "ord_9", absl::Now() + absl::Seconds(5));
  EXPECT_EQ(voided.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace shop::payments
