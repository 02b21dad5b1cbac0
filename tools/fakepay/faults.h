// fakepay: fault injection, so that a payment adapter's retry logic can be
// tested against a gateway that misbehaves the way real third parties do.
//
// This file holds only the decisions (which fault, if any, a request gets)
// and the knobs that drive them; acting on a decision (answering 500/429,
// holding or resetting the connection) is the HTTP layer's job in main.cc.
//
// The knobs are set by --fault_* flags at start and at run time through
// (same Bearer API key as the rest of /v1):
//   GET  /v1/test/faults  -> {"latency_ms":0,"error_500_percent":0,
//        "error_429_percent":0,"retry_after_seconds":1,"timeout_percent":0,
//        "reset_percent":0,"seed":N,"injected":{"error_500":0,
//        "error_429":0,"timeout":0,"reset":0}}
//   POST /v1/test/faults  with any subset of the knob names as form fields
//        -> the new state, or a 400 invalid_request_error naming `param`.
// Faults are drawn only for POST /v1/payment_intents, .../{id}/capture,
// .../{id}/cancel and /v1/refunds; latency delays every /v1 request except
// /v1/test/*.

#ifndef SHOPMESH_TOOLS_FAKEPAY_FAULTS_H_
#define SHOPMESH_TOOLS_FAKEPAY_FAULTS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tools/fakepay/ledger.h"

namespace fakepay {

enum class FaultKind {
  kNone,
  kError500,  // Answer 500 without applying the operation.
  kError429,  // Answer 429 + Retry-After without applying the operation.
  kTimeout,   // Apply, then hold the connection without ever answering.
  kReset,     // Apply, then reset the connection without answering.
};

// The name used in logs and in the "injected" counters, e.g. "error_500".
// Empty for kNone.
absl::string_view FaultKindName(FaultKind kind);

// A rejected knob value, shaped like a Stripe parameter error.
struct KnobError {
  std::string param;    // The offending knob, e.g. "error_500_percent".
  std::string code;     // Stripe error code, e.g. "parameter_invalid_integer".
  std::string message;  // Human-readable; safe to send to the client.
};

// The fault knobs. All off by default, so a fresh plan never injects.
struct FaultPlan {
  static constexpr int kMaxLatencyMs = 60000;
  static constexpr int kMaxRetryAfterSeconds = 3600;

  int latency_ms = 0;  // Added before every answered /v1 request.
  int error_500_percent = 0;
  int error_429_percent = 0;
  int retry_after_seconds = 1;  // Sent as Retry-After with injected 429s.
  int timeout_percent = 0;
  int reset_percent = 0;

  // Checks every knob's range and that the percentages add up to at most
  // 100; returns the first problem found.
  std::optional<KnobError> Validate() const;

  // Maps one uniform draw in [0, 1) to a fault. The percentages are laid end
  // to end in the order 500, 429, timeout, reset, each a half-open interval
  // (so 20% of 500s is [0, 0.2)); draws past their sum get kNone. Drawing
  // once per request, whatever the knobs, keeps a seeded run's sequence of
  // draws independent of knob changes.
  FaultKind Pick(double draw) const;
};

// Sets the knobs named in `params` (form fields; any subset of the
// FaultPlan field names) on `*plan`. Values must be plain decimal integers;
// unknown names are rejected, so a typo cannot silently leave a knob off.
// The result is validated as a whole, and on error `*plan` is unchanged.
std::optional<KnobError> UpdateFaultPlan(const Params& params, FaultPlan* plan);

// The run-time fault state of one server: knobs, a seeded generator and
// counters. Thread-safe.
class FaultInjector {
 public:
  struct Decision {
    FaultKind kind = FaultKind::kNone;
    int retry_after_seconds = 0;  // The knob as it was when drawn.
  };

  // `plan` must have passed Validate().
  FaultInjector(const FaultPlan& plan, uint64_t seed);

  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  // Draws the fault for one mutating request, and counts it as injected.
  Decision Decide();

  FaultPlan plan() const;
  uint64_t seed() const { return seed_; }

  // UpdateFaultPlan on the live knobs.
  std::optional<KnobError> Update(const Params& params);

  // The answer of GET /v1/test/faults: the knobs, the seed, and the number
  // of faults injected since start by kind.
  Result State() const;

 private:
  const uint64_t seed_;
  mutable absl::Mutex mu_;
  FaultPlan plan_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  // Indexed by FaultKind; kNone's slot is unused.
  std::array<int64_t, 5> injected_ ABSL_GUARDED_BY(mu_) = {};
};

}  // namespace fakepay

#endif  // SHOPMESH_TOOLS_FAKEPAY_FAULTS_H_
