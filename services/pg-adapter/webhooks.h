// Gateway webhooks: the gateway calls us back (HTTPS POST) with events such
// as a capture that failed late or a dispute. Each call is signed like
// Stripe's: header `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256
// of "<t>.<body>" with the endpoint secret>`. We check the signature in
// constant time, refuse timestamps outside the tolerance (replays), store
// each event id once (duplicates are acknowledged, not applied twice) and
// forward payment outcomes to the order processing system.
#ifndef SHOP_SERVICES_PG_ADAPTER_WEBHOOKS_H_
#define SHOP_SERVICES_PG_ADAPTER_WEBHOOKS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shop::payments {

// HMAC-SHA256 of "<timestamp>.<body>" as lower-case hex.
std::string WebhookSignature(absl::string_view secret, int64_t timestamp, absl::string_view body);

// OK when `header` carries a v1 signature of `body` made with `secret` at a
// time within `tolerance` of `now`; UNAUTHENTICATED with the reason otherwise.
absl::Status VerifyWebhookSignature(absl::string_view secret, absl::string_view header,
                                    absl::string_view body, absl::Time now,
                                    absl::Duration tolerance);

struct WebhookEvent {
  std::string event_id;  // "evt_..."
  std::string type;      // "charge.dispute.created"
  std::string payment_intent;
  std::string order_id;
  std::string detail;  // e.g. the dispute reason or failure message
};

// Parses the JSON body of an event; INVALID_ARGUMENT when it is not one.
absl::StatusOr<WebhookEvent> ParseWebhookEvent(absl::string_view body);

// Where verified events go.
class WebhookSink {
 public:
  virtual ~WebhookSink() = default;
  // Stores the event if its id is new. True while it still has to be
  // forwarded (new, or a redelivery of one whose forward failed).
  virtual absl::StatusOr<bool> RecordOnce(const WebhookEvent& event, absl::string_view body) = 0;
  // Tells ops about an outcome that concerns an order (idempotent by event id).
  virtual absl::Status Forward(const WebhookEvent& event) = 0;
  virtual absl::Status MarkForwarded(const std::string& event_id) = 0;
};

struct WebhookResult {
  int http_status;
  std::string message;
};

// The whole handling of one call: verify, parse, record once, forward.
WebhookResult HandleWebhook(WebhookSink& sink, absl::string_view secret,
                            absl::string_view signature_header, absl::string_view body,
                            absl::Time now, absl::Duration tolerance);

}  // namespace shop::payments

#endif  // SHOP_SERVICES_PG_ADAPTER_WEBHOOKS_H_
