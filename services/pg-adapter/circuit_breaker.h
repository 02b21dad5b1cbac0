// A circuit breaker in front of the external gateway: after
// `failure_threshold` consecutive failed tries (no answer, 429 or 5xx) it
// opens and calls fail fast for `cool_down`; then one probe may go through
// (half-open): its success closes the circuit, its failure opens it again.
#ifndef SHOP_SERVICES_PG_ADAPTER_CIRCUIT_BREAKER_H_
#define SHOP_SERVICES_PG_ADAPTER_CIRCUIT_BREAKER_H_

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"

namespace shop::payments {

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };
  struct Options {
    int failure_threshold = 5;
    absl::Duration cool_down = absl::Seconds(10);
  };

  using Listener = std::function<void(State)>;

  explicit CircuitBreaker(Options options, Clock* clock = Clock::Real());

  // Called on every change of state (outside the breaker's lock).
  void SetListener(Listener listener);
  // May a try go to the gateway now? False while open; in half-open, true
  // for one probe at a time.
  bool Allow();
  void RecordSuccess();
  void RecordFailure();
  State state() const;

 private:
  void Notify(State state);

  const Options options_;
  Clock* const clock_;
  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kClosed;
  int consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time opened_at_ ABSL_GUARDED_BY(mu_);
  bool probe_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  Listener listener_ ABSL_GUARDED_BY(mu_);
};

const char* CircuitStateName(CircuitBreaker::State state);

}  // namespace shop::payments

#endif  // SHOP_SERVICES_PG_ADAPTER_CIRCUIT_BREAKER_H_
