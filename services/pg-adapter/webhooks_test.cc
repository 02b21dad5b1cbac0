#include "services/pg-adapter/webhooks.h"

#include <gtest/gtest.h>

#include <map>

namespace shop::payments {
namespace {

constexpr char kSecret[] = "whsec_test_0123456789abcdef";
constexpr char kBody[] =
    R"({"id":"evt_1","type":"charge.dispute.created","data":{"object":{"object":"dispute",)"
    R"("payment_intent":"pi_1","reason":"fraudulent","metadata":{"order_id":"ord_1"}}}})";

std::string Header(int64_t t, const std::string& body, const std::string& secret = kSecret) {
  return "t=" + std::to_string(t) + ",v1=" + WebhookSignature(secret, t, body);
}

class MemorySink final : public WebhookSink {
 public:
  absl::StatusOr<bool> RecordOnce(const WebhookEvent& event, absl::string_view) override {
    auto [it, inserted] = forwarded.emplace(event.event_id, false);
    return !it->second;
  }
  absl::Status Forward(const WebhookEvent& event) override {
    if (!ops_up) return absl::UnavailableError("ops down");
    forwards.push_back(event);
    return absl::OkStatus();
  }
  absl::Status MarkForwarded(const std::string& id) override {
    forwarded[id] = true;
    return absl::OkStatus();
  }
  bool ops_up = true;
  std::map<std::string, bool> forwarded;
  std::vector<WebhookEvent> forwards;
};

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(WebhooksTest, AValidEventIsForwardedOnce) {
  MemorySink sink;
  const int64_t t = absl::ToUnixSeconds(kNow);
  WebhookResult first =
      HandleWebhook(sink, kSecret, Header(t, kBody), kBody, kNow, absl::Minutes(5));
  EXPECT_EQ(first.http_status, 200);
  ASSERT_EQ(sink.forwards.size(), 1u);
  EXPECT_EQ(sink.forwards[0].order_id, "ord_1");
  EXPECT_EQ(sink.forwards[0].type, "charge.dispute.created");
  EXPECT_EQ(sink.forwards[0].detail, "fraudulent");
  WebhookResult again =
      HandleWebhook(sink, kSecret, Header(t, kBody), kBody, kNow, absl::Minutes(5));
  EXPECT_EQ(again.http_status, 200);
  EXPECT_EQ(again.message, "duplicate event; already applied");
  EXPECT_EQ(sink.forwards.size(), 1u);
}

TEST(WebhooksTest, BadSignaturesAndReplaysAreRefused) {
  MemorySink sink;
  const int64_t t = absl::ToUnixSeconds(kNow);
  std::string tampered = kBody;
  tampered.replace(tampered.find("fraudulent"), 10, "duplicate_");
  EXPECT_EQ(
      HandleWebhook(sink, kSecret, Header(t, kBody), tampered, kNow, absl::Minutes(5)).message,
      "signature does not match");
  EXPECT_EQ(HandleWebhook(sink, kSecret, Header(t, kBody, "whsec_other_secret_000"), kBody, kNow,
                          absl::Minutes(5))
                .http_status,
            400);
  WebhookResult replay =
      HandleWebhook(sink, kSecret, Header(t - 600, kBody), kBody, kNow, absl::Minutes(5));
  EXPECT_EQ(replay.http_status, 400);
  EXPECT_EQ(replay.message, "signature timestamp outside the tolerance (a replay?)");
  EXPECT_EQ(HandleWebhook(sink, kSecret, "", kBody, kNow, absl::Minutes(5)).http_status, 400);
  EXPECT_EQ(HandleWebhook(sink, kSecret, "t=abc,v1=zz", kBody, kNow, absl::Minutes(5)).http_status,
            400);
  EXPECT_TRUE(sink.forwards.empty());
}

TEST(WebhooksTest, AnEventNotForwardedIsForwardedOnRedelivery) {
  MemorySink sink;
  sink.ops_up = false;
  const int64_t t = absl::ToUnixSeconds(kNow);
  EXPECT_EQ(
      HandleWebhook(sink, kSecret, Header(t, kBody), kBody, kNow, absl::Minutes(5)).http_status,
      503);
  sink.ops_up = true;
  EXPECT_EQ(
      HandleWebhook(sink, kSecret, Header(t, kBody), kBody, kNow, absl::Minutes(5)).http_status,
      200);
  EXPECT_EQ(sink.forwards.size(), 1u);
}

TEST(WebhooksTest, MalformedEventsAreRefusedWithoutForwarding) {
  MemorySink sink;
  const int64_t t = absl::ToUnixSeconds(kNow);
  for (const std::string& body :
       {std::string("not json"), std::string(R"({"type":"x"})"), std::string("\xff\xfe\x00", 3)}) {
    EXPECT_EQ(
        HandleWebhook(sink, kSecret, Header(t, body), body, kNow, absl::Minutes(5)).http_status,
        400);
  }
  EXPECT_TRUE(sink.forwards.empty());
}

}  // namespace
}  // namespace shop::payments
