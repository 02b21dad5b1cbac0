#include "tools/fakepay/ledger.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace fakepay {
namespace {

using Json = nlohmann::json;

// 2025-06-15T00:00:00Z: cards expiring 05/2025 are expired, 06/2025 are not.
constexpr int64_t kNow = 1749945600;

Json Body(const Result& r) { return Json::parse(r.body); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void AppendToFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << text;
}

class ProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    // Parameterized test names contain '/'.
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    journal_path_ = ::testing::TempDir() + "/fakepay_" + name + ".jsonl";
    std::remove(journal_path_.c_str());
    Reopen();
  }

  void TearDown() override {
    processor_.reset();
    std::remove(journal_path_.c_str());
  }

  ProcessorOptions Options() const {
    ProcessorOptions options;
    options.journal_path = journal_path_;
    options.fingerprint_secret = "sk_test_unit";
    options.now_seconds = [] { return kNow; };
    options.on_event = [events = events_](const Event& e) { events->push_back(e); };
    return options;
  }

  void Reopen() {
    processor_.reset();
    warnings_.clear();
    auto opened = Processor::Open(Options(), &warnings_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    processor_ = *std::move(opened);
  }

  static Params CardParams(const std::string& number) {
    return {{"type", "card"},
            {"card[number]", number},
            {"card[exp_month]", "12"},
            {"card[exp_year]", "2030"},
            {"card[cvc]", "123"}};
  }

  std::string Tokenize(const std::string& number) {
    Result r = processor_->CreatePaymentMethod(CardParams(number), "");
    EXPECT_EQ(r.http_status, 200) << r.body;
    return Body(r)["id"].get<std::string>();
  }

  static Params IntentParams(const std::string& pm, int64_t amount = 1000,
                             const std::string& capture = "manual",
                             const std::string& order_id = "order-1") {
    return {
        {"amount", std::to_string(amount)}, {"currency", "usd"}, {"payment_method", pm},
        {"capture_method", capture},        {"confirm", "true"}, {"metadata[order_id]", order_id}};
  }

  // Creates an authorized (requires_capture) intent and returns its id.
  std::string Authorize(int64_t amount = 1000, const std::string& order_id = "order-1") {
    Result r = processor_->CreatePaymentIntent(
        IntentParams("pm_card_visa", amount, "manual", order_id), "");
    EXPECT_EQ(r.http_status, 200) << r.body;
    return Body(r)["id"].get<std::string>();
  }

  std::string CapturedIntent(int64_t amount = 1000) {
    std::string id = Authorize(amount);
    Result r = processor_->CapturePaymentIntent(id, {}, "");
    EXPECT_EQ(r.http_status, 200) << r.body;
    return id;
  }

  Json Ledger(const std::string& order_id = "") { return Body(processor_->GetLedger(order_id)); }

  std::string journal_path_;
  std::vector<std::string> warnings_;
  // Every webhook event emitted, across Reopen().
  std::shared_ptr<std::vector<Event>> events_ = std::make_shared<std::vector<Event>>();
  std::unique_ptr<Processor> processor_;
};

void ExpectError(const Result& r, int status, const std::string& type, const std::string& code,
                 const std::string& param = "") {
  EXPECT_EQ(r.http_status, status) << r.body;
  Json error = Body(r)["error"];
  EXPECT_EQ(error["type"], type) << r.body;
  if (code.empty()) {
    EXPECT_FALSE(error.contains("code")) << r.body;
  } else {
    EXPECT_EQ(error["code"], code) << r.body;
  }
  if (!param.empty()) {
    EXPECT_EQ(error["param"], param) << r.body;
  }
}

// --------------------------------------------------------------------------
// Tokenization
// --------------------------------------------------------------------------

TEST_F(ProcessorTest, TokenizesVisa) {
  Result r = processor_->CreatePaymentMethod(CardParams("4242424242424242"), "");
  ASSERT_EQ(r.http_status, 200) << r.body;
  Json pm = Body(r);
  EXPECT_EQ(pm["object"], "payment_method");
  EXPECT_EQ(pm["type"], "card");
  EXPECT_EQ(pm["id"].get<std::string>().rfind("pm_", 0), 0u);
  EXPECT_EQ(pm["id"].get<std::string>().size(), 3u + 24u);
  EXPECT_EQ(pm["card"]["brand"], "visa");
  EXPECT_EQ(pm["card"]["last4"], "4242");
  EXPECT_EQ(pm["card"]["exp_month"], 12);
  EXPECT_EQ(pm["card"]["exp_year"], 2030);
}

TEST_F(ProcessorTest, DetectsOtherBrands) {
  Params p = CardParams("5555555555554444");
  EXPECT_EQ(Body(processor_->CreatePaymentMethod(p, ""))["card"]["brand"], "mastercard");
  p = CardParams("378282246310005");
  p["card[cvc]"] = "1234";
  EXPECT_EQ(Body(processor_->CreatePaymentMethod(p, ""))["card"]["brand"], "amex");
}

TEST_F(ProcessorTest, RejectsBadCards) {
  Params p = CardParams("4242424242424241");
  ExpectError(processor_->CreatePaymentMethod(p, ""), 402, "card_error", "incorrect_number",
              "number");

  p = CardParams("4242-4242-4242-4242");
  ExpectError(processor_->CreatePaymentMethod(p, ""), 402, "card_error", "invalid_number",
              "number");

  p = CardParams("4242424242424242");
  p["card[exp_month]"] = "5";
  p["card[exp_year]"] = "2025";
  ExpectError(processor_->CreatePaymentMethod(p, ""), 402, "card_error", "expired_card");

  p["card[exp_month]"] = "13";
  ExpectError(processor_->CreatePaymentMethod(p, ""), 402, "card_error", "invalid_expiry_month",
              "exp_month");

  p = CardParams("4242424242424242");
  p["card[exp_year]"] = "2999";
  ExpectError(processor_->CreatePaymentMethod(p, ""), 402, "card_error", "invalid_expiry_year",
              "exp_year");

  p = CardParams("4242424242424242");
  p["card[cvc]"] = "12";
  ExpectError(processor_->CreatePaymentMethod(p, ""), 402, "card_error", "invalid_cvc", "cvc");

  p = CardParams("4242424242424242");
  p["card[exp_month]"] = "ab";
  ExpectError(processor_->CreatePaymentMethod(p, ""), 400, "invalid_request_error",
              "parameter_invalid_integer", "card[exp_month]");

  p = CardParams("4242424242424242");
  p.erase("card[number]");
  ExpectError(processor_->CreatePaymentMethod(p, ""), 400, "invalid_request_error",
              "parameter_missing", "card[number]");

  p = CardParams("4242424242424242");
  p["type"] = "sepa_debit";
  ExpectError(processor_->CreatePaymentMethod(p, ""), 400, "invalid_request_error", "", "type");
}

TEST_F(ProcessorTest, CurrentMonthIsNotExpiredAndTwoDigitYearsWork) {
  Params p = CardParams("4242424242424242");
  p["card[exp_month]"] = "6";
  p["card[exp_year]"] = "25";
  Result r = processor_->CreatePaymentMethod(p, "");
  ASSERT_EQ(r.http_status, 200) << r.body;
  EXPECT_EQ(Body(r)["card"]["exp_year"], 2025);
}

TEST_F(ProcessorTest, UnknownLuhnValidNumberSucceeds) {
  std::string pm = Tokenize("4111111111111111");
  Result r = processor_->CreatePaymentIntent(IntentParams(pm), "");
  EXPECT_EQ(r.http_status, 200) << r.body;
}

TEST_F(ProcessorTest, CardNumbersNeverReachTheJournal) {
  const char* numbers[] = {"4242424242424242", "4000000000009995", "4000000000000002"};
  int n = 0;
  for (const char* number : numbers) {
    std::string key = "tok-" + std::to_string(n++);
    Result r = processor_->CreatePaymentMethod(CardParams(number), key);
    ASSERT_EQ(r.http_status, 200) << r.body;
    EXPECT_EQ(r.body.find(number), std::string::npos);
  }
  std::string journal = ReadFile(journal_path_);
  ASSERT_FALSE(journal.empty());
  for (const char* number : numbers) {
    EXPECT_EQ(journal.find(number), std::string::npos) << number;
    // Not even a long prefix of it.
    EXPECT_EQ(journal.find(std::string(number).substr(0, 12)), std::string::npos);
  }
  EXPECT_EQ(journal.find("\"123\""), std::string::npos) << "CVC leaked";
}

// --------------------------------------------------------------------------
// Card outcomes at confirmation
// --------------------------------------------------------------------------

struct OutcomeCase {
  const char* number;
  const char* magic_pm;
  const char* code;
  const char* decline_code;
};

class CardOutcomeTest : public ProcessorTest, public ::testing::WithParamInterface<OutcomeCase> {
 protected:
  void ExpectDecline(const std::string& pm) {
    const OutcomeCase& c = GetParam();
    Result r = processor_->CreatePaymentIntent(IntentParams(pm, 777), "");
    ASSERT_EQ(r.http_status, 402) << r.body;
    Json error = Body(r)["error"];
    EXPECT_EQ(error["type"], "card_error");
    EXPECT_EQ(error["code"], c.code);
    EXPECT_EQ(error["decline_code"], c.decline_code);
    EXPECT_FALSE(error["message"].get<std::string>().empty());
    Json pi = error["payment_intent"];
    EXPECT_EQ(pi["status"], "requires_payment_method");
    EXPECT_EQ(pi["amount"], 777);
    EXPECT_TRUE(pi["payment_method"].is_null());
    EXPECT_EQ(pi["last_payment_error"]["decline_code"], c.decline_code);
    EXPECT_EQ(pi["latest_charge"], error["charge"]);

    // The stored intent matches what the error embedded.
    Result get = processor_->GetPaymentIntent(pi["id"].get<std::string>());
    EXPECT_EQ(Body(get), pi);

    Json entries = Ledger()["entries"];
    ASSERT_FALSE(entries.empty());
    Json last = entries.back();
    EXPECT_EQ(last["type"], "decline");
    EXPECT_EQ(last["decline_code"], c.decline_code);
    EXPECT_EQ(last["amount"], 777);
    EXPECT_EQ(Ledger()["totals"]["authorized"], 0);
  }
};

TEST_P(CardOutcomeTest, TokenizedNumberDeclines) { ExpectDecline(Tokenize(GetParam().number)); }

TEST_P(CardOutcomeTest, MagicPaymentMethodDeclines) { ExpectDecline(GetParam().magic_pm); }

INSTANTIATE_TEST_SUITE_P(
    StripeTestCards, CardOutcomeTest,
    ::testing::Values(OutcomeCase{"4000000000009995",
                                  "pm_card_visa_chargeDeclinedInsufficientFunds", "card_declined",
                                  "insufficient_funds"},
                      OutcomeCase{"4000000000000002", "pm_card_chargeDeclined", "card_declined",
                                  "generic_decline"},
                      OutcomeCase{"4000000000000069", "pm_card_chargeDeclinedExpiredCard",
                                  "expired_card", "expired_card"},
                      OutcomeCase{"4000000000000127", "pm_card_chargeDeclinedIncorrectCvc",
                                  "incorrect_cvc", "incorrect_cvc"},
                      OutcomeCase{"4000000000000119", "pm_card_chargeDeclinedProcessingError",
                                  "processing_error", "processing_error"}),
    // Stable test names (".../insufficient_funds"), not the case's bytes.
    [](const ::testing::TestParamInfo<OutcomeCase>& info) {
      return std::string(info.param.decline_code);
    });

TEST_F(ProcessorTest, ManualSuccessRequiresCapture) {
  std::string pm = Tokenize("4242424242424242");
  Params p = IntentParams(pm, 1234);
  p["description"] = "order 1";
  Result r = processor_->CreatePaymentIntent(p, "");
  ASSERT_EQ(r.http_status, 200) << r.body;
  Json pi = Body(r);
  EXPECT_EQ(pi["object"], "payment_intent");
  EXPECT_EQ(pi["id"].get<std::string>().rfind("pi_", 0), 0u);
  EXPECT_EQ(pi["status"], "requires_capture");
  EXPECT_EQ(pi["amount"], 1234);
  EXPECT_EQ(pi["amount_capturable"], 1234);
  EXPECT_EQ(pi["amount_received"], 0);
  EXPECT_EQ(pi["currency"], "usd");
  EXPECT_EQ(pi["capture_method"], "manual");
  EXPECT_EQ(pi["payment_method"], pm);
  EXPECT_EQ(pi["metadata"]["order_id"], "order-1");
  EXPECT_EQ(pi["description"], "order 1");
  EXPECT_EQ(pi["created"], kNow);
  EXPECT_EQ(pi["latest_charge"].get<std::string>().rfind("ch_", 0), 0u);
  EXPECT_TRUE(pi["last_payment_error"].is_null());

  Json ledger = Ledger();
  ASSERT_EQ(ledger["entries"].size(), 1u);
  EXPECT_EQ(ledger["entries"][0]["type"], "authorization");
  EXPECT_EQ(ledger["entries"][0]["order_id"], "order-1");
  EXPECT_EQ(ledger["totals"]["authorized"], 1234);
}

TEST_F(ProcessorTest, AutomaticSuccessIsCapturedImmediately) {
  Result r = processor_->CreatePaymentIntent(IntentParams("pm_card_visa", 500, "automatic"), "");
  ASSERT_EQ(r.http_status, 200) << r.body;
  Json pi = Body(r);
  EXPECT_EQ(pi["status"], "succeeded");
  EXPECT_EQ(pi["amount_received"], 500);
  EXPECT_EQ(pi["amount_capturable"], 0);
  Json totals = Ledger()["totals"];
  EXPECT_EQ(totals["authorized"], 500);
  EXPECT_EQ(totals["captured"], 500);
}

TEST_F(ProcessorTest, MagicPaymentMethodMintsAFreshToken) {
  Json pi = Body(processor_->CreatePaymentIntent(IntentParams("pm_card_visa"), ""));
  std::string pm = pi["payment_method"].get<std::string>();
  EXPECT_NE(pm, "pm_card_visa");
  EXPECT_EQ(pm.size(), 3u + 24u);
}

TEST_F(ProcessorTest, UnknownPaymentMethod) {
  ExpectError(processor_->CreatePaymentIntent(IntentParams("pm_nope"), ""), 400,
              "invalid_request_error", "resource_missing", "payment_method");
  EXPECT_TRUE(Ledger()["entries"].empty());
}

TEST_F(ProcessorTest, ValidatesIntentParameters) {
  auto with = [](const std::string& name, const std::string& value) {
    Params p = IntentParams("pm_card_visa");
    p[name] = value;
    return p;
  };
  Params missing = IntentParams("pm_card_visa");
  missing.erase("amount");
  ExpectError(processor_->CreatePaymentIntent(missing, ""), 400, "invalid_request_error",
              "parameter_missing", "amount");
  ExpectError(processor_->CreatePaymentIntent(with("amount", ""), ""), 400, "invalid_request_error",
              "parameter_invalid_empty", "amount");
  for (const char* bad : {"12.5", "abc", "-1", "1e3", " 12", "0x10"}) {
    ExpectError(processor_->CreatePaymentIntent(with("amount", bad), ""), 400,
                "invalid_request_error", "parameter_invalid_integer", "amount");
  }
  ExpectError(processor_->CreatePaymentIntent(with("amount", "0"), ""), 400,
              "invalid_request_error", "parameter_invalid_integer", "amount");
  for (const char* big : {"100000000", "99999999999999999999999999999999"}) {
    ExpectError(processor_->CreatePaymentIntent(with("amount", big), ""), 400,
                "invalid_request_error", "amount_too_large", "amount");
  }
  EXPECT_EQ(processor_->CreatePaymentIntent(with("amount", "99999999"), "").http_status, 200);
  ExpectError(processor_->CreatePaymentIntent(with("currency", "xyz"), ""), 400,
              "invalid_request_error", "", "currency");
  EXPECT_EQ(Body(processor_->CreatePaymentIntent(with("currency", "JPY"), ""))["currency"], "jpy");
  ExpectError(processor_->CreatePaymentIntent(with("capture_method", "later"), ""), 400,
              "invalid_request_error", "", "capture_method");
  ExpectError(processor_->CreatePaymentIntent(with("confirm", "false"), ""), 400,
              "invalid_request_error", "payment_intent_invalid_parameter", "confirm");
  Params no_pm = IntentParams("x");
  no_pm.erase("payment_method");
  ExpectError(processor_->CreatePaymentIntent(no_pm, ""), 400, "invalid_request_error",
              "parameter_missing", "payment_method");
  ExpectError(
      processor_->CreatePaymentIntent(with("metadata[" + std::string(41, 'k') + "]", "v"), ""), 400,
      "invalid_request_error", "");
}

// --------------------------------------------------------------------------
// Idempotency
// --------------------------------------------------------------------------

TEST_F(ProcessorTest, IdempotentReplayReturnsIdenticalResponse) {
  Params p = IntentParams("pm_card_visa");
  Result first = processor_->CreatePaymentIntent(p, "key-1");
  ASSERT_EQ(first.http_status, 200);
  EXPECT_FALSE(first.idempotent_replayed);
  Result second = processor_->CreatePaymentIntent(p, "key-1");
  EXPECT_EQ(second.http_status, 200);
  EXPECT_TRUE(second.idempotent_replayed);
  EXPECT_EQ(second.body, first.body);
  Json ledger = Ledger();
  EXPECT_EQ(ledger["entries"].size(), 1u);
  EXPECT_EQ(ledger["entries"][0]["idempotency_key"], "key-1");
  EXPECT_EQ(ledger["totals"]["authorized"], 1000);
}

TEST_F(ProcessorTest, ReplayReturnsOriginalSnapshotEvenAfterStateChanges) {
  Params p = IntentParams("pm_card_visa");
  Result first = processor_->CreatePaymentIntent(p, "key-1");
  std::string id = Body(first)["id"];
  ASSERT_EQ(processor_->CapturePaymentIntent(id, {}, "cap-1").http_status, 200);
  Result again = processor_->CreatePaymentIntent(p, "key-1");
  EXPECT_EQ(again.body, first.body);
  Result cap_again = processor_->CapturePaymentIntent(id, {}, "cap-1");
  EXPECT_EQ(cap_again.http_status, 200);
  EXPECT_TRUE(cap_again.idempotent_replayed);
  EXPECT_EQ(Ledger()["totals"]["captured"], 1000);
}

TEST_F(ProcessorTest, KeyReuseWithOtherParamsIsRejected) {
  ASSERT_EQ(
      processor_->CreatePaymentIntent(IntentParams("pm_card_visa", 1000), "key-1").http_status,
      200);
  Result other = processor_->CreatePaymentIntent(IntentParams("pm_card_visa", 2000), "key-1");
  ExpectError(other, 400, "idempotency_error", "");
  EXPECT_NE(Body(other)["error"]["message"].get<std::string>().find("same parameters"),
            std::string::npos);
  // Same key on another endpoint counts as different parameters too.
  ExpectError(processor_->CreateRefund({{"payment_intent", "pi_x"}}, "key-1"), 400,
              "idempotency_error", "");
  EXPECT_EQ(Ledger()["entries"].size(), 1u);
}

TEST_F(ProcessorTest, ValidationFailuresAreNotSavedUnderTheKey) {
  Params bad = IntentParams("pm_card_visa");
  bad["amount"] = "abc";
  ExpectError(processor_->CreatePaymentIntent(bad, "key-1"), 400, "invalid_request_error",
              "parameter_invalid_integer");
  Result good = processor_->CreatePaymentIntent(IntentParams("pm_card_visa"), "key-1");
  EXPECT_EQ(good.http_status, 200) << good.body;
  EXPECT_FALSE(good.idempotent_replayed);
}

TEST_F(ProcessorTest, DeclinesAreSavedAndReplayed) {
  Params p = IntentParams("pm_card_chargeDeclined");
  Result first = processor_->CreatePaymentIntent(p, "key-d");
  ASSERT_EQ(first.http_status, 402);
  Result second = processor_->CreatePaymentIntent(p, "key-d");
  EXPECT_EQ(second.http_status, 402);
  EXPECT_TRUE(second.idempotent_replayed);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(Ledger()["entries"].size(), 1u);
}

TEST_F(ProcessorTest, TokenizationIsIdempotent) {
  Params p = CardParams("4242424242424242");
  Result first = processor_->CreatePaymentMethod(p, "tok");
  Result second = processor_->CreatePaymentMethod(p, "tok");
  EXPECT_TRUE(second.idempotent_replayed);
  EXPECT_EQ(first.body, second.body);
  ExpectError(processor_->CreatePaymentMethod(CardParams("4000000000009995"), "tok"), 400,
              "idempotency_error", "");
}

TEST_F(ProcessorTest, RejectsMalformedIdempotencyKeys) {
  Params p = IntentParams("pm_card_visa");
  ExpectError(processor_->CreatePaymentIntent(p, std::string(256, 'k')), 400,
              "invalid_request_error", "");
  ExpectError(processor_->CreatePaymentIntent(p, "bad\nkey"), 400, "invalid_request_error", "");
  EXPECT_TRUE(Ledger()["entries"].empty());
}

// --------------------------------------------------------------------------
// Capture / cancel / refund state rules
// --------------------------------------------------------------------------

TEST_F(ProcessorTest, CapturesFullAmount) {
  std::string id = Authorize(1500);
  Result r = processor_->CapturePaymentIntent(id, {}, "");
  ASSERT_EQ(r.http_status, 200) << r.body;
  Json pi = Body(r);
  EXPECT_EQ(pi["status"], "succeeded");
  EXPECT_EQ(pi["amount_received"], 1500);
  EXPECT_EQ(pi["amount_capturable"], 0);
  EXPECT_EQ(Ledger()["totals"]["captured"], 1500);
  EXPECT_EQ(Ledger()["totals"]["voided"], 0);
}

TEST_F(ProcessorTest, PartialCaptureReleasesTheRest) {
  std::string id = Authorize(1000);
  Result r = processor_->CapturePaymentIntent(id, {{"amount_to_capture", "600"}}, "");
  ASSERT_EQ(r.http_status, 200) << r.body;
  EXPECT_EQ(Body(r)["amount_received"], 600);
  Json totals = Ledger()["totals"];
  EXPECT_EQ(totals["authorized"], 1000);
  EXPECT_EQ(totals["captured"], 600);
  EXPECT_EQ(totals["voided"], 400);
}

TEST_F(ProcessorTest, CaptureRules) {
  std::string id = Authorize(1000);
  ExpectError(processor_->CapturePaymentIntent(id, {{"amount_to_capture", "1001"}}, ""), 400,
              "invalid_request_error", "amount_too_large", "amount_to_capture");
  ExpectError(processor_->CapturePaymentIntent(id, {{"amount_to_capture", "nope"}}, ""), 400,
              "invalid_request_error", "parameter_invalid_integer");
  ASSERT_EQ(processor_->CapturePaymentIntent(id, {}, "").http_status, 200);
  Result twice = processor_->CapturePaymentIntent(id, {}, "");
  ExpectError(twice, 400, "invalid_request_error", "payment_intent_unexpected_state");
  EXPECT_EQ(Body(twice)["error"]["payment_intent"]["id"], id);
  ExpectError(processor_->CapturePaymentIntent("pi_missing", {}, ""), 404, "invalid_request_error",
              "resource_missing", "intent");
  // Declined intents cannot be captured either.
  Json declined = Body(processor_->CreatePaymentIntent(IntentParams("pm_card_chargeDeclined"), ""));
  ExpectError(processor_->CapturePaymentIntent(declined["error"]["payment_intent"]["id"], {}, ""),
              400, "invalid_request_error", "payment_intent_unexpected_state");
}

TEST_F(ProcessorTest, CancelVoidsAnAuthorization) {
  std::string id = Authorize(900);
  Result r =
      processor_->CancelPaymentIntent(id, {{"cancellation_reason", "requested_by_customer"}}, "");
  ASSERT_EQ(r.http_status, 200) << r.body;
  Json pi = Body(r);
  EXPECT_EQ(pi["status"], "canceled");
  EXPECT_EQ(pi["amount_capturable"], 0);
  EXPECT_EQ(pi["canceled_at"], kNow);
  EXPECT_EQ(pi["cancellation_reason"], "requested_by_customer");
  EXPECT_EQ(Ledger()["totals"]["voided"], 900);
  ExpectError(processor_->CapturePaymentIntent(id, {}, ""), 400, "invalid_request_error",
              "payment_intent_unexpected_state");
  ExpectError(processor_->CancelPaymentIntent(id, {}, ""), 400, "invalid_request_error",
              "payment_intent_unexpected_state");
}

TEST_F(ProcessorTest, CancelRules) {
  Json declined = Body(processor_->CreatePaymentIntent(IntentParams("pm_card_chargeDeclined"), ""));
  std::string declined_id = declined["error"]["payment_intent"]["id"];
  Result r = processor_->CancelPaymentIntent(declined_id, {}, "");
  ASSERT_EQ(r.http_status, 200) << r.body;
  EXPECT_EQ(Body(r)["status"], "canceled");
  EXPECT_EQ(Ledger()["totals"]["voided"], 0);

  std::string captured = CapturedIntent();
  ExpectError(processor_->CancelPaymentIntent(captured, {}, ""), 400, "invalid_request_error",
              "payment_intent_unexpected_state");
  ExpectError(processor_->CancelPaymentIntent("pi_missing", {}, ""), 404, "invalid_request_error",
              "resource_missing");
  ExpectError(processor_->CancelPaymentIntent(Authorize(), {{"cancellation_reason", "bored"}}, ""),
              400, "invalid_request_error", "", "cancellation_reason");
}

TEST_F(ProcessorTest, RefundsPartialThenRemaining) {
  std::string id = CapturedIntent(1000);
  Result partial = processor_->CreateRefund({{"payment_intent", id}, {"amount", "300"}}, "");
  ASSERT_EQ(partial.http_status, 200) << partial.body;
  Json refund = Body(partial);
  EXPECT_EQ(refund["object"], "refund");
  EXPECT_EQ(refund["id"].get<std::string>().rfind("re_", 0), 0u);
  EXPECT_EQ(refund["amount"], 300);
  EXPECT_EQ(refund["currency"], "usd");
  EXPECT_EQ(refund["payment_intent"], id);
  EXPECT_EQ(refund["status"], "succeeded");

  ExpectError(processor_->CreateRefund({{"payment_intent", id}, {"amount", "701"}}, ""), 400,
              "invalid_request_error", "amount_too_large", "amount");
  Result rest = processor_->CreateRefund({{"payment_intent", id}}, "");
  ASSERT_EQ(rest.http_status, 200) << rest.body;
  EXPECT_EQ(Body(rest)["amount"], 700);
  ExpectError(processor_->CreateRefund({{"payment_intent", id}}, ""), 400, "invalid_request_error",
              "charge_already_refunded");
  ExpectError(processor_->CreateRefund({{"payment_intent", id}, {"amount", "1"}}, ""), 400,
              "invalid_request_error", "charge_already_refunded");
  EXPECT_EQ(Ledger()["totals"]["refunded"], 1000);
}

TEST_F(ProcessorTest, RefundRules) {
  ExpectError(processor_->CreateRefund({{"payment_intent", Authorize()}}, ""), 400,
              "invalid_request_error", "payment_intent_unexpected_state");
  ExpectError(processor_->CreateRefund({{"payment_intent", "pi_missing"}}, ""), 400,
              "invalid_request_error", "resource_missing", "payment_intent");
  ExpectError(processor_->CreateRefund({}, ""), 400, "invalid_request_error", "parameter_missing",
              "payment_intent");
  std::string id = CapturedIntent();
  ExpectError(processor_->CreateRefund({{"payment_intent", id}, {"amount", "0"}}, ""), 400,
              "invalid_request_error", "parameter_invalid_integer");
  // A partial capture bounds refunds by what was actually received.
  std::string partial = Authorize(1000);
  processor_->CapturePaymentIntent(partial, {{"amount_to_capture", "400"}}, "");
  ExpectError(processor_->CreateRefund({{"payment_intent", partial}, {"amount", "401"}}, ""), 400,
              "invalid_request_error", "amount_too_large");
}

TEST_F(ProcessorTest, RefundIsIdempotent) {
  std::string id = CapturedIntent(1000);
  Params p = {{"payment_intent", id}, {"amount", "100"}};
  Result first = processor_->CreateRefund(p, "rf-1");
  Result second = processor_->CreateRefund(p, "rf-1");
  EXPECT_EQ(first.body, second.body);
  EXPECT_TRUE(second.idempotent_replayed);
  EXPECT_EQ(Ledger()["totals"]["refunded"], 100);
}

// --------------------------------------------------------------------------
// Ledger
// --------------------------------------------------------------------------

TEST_F(ProcessorTest, LedgerFiltersByOrderAndTotals) {
  std::string a = Authorize(1000, "order-A");
  std::string b = Authorize(2000, "order-B");
  processor_->CapturePaymentIntent(a, {}, "cap-a");
  processor_->CreateRefund({{"payment_intent", a}, {"amount", "250"}}, "");
  processor_->CancelPaymentIntent(b, {}, "");
  processor_->CreatePaymentIntent(IntentParams("pm_card_chargeDeclined", 50, "manual", "order-A"),
                                  "");

  Json all = Ledger();
  ASSERT_EQ(all["entries"].size(), 6u);
  for (size_t i = 0; i < all["entries"].size(); ++i) {
    EXPECT_EQ(all["entries"][i]["seq"], i + 1);
  }
  EXPECT_EQ(all["totals"],
            Json({{"authorized", 3000}, {"captured", 1000}, {"refunded", 250}, {"voided", 2000}}));

  Json only_a = Ledger("order-A");
  std::vector<std::string> types;
  for (const Json& e : only_a["entries"]) types.push_back(e["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"authorization", "capture", "refund", "decline"}));
  EXPECT_EQ(only_a["entries"][1]["idempotency_key"], "cap-a");
  EXPECT_TRUE(only_a["entries"][0]["idempotency_key"].is_null());
  EXPECT_EQ(only_a["totals"]["authorized"], 1000);
  EXPECT_EQ(only_a["totals"]["refunded"], 250);
  EXPECT_EQ(only_a["totals"]["voided"], 0);
  EXPECT_TRUE(Ledger("order-none")["entries"].empty());
}

// --------------------------------------------------------------------------
// Persistence
// --------------------------------------------------------------------------

TEST_F(ProcessorTest, ReloadRestoresStateExactly) {
  std::string pm = Tokenize("4242424242424242");
  std::string a = Body(processor_->CreatePaymentIntent(IntentParams(pm, 1000), "create-a"))["id"];
  processor_->CapturePaymentIntent(a, {{"amount_to_capture", "800"}}, "");
  processor_->CreateRefund({{"payment_intent", a}, {"amount", "300"}}, "rf");
  std::string b = Authorize(500, "order-2");
  processor_->CreatePaymentIntent(IntentParams("pm_card_chargeDeclined"), "dk");
  std::string get_a = processor_->GetPaymentIntent(a).body;
  std::string get_b = processor_->GetPaymentIntent(b).body;
  std::string ledger = processor_->GetLedger("").body;

  Reopen();
  EXPECT_TRUE(warnings_.empty());
  EXPECT_EQ(processor_->GetPaymentIntent(a).body, get_a);
  EXPECT_EQ(processor_->GetPaymentIntent(b).body, get_b);
  EXPECT_EQ(processor_->GetLedger("").body, ledger);

  // Idempotency keys survive the restart...
  Result replay = processor_->CreatePaymentIntent(IntentParams(pm, 1000), "create-a");
  EXPECT_TRUE(replay.idempotent_replayed);
  EXPECT_EQ(Body(replay)["id"], a);
  ExpectError(processor_->CreatePaymentIntent(IntentParams(pm, 1), "create-a"), 400,
              "idempotency_error", "");
  // ...and so do the tokens and refund limits.
  EXPECT_EQ(processor_->CreatePaymentIntent(IntentParams(pm), "").http_status, 200);
  ExpectError(processor_->CreateRefund({{"payment_intent", a}, {"amount", "501"}}, ""), 400,
              "invalid_request_error", "amount_too_large");
  EXPECT_EQ(processor_->CapturePaymentIntent(b, {}, "").http_status, 200);
}

TEST_F(ProcessorTest, TornLastLineIsIgnoredWithWarning) {
  std::string id = Authorize(1000);
  std::string intact = processor_->GetLedger("").body;
  processor_.reset();
  AppendToFile(journal_path_, "{\"v\":1,\"op\":\"payment_intent.capture\",\"in");

  Reopen();
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("torn"), std::string::npos);
  EXPECT_EQ(processor_->GetLedger("").body, intact);
  // The torn tail was cut, so new appends start on a fresh line.
  ASSERT_EQ(processor_->CapturePaymentIntent(id, {}, "").http_status, 200);
  Reopen();
  EXPECT_TRUE(warnings_.empty());
  EXPECT_EQ(Ledger()["totals"]["captured"], 1000);
}

TEST_F(ProcessorTest, UnterminatedButParsableLastLineIsDropped) {
  Authorize(1000);
  processor_.reset();
  // A complete record whose '\n' never made it to disk was never
  // acknowledged to the client.
  AppendToFile(journal_path_, "{\"v\":1,\"op\":\"noop\"}");
  Reopen();
  EXPECT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(Ledger()["entries"].size(), 1u);
}

TEST_F(ProcessorTest, CorruptMiddleLineRefusesToStart) {
  Authorize(1000);
  processor_.reset();
  AppendToFile(journal_path_, "garbage\n{\"v\":1,\"op\":\"noop\"}\n");
  std::vector<std::string> warnings;
  auto opened = Processor::Open(Options(), &warnings);
  EXPECT_FALSE(opened.ok());
}

TEST_F(ProcessorTest, SchemaViolationRefusesToStart) {
  processor_.reset();
  AppendToFile(journal_path_, "{\"v\":1,\"op\":\"x\",\"intents\":[{\"id\":1}]}\n");
  std::vector<std::string> warnings;
  EXPECT_FALSE(Processor::Open(Options(), &warnings).ok());
}

TEST_F(ProcessorTest, SecondProcessorCannotShareTheJournal) {
  std::vector<std::string> warnings;
  auto second = Processor::Open(Options(), &warnings);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("locked"), std::string::npos);
}

TEST(InMemoryProcessorTest, WorksWithoutJournal) {
  std::vector<std::string> warnings;
  auto processor = Processor::Open(ProcessorOptions(), &warnings);
  ASSERT_TRUE(processor.ok());
  Result r = (*processor)
                 ->CreatePaymentIntent({{"amount", "100"},
                                        {"currency", "eur"},
                                        {"payment_method", "pm_card_visa"},
                                        {"confirm", "true"}},
                                       "k");
  EXPECT_EQ(r.http_status, 200) << r.body;
  EXPECT_EQ(Body(r)["capture_method"], "automatic");
}

// --------------------------------------------------------------------------
// Form decoding and robustness
// --------------------------------------------------------------------------

TEST(ParseFormTest, DecodesFields) {
  auto params = ParseForm("amount=1000&currency=usd&metadata%5Border_id%5D=o+1%2F2&&flag&e=");
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ((*params)["amount"], "1000");
  EXPECT_EQ((*params)["metadata[order_id]"], "o 1/2");
  EXPECT_EQ((*params)["flag"], "");
  EXPECT_EQ((*params)["e"], "");
  EXPECT_EQ(params->size(), 5u);
}

TEST(ParseFormTest, LastDuplicateWins) {
  auto params = ParseForm("a=1&a=2");
  ASSERT_TRUE(params.ok());
  EXPECT_EQ((*params)["a"], "2");
}

TEST(ParseFormTest, RejectsMalformedInput) {
  for (const char* bad :
       {"a=%", "a=%4", "a=%zz", "=1", "a=%ff", "a=%c0%af", "a=%ed%a0%80", "%80=1"}) {
    EXPECT_FALSE(ParseForm(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseForm("").ok());
  EXPECT_TRUE(ParseForm("a=%e2%82%ac").ok());  // Euro sign.
}

TEST(ParseFormTest, ErrorsDoNotEchoValues) {
  auto params = ParseForm("card%5Bnumber%5D=4242424242424242%zz");
  ASSERT_FALSE(params.ok());
  EXPECT_EQ(std::string(params.status().message()).find("4242"), std::string::npos);
}

TEST_F(ProcessorTest, SurvivesRandomInput) {
  std::mt19937 rng(12345);
  auto random_string = [&rng](size_t max_len) {
    std::string s(rng() % max_len, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    return s;
  };
  const char* names[] = {"amount",     "currency",       "payment_method",    "capture_method",
                         "confirm",    "card[number]",   "card[exp_month]",   "card[exp_year]",
                         "type",       "payment_intent", "amount_to_capture", "metadata[order_id]",
                         "description"};
  for (int i = 0; i < 1000; ++i) {
    std::string body = random_string(64);
    ParseForm(body).IgnoreError();
    Params p = IntentParams("pm_card_visa");
    p[names[rng() % (sizeof(names) / sizeof(names[0]))]] = random_string(24);
    std::string key = i % 3 == 0 ? random_string(8) : "";
    for (const Result& r :
         {processor_->CreatePaymentIntent(p, key), processor_->CreatePaymentMethod(p, key),
          processor_->CapturePaymentIntent(random_string(8), p, key),
          processor_->CancelPaymentIntent(random_string(8), p, key),
          processor_->CreateRefund(p, key), processor_->GetPaymentIntent(random_string(40))}) {
      EXPECT_TRUE(Json::accept(r.body)) << r.body;
      EXPECT_GE(r.http_status, 200);
      EXPECT_LT(r.http_status, 500);
    }
  }
  Reopen();
  EXPECT_TRUE(warnings_.empty());
}

}  // namespace
}  // namespace fakepay

// --------------------------------------------------------------------------
// Webhook events
// --------------------------------------------------------------------------

namespace fakepay {
namespace {

class EventTest : public ProcessorTest {
 protected:
  // The only event emitted since the last call; fails unless exactly one.
  Json TakeOneEvent(const std::string& type) {
    EXPECT_EQ(events_->size(), 1u);
    if (events_->size() != 1) {
      events_->clear();
      return Json();
    }
    Event e = events_->front();
    events_->clear();
    Json body = Json::parse(e.body);
    EXPECT_EQ(e.type, type);
    EXPECT_EQ(body["type"], type);
    EXPECT_EQ(body["id"], e.id);
    EXPECT_EQ(e.id.rfind("evt_", 0), 0u) << e.id;
    EXPECT_EQ(body["object"], "event");
    EXPECT_EQ(body["created"], kNow);
    EXPECT_EQ(body["livemode"], false);
    return body["data"]["object"];
  }
};

TEST_F(EventTest, ManualCaptureEmitsSucceededOnCaptureOnly) {
  std::string id = Authorize(1000, "order-7");
  EXPECT_TRUE(events_->empty());
  ASSERT_EQ(processor_->CapturePaymentIntent(id, {}, "").http_status, 200);
  Json pi = TakeOneEvent("payment_intent.succeeded");
  EXPECT_EQ(pi["object"], "payment_intent");
  EXPECT_EQ(pi["id"], id);
  EXPECT_EQ(pi["status"], "succeeded");
  EXPECT_EQ(pi["amount_received"], 1000);
  EXPECT_EQ(pi["metadata"]["order_id"], "order-7");
}

TEST_F(EventTest, AutomaticCaptureEmitsSucceeded) {
  Result r = processor_->CreatePaymentIntent(
      IntentParams("pm_card_visa", 500, "automatic", "order-8"), "");
  ASSERT_EQ(r.http_status, 200) << r.body;
  Json pi = TakeOneEvent("payment_intent.succeeded");
  EXPECT_EQ(pi["id"], Body(r)["id"]);
  EXPECT_EQ(pi["metadata"]["order_id"], "order-8");
}

TEST_F(EventTest, CancelEmitsCanceled) {
  std::string id = Authorize(1000, "order-9");
  ASSERT_EQ(processor_->CancelPaymentIntent(id, {}, "").http_status, 200);
  Json pi = TakeOneEvent("payment_intent.canceled");
  EXPECT_EQ(pi["object"], "payment_intent");
  EXPECT_EQ(pi["id"], id);
  EXPECT_EQ(pi["status"], "canceled");
  EXPECT_EQ(pi["metadata"]["order_id"], "order-9");
}

TEST_F(EventTest, DeclineEmitsPaymentFailedWithError) {
  Result r = processor_->CreatePaymentIntent(
      IntentParams("pm_card_chargeDeclined", 1000, "manual", "order-10"), "");
  ASSERT_EQ(r.http_status, 402) << r.body;
  Json pi = TakeOneEvent("payment_intent.payment_failed");
  EXPECT_EQ(pi["object"], "payment_intent");
  EXPECT_EQ(pi["id"], Body(r)["error"]["payment_intent"]["id"]);
  EXPECT_EQ(pi["status"], "requires_payment_method");
  EXPECT_EQ(pi["metadata"]["order_id"], "order-10");
  EXPECT_EQ(pi["last_payment_error"]["code"], "card_declined");
  EXPECT_EQ(pi["last_payment_error"]["decline_code"], "generic_decline");
}

TEST_F(EventTest, RefundEmitsChargeRefunded) {
  std::string id = CapturedIntent(1000);
  events_->clear();
  Result r = processor_->CreateRefund({{"payment_intent", id}, {"amount", "400"}}, "");
  ASSERT_EQ(r.http_status, 200) << r.body;
  Json charge = TakeOneEvent("charge.refunded");
  EXPECT_EQ(charge["object"], "charge");
  EXPECT_EQ(charge["id"], Body(r)["charge"]);
  EXPECT_EQ(charge["id"].get<std::string>().rfind("ch_", 0), 0u);
  EXPECT_EQ(charge["payment_intent"], id);
  EXPECT_EQ(charge["status"], "refunded");
  EXPECT_EQ(charge["amount_refunded"], 400);
  EXPECT_EQ(charge["refunded"], false);
  EXPECT_EQ(charge["metadata"]["order_id"], "order-1");
}

TEST_F(EventTest, TestDisputeEmitsDisputeCreated) {
  std::string id = CapturedIntent(1000);
  events_->clear();
  Result r = processor_->CreateTestDispute({{"payment_intent", id}});
  ASSERT_EQ(r.http_status, 200) << r.body;
  Json dispute = TakeOneEvent("charge.dispute.created");
  EXPECT_EQ(dispute, Body(r));
  EXPECT_EQ(dispute["object"], "dispute");
  EXPECT_EQ(dispute["id"].get<std::string>().rfind("dp_", 0), 0u);
  EXPECT_EQ(dispute["payment_intent"], id);
  EXPECT_EQ(dispute["reason"], "fraudulent");
  EXPECT_EQ(dispute["status"], "needs_response");
  EXPECT_EQ(dispute["metadata"]["order_id"], "order-1");
}

TEST_F(EventTest, TestDisputeRejectsUnknownAndUnsucceededIntents) {
  ExpectError(processor_->CreateTestDispute({{"payment_intent", "pi_nope"}}), 404,
              "invalid_request_error", "resource_missing", "payment_intent");
  std::string id = Authorize();
  ExpectError(processor_->CreateTestDispute({{"payment_intent", id}}), 400, "invalid_request_error",
              "payment_intent_unexpected_state", "payment_intent");
  ExpectError(processor_->CreateTestDispute({}), 400, "invalid_request_error", "parameter_missing",
              "payment_intent");
  EXPECT_TRUE(events_->empty());
}

TEST_F(EventTest, IdempotentReplaysEmitNothing) {
  Result first =
      processor_->CreatePaymentIntent(IntentParams("pm_card_visa", 1000, "manual"), "key-create");
  std::string id = Body(first)["id"];
  ASSERT_EQ(processor_->CapturePaymentIntent(id, {}, "key-cap").http_status, 200);
  ASSERT_EQ(
      processor_->CreateRefund({{"payment_intent", id}, {"amount", "100"}}, "key-ref").http_status,
      200);
  Result declined =
      processor_->CreatePaymentIntent(IntentParams("pm_card_chargeDeclined"), "key-decline");
  std::string declined_id = Body(declined)["error"]["payment_intent"]["id"];
  ASSERT_EQ(processor_->CancelPaymentIntent(declined_id, {}, "key-cancel").http_status, 200);
  ASSERT_EQ(events_->size(), 4u);  // succeeded, refunded, failed, canceled.
  events_->clear();

  EXPECT_TRUE(
      processor_->CreatePaymentIntent(IntentParams("pm_card_visa", 1000, "manual"), "key-create")
          .idempotent_replayed);
  EXPECT_TRUE(processor_->CapturePaymentIntent(id, {}, "key-cap").idempotent_replayed);
  EXPECT_TRUE(processor_->CreateRefund({{"payment_intent", id}, {"amount", "100"}}, "key-ref")
                  .idempotent_replayed);
  EXPECT_TRUE(processor_->CreatePaymentIntent(IntentParams("pm_card_chargeDeclined"), "key-decline")
                  .idempotent_replayed);
  EXPECT_TRUE(processor_->CancelPaymentIntent(declined_id, {}, "key-cancel").idempotent_replayed);
  EXPECT_TRUE(events_->empty());

  // Nor does replaying the journal at startup.
  Reopen();
  EXPECT_TRUE(events_->empty());
}

}  // namespace
}  // namespace fakepay
