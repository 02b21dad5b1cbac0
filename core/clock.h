// Time as a collaborator. Code that reads the clock or waits takes a Clock,
// so that lease, expiry, backoff and token tests run on simulated time
// instead of real time (Envoy's TimeSource habit).
#ifndef SHOP_CORE_CLOCK_H_
#define SHOP_CORE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shop {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  // Returns after `duration` of this clock's time has passed.
  virtual void SleepFor(absl::Duration duration) = 0;

  // The wall clock of the process (absl::Now, absl::SleepFor).
  static Clock* Real();
};

// A clock that moves only when told to: SleepFor advances it and returns at
// once, so a test of a 30 s lease takes microseconds. Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000));

  absl::Time Now() override;
  void SleepFor(absl::Duration duration) override;
  void Advance(absl::Duration duration);

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shop

#endif  // SHOP_CORE_CLOCK_H_
