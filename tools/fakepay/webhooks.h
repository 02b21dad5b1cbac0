// fakepay: Stripe-style signed webhook delivery.
//
// Events produced by the Processor (ledger.h) are queued in memory and
// POSTed, in order, by one background thread to a single HTTPS endpoint
// with the header
//   Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256("<t>.<body>")>
// Each attempt is signed afresh. A 2xx answer delivers the event; a 400 is
// final (the endpoint rejected it); anything else, or no answer, is retried
// with exponential backoff. Nothing is persisted: a restart forgets the queue.

#ifndef SHOPMESH_TOOLS_FAKEPAY_WEBHOOKS_H_
#define SHOPMESH_TOOLS_FAKEPAY_WEBHOOKS_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tools/fakepay/ledger.h"

namespace fakepay {

// Lower-case hex HMAC-SHA256 of `data` under `key`.
std::string HmacSha256Hex(absl::string_view key, absl::string_view data);

// The Stripe-Signature header value for `body` signed at `timestamp`.
std::string WebhookSignature(absl::string_view secret, int64_t timestamp, absl::string_view body);

// The backoff before retry number `retry` (1 = the first retry):
// initial * 2^(retry-1), capped at `max`.
absl::Duration WebhookBackoff(int retry, absl::Duration initial, absl::Duration max);

struct WebhookOptions {
  std::string url;      // https://...
  std::string secret;   // Signing secret (whsec_...); never logged.
  std::string ca_file;  // PEM CA bundle that verifies the endpoint.
  size_t max_queue = 10000;
  int max_attempts = 10;
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(10);
  absl::Duration request_timeout = absl::Seconds(10);
  // One structured log line (level, message, fields).
  std::function<void(absl::string_view, absl::string_view, const nlohmann::ordered_json&)> log;
};

// Thread-safe. curl_global_init() must have been called before the first
// sender is created.
class WebhookSender {
 public:
  explicit WebhookSender(WebhookOptions options);
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;
  ~WebhookSender();  // Calls Stop().

  // Queues an event; never blocks. When the queue is full the event is
  // dropped, counted and logged.
  void Enqueue(const Event& event);

  // Stops promptly: abandons backoff waits and an in-flight attempt, and
  // logs how many events were left undelivered. Idempotent.
  void Stop();

  // The answer of GET /v1/test/webhooks, in emission order.
  std::string DeliveriesJson() const;

 private:
  struct Delivery {
    std::string event_id;
    std::string type;
    std::string status = "pending";  // pending | delivered | failed
    int attempts = 0;
    long last_http_status = 0;  // 0: no HTTP answer yet.
  };
  struct Queued {
    size_t index;  // Into deliveries_.
    std::string body;
  };

  void Run();
  // Await conditions of Run().
  bool WorkOrStopLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !queue_.empty();
  }
  bool StoppingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; }
  // One POST; returns the HTTP status, or 0 with `*error` set.
  long Attempt(const std::string& body, std::string* error);
  void Log(absl::string_view level, absl::string_view msg,
           const nlohmann::ordered_json& fields) const;

  const WebhookOptions options_;
  // absl::Mutex re-evaluates Run()'s Await conditions on every unlock, so
  // no condition variable is needed; the annotations are checked by clang's
  // thread-safety analysis (scripts/test).
  mutable absl::Mutex mu_;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<Delivery> deliveries_ ABSL_GUARDED_BY(mu_);
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> stopping_{false};  // Written under mu_.
  std::thread thread_;
};

}  // namespace fakepay

#endif  // SHOPMESH_TOOLS_FAKEPAY_WEBHOOKS_H_
