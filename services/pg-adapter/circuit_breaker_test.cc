#include "services/pg-adapter/circuit_breaker.h"

#include <gtest/gtest.h>

#include <vector>

namespace shop::payments {
namespace {

using State = CircuitBreaker::State;

class CircuitBreakerTest : public ::testing::Test {
 protected:
  CircuitBreakerTest() : breaker_({3, absl::Seconds(10)}, &clock_) {
    breaker_.SetListener([this](State s) { changes_.push_back(s); });
  }
  SimulatedClock clock_{absl::FromUnixSeconds(1000)};
  CircuitBreaker breaker_;
  std::vector<State> changes_;
};

TEST_F(CircuitBreakerTest, OpensAfterConsecutiveFailuresOnly) {
  breaker_.RecordFailure();
  breaker_.RecordFailure();
  breaker_.RecordSuccess();  // resets the count
  breaker_.RecordFailure();
  breaker_.RecordFailure();
  EXPECT_EQ(breaker_.state(), State::kClosed);
  EXPECT_TRUE(breaker_.Allow());
  breaker_.RecordFailure();
  EXPECT_EQ(breaker_.state(), State::kOpen);
  EXPECT_FALSE(breaker_.Allow());
  EXPECT_EQ(changes_, std::vector<State>{State::kOpen});
}

TEST_F(CircuitBreakerTest, ProbesOnceAfterTheCoolDownAndClosesOnSuccess) {
  for (int i = 0; i < 3; ++i) breaker_.RecordFailure();
  clock_.Advance(absl::Seconds(9));
  EXPECT_FALSE(breaker_.Allow());
  clock_.Advance(absl::Seconds(2));
  EXPECT_TRUE(breaker_.Allow());   // the probe
  EXPECT_FALSE(breaker_.Allow());  // only one at a time
  EXPECT_EQ(breaker_.state(), State::kHalfOpen);
  breaker_.RecordSuccess();
  EXPECT_EQ(breaker_.state(), State::kClosed);
  EXPECT_TRUE(breaker_.Allow());
  EXPECT_EQ(changes_, (std::vector<State>{State::kOpen, State::kHalfOpen, State::kClosed}));
}

TEST_F(CircuitBreakerTest, AFailedProbeOpensAgainForAnotherCoolDown) {
  for (int i = 0; i < 3; ++i) breaker_.RecordFailure();
  clock_.Advance(absl::Seconds(11));
  ASSERT_TRUE(breaker_.Allow());
  breaker_.RecordFailure();
  EXPECT_EQ(breaker_.state(), State::kOpen);
  clock_.Advance(absl::Seconds(5));
  EXPECT_FALSE(breaker_.Allow());
  clock_.Advance(absl::Seconds(6));
  EXPECT_TRUE(breaker_.Allow());
}

}  // namespace
}  // namespace shop::payments
