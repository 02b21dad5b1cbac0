#include "core/clock.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"

namespace shop {
namespace {

TEST(SimulatedClockTest, MovesOnlyWhenToldTo) {
  SimulatedClock clock(absl::FromUnixSeconds(1000));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1000));
  clock.Advance(absl::Seconds(30));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1030));
  clock.Advance(-absl::Seconds(5));  // time never runs backwards
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1030));
}

TEST(SimulatedClockTest, SleepingAdvancesTheClockWithoutWaiting) {
  SimulatedClock clock(absl::FromUnixSeconds(0));
  absl::Time real_before = absl::Now();
  clock.SleepFor(absl::Hours(1));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(3600));
  EXPECT_LT(absl::Now() - real_before, absl::Minutes(1));  // no real hour passed
}

TEST(RealClockTest, FollowsTheWallClock) {
  absl::Time before = absl::Now();
  absl::Time now = Clock::Real()->Now();
  EXPECT_GE(now, before);
  EXPECT_EQ(Clock::Real(), Clock::Real());
}

}  // namespace
}  // namespace shop
