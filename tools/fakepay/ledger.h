// fakepay: the state machine and ledger of a fake Stripe-like card processor.
//
// This layer knows nothing about HTTP or TLS. Every API call takes already
// decoded request parameters and returns a `Result` (HTTP status code plus
// the exact JSON body), so it can be unit tested directly and the HTTP server
// in main.cc stays a thin adapter.
//
// Durability model: every mutating call is turned into one "commit" record.
// The record is appended to the journal (one JSON line, fsync'ed) *before*
// it is applied in memory, and replay at startup applies the very same
// records through the very same code path. Live state and replayed state can
// therefore not drift apart, and a crash mid-write loses at most the one
// operation whose response was never sent.
//
// Card data: full card numbers and CVCs are only ever seen inside
// CreatePaymentMethod. Only the token -> (brand, last4, expiry, simulated
// outcome) mapping is kept; idempotency fingerprints are keyed HMACs so they
// cannot be brute-forced back into a card number.

#ifndef SHOPMESH_TOOLS_FAKEPAY_LEDGER_H_
#define SHOPMESH_TOOLS_FAKEPAY_LEDGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace fakepay {

// Decoded request parameters keyed by their literal (bracketed) name, e.g.
// "card[number]" or "metadata[order_id]".
using Params = std::map<std::string, std::string>;

// A transport-agnostic API response.
struct Result {
  int http_status = 200;
  std::string body;  // JSON text, exactly as it must go on the wire.
  bool idempotent_replayed = false;
};

// Decodes an application/x-www-form-urlencoded body ('+' is a space, %XX
// escapes). Repeated names keep the last value, as Stripe's (Rack) parser
// does. Fails on malformed escapes or invalid UTF-8. Error messages never
// echo parameter values, which may be card data.
absl::StatusOr<Params> ParseForm(absl::string_view body);

// Builds a Stripe-shaped error response: {"error":{"type":..,"code":..,
// "message":..,"param":..}}. Empty `code` / `param` are omitted.
Result ErrorResult(int http_status, absl::string_view type, absl::string_view message,
                   absl::string_view code = "", absl::string_view param = "");

// A webhook event, emitted once the state change it reports is committed.
// `body` is the complete event JSON: {"id":"evt_...","object":"event",
// "type":..,"created":..,"livemode":false,"data":{"object":{..}}}.
struct Event {
  std::string id;
  std::string type;
  std::string body;
};

struct ProcessorOptions {
  // JSON-lines journal. Empty: keep state in memory only.
  std::string journal_path;
  // Key for the idempotency fingerprints (HMAC-SHA256). The server passes
  // its API key, which never reaches the journal.
  std::string fingerprint_secret;
  // Unix seconds; defaults to the system clock. Injectable for tests.
  std::function<int64_t()> now_seconds;
  // Returns "<prefix>_<24 random alphanumerics>"; defaults to OpenSSL's CSPRNG.
  std::function<std::string(absl::string_view prefix)> new_id;
  // Called with each event right after its change is applied, under the
  // processor's lock, so events arrive in commit order. Must not block and
  // must not call back into the Processor. Idempotent replays and journal
  // replay at startup emit nothing. Null: events are dropped.
  std::function<void(const Event&)> on_event;
};

namespace internal {
struct State;
struct Commit;
}  // namespace internal

class Processor {
 public:
  // Opens (creating if needed) and replays the journal. A torn last line is
  // dropped and reported through `warnings`; any other damage is an error.
  static absl::StatusOr<std::unique_ptr<Processor>> Open(ProcessorOptions options,
                                                         std::vector<std::string>* warnings);

  Processor(const Processor&) = delete;
  Processor& operator=(const Processor&) = delete;
  ~Processor();

  // POST /v1/payment_methods (card tokenization).
  Result CreatePaymentMethod(const Params& params, absl::string_view idempotency_key);
  // POST /v1/payment_intents (create + confirm in one step).
  Result CreatePaymentIntent(const Params& params, absl::string_view idempotency_key);
  // POST /v1/payment_intents/{id}/capture
  Result CapturePaymentIntent(absl::string_view id, const Params& params,
                              absl::string_view idempotency_key);
  // POST /v1/payment_intents/{id}/cancel
  Result CancelPaymentIntent(absl::string_view id, const Params& params,
                             absl::string_view idempotency_key);
  // POST /v1/refunds
  Result CreateRefund(const Params& params, absl::string_view idempotency_key);
  // POST /v1/test/disputes (test only): opens a dispute on a succeeded
  // intent and emits charge.dispute.created. Disputes are not persisted.
  Result CreateTestDispute(const Params& params);
  // GET /v1/payment_intents/{id}
  Result GetPaymentIntent(absl::string_view id);
  // GET /v1/test/ledger[?order_id=...]; empty filter returns everything.
  Result GetLedger(absl::string_view order_id_filter);

 private:
  using Planner = std::function<Result(const internal::State&, internal::Commit*)>;

  explicit Processor(std::unique_ptr<internal::State> state);

  // Runs one mutating API call: idempotency lookup, planning, journaling and
  // applying, all under one lock so concurrent retries cannot double-charge.
  Result Mutate(absl::string_view op, absl::string_view path, const Params& params,
                absl::string_view idempotency_key, const Planner& plan);

  absl::Mutex mu_;
  std::unique_ptr<internal::State> state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fakepay

#endif  // SHOPMESH_TOOLS_FAKEPAY_LEDGER_H_
