#include "tools/fakepay/webhooks.h"

#include <curl/curl.h>

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace fakepay {
namespace {

using Json = nlohmann::json;

// Expected value computed independently with:
//   printf '%s' '1700000000.{"id":"evt_test","type":"payment_intent.succeeded"}'
//     | openssl dgst -sha256 -hmac 'whsec_0123456789abcdef'
TEST(WebhookSignatureTest, MatchesOpenSslVector) {
  EXPECT_EQ(WebhookSignature("whsec_0123456789abcdef", 1700000000,
                             R"({"id":"evt_test","type":"payment_intent.succeeded"})"),
            "t=1700000000,v1="
            "6e4cc7e77be6f73fab67e05db61745f1306dd028483de0696a88759b961b5d89");
}

// RFC 4231 test case 2.
TEST(WebhookSignatureTest, HmacRfc4231) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WebhookBackoffTest, DoublesFromHalfSecondCappedAtTen) {
  const absl::Duration initial = absl::Milliseconds(500);
  const absl::Duration max = absl::Seconds(10);
  EXPECT_EQ(WebhookBackoff(1, initial, max), absl::Milliseconds(500));
  EXPECT_EQ(WebhookBackoff(2, initial, max), absl::Seconds(1));
  EXPECT_EQ(WebhookBackoff(3, initial, max), absl::Seconds(2));
  EXPECT_EQ(WebhookBackoff(5, initial, max), absl::Seconds(8));
  EXPECT_EQ(WebhookBackoff(6, initial, max), absl::Seconds(10));
  EXPECT_EQ(WebhookBackoff(100, initial, max), absl::Seconds(10));
}

class WebhookSenderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { curl_global_init(CURL_GLOBAL_DEFAULT); }

  // Port 1 on loopback refuses connections: every attempt fails fast.
  static WebhookOptions Unreachable() {
    WebhookOptions options;
    options.url = "https://127.0.0.1:1/webhooks";
    options.secret = "whsec_0123456789abcdef";
    options.ca_file = "/nonexistent-ca.pem";
    options.initial_backoff = absl::Milliseconds(10);
    options.max_backoff = absl::Milliseconds(20);
    options.max_attempts = 3;
    return options;
  }

  static Json Deliveries(const WebhookSender& sender) {
    return Json::parse(sender.DeliveriesJson());
  }

  static Event MakeEvent(const std::string& id) {
    return {id, "payment_intent.succeeded", R"({"id":")" + id + R"("})"};
  }
};

TEST_F(WebhookSenderTest, GivesUpAfterMaxAttempts) {
  WebhookSender sender(Unreachable());
  sender.Enqueue(MakeEvent("evt_1"));
  sender.Enqueue(MakeEvent("evt_2"));
  Json d;
  for (int i = 0; i < 500; ++i) {
    d = Deliveries(sender)["deliveries"];
    if (d.size() == 2 && d[1]["status"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(d.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(d[i]["event_id"], i == 0 ? "evt_1" : "evt_2");
    EXPECT_EQ(d[i]["type"], "payment_intent.succeeded");
    EXPECT_EQ(d[i]["status"], "failed");
    EXPECT_EQ(d[i]["attempts"], 3);
    EXPECT_TRUE(d[i]["last_http_status"].is_null());
  }
}

TEST_F(WebhookSenderTest, QueueBoundDropsAndStopIsPrompt) {
  WebhookOptions options = Unreachable();
  options.max_queue = 2;
  options.initial_backoff = absl::Seconds(10);
  options.max_backoff = absl::Seconds(10);
  options.max_attempts = 10;
  WebhookSender sender(options);
  for (int i = 0; i < 4; ++i) sender.Enqueue(MakeEvent(absl::StrCat("evt_", i)));
  Json state = Deliveries(sender);
  EXPECT_EQ(state["dropped"], 2);
  ASSERT_EQ(state["deliveries"].size(), 4u);
  EXPECT_EQ(state["deliveries"][2]["status"], "failed");
  EXPECT_EQ(state["deliveries"][3]["status"], "failed");
  EXPECT_EQ(state["deliveries"][1]["status"], "pending");
  // Let the first attempt fail, so the sender sits in a 10 s backoff.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto start = std::chrono::steady_clock::now();
  sender.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(Deliveries(sender)["deliveries"][0]["status"], "pending");
}

}  // namespace
}  // namespace fakepay
