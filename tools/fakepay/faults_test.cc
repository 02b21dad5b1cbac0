#include "tools/fakepay/faults.h"

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace fakepay {

// Readable gtest failures: "timeout" instead of the enum's bytes.
void PrintTo(FaultKind kind, std::ostream* os) {
  *os << (kind == FaultKind::kNone ? "none" : FaultKindName(kind));
}

namespace {

// The largest double below 1: the top of the draw range.
const double kAlmostOne = std::nextafter(1.0, 0.0);

// The largest double below x / 100: the last draw inside a slice ending at x%.
double JustBelow(int percent) { return std::nextafter(percent / 100.0, 0.0); }

TEST(FaultPlanTest, DefaultsAreOffAndValid) {
  FaultPlan plan;
  EXPECT_EQ(plan.Validate(), std::nullopt);
  EXPECT_EQ(plan.latency_ms, 0);
  EXPECT_EQ(plan.retry_after_seconds, 1);
  for (double draw : {0.0, 0.5, kAlmostOne}) {
    EXPECT_EQ(plan.Pick(draw), FaultKind::kNone) << draw;
  }
}

TEST(FaultPlanTest, SlicesAreLaidOutInOrder) {
  FaultPlan plan;
  plan.error_500_percent = 10;
  plan.error_429_percent = 20;
  plan.timeout_percent = 30;
  plan.reset_percent = 15;
  // Each slice is half-open: [0,10) [10,30) [30,60) [60,75), then none.
  EXPECT_EQ(plan.Pick(0.0), FaultKind::kError500);
  EXPECT_EQ(plan.Pick(JustBelow(10)), FaultKind::kError500);
  EXPECT_EQ(plan.Pick(0.10), FaultKind::kError429);
  EXPECT_EQ(plan.Pick(JustBelow(30)), FaultKind::kError429);
  EXPECT_EQ(plan.Pick(0.30), FaultKind::kTimeout);
  EXPECT_EQ(plan.Pick(JustBelow(60)), FaultKind::kTimeout);
  EXPECT_EQ(plan.Pick(0.60), FaultKind::kReset);
  EXPECT_EQ(plan.Pick(JustBelow(75)), FaultKind::kReset);
  EXPECT_EQ(plan.Pick(0.75), FaultKind::kNone);
  EXPECT_EQ(plan.Pick(kAlmostOne), FaultKind::kNone);
}

TEST(FaultPlanTest, ZeroPercentSlicesAreSkipped) {
  FaultPlan plan;
  plan.timeout_percent = 50;
  EXPECT_EQ(plan.Pick(0.0), FaultKind::kTimeout);
  EXPECT_EQ(plan.Pick(JustBelow(50)), FaultKind::kTimeout);
  EXPECT_EQ(plan.Pick(0.5), FaultKind::kNone);
}

TEST(FaultPlanTest, HundredPercentCoversEveryDraw) {
  for (auto [field, kind] : {std::pair{&FaultPlan::error_500_percent, FaultKind::kError500},
                             std::pair{&FaultPlan::error_429_percent, FaultKind::kError429},
                             std::pair{&FaultPlan::timeout_percent, FaultKind::kTimeout},
                             std::pair{&FaultPlan::reset_percent, FaultKind::kReset}}) {
    FaultPlan plan;
    plan.*field = 100;
    ASSERT_EQ(plan.Validate(), std::nullopt);
    EXPECT_EQ(plan.Pick(0.0), kind);
    EXPECT_EQ(plan.Pick(0.5), kind);
    EXPECT_EQ(plan.Pick(kAlmostOne), kind);
  }
}

TEST(FaultPlanTest, OnePercentIsOnlyTheFirstHundredth) {
  FaultPlan plan;
  plan.reset_percent = 1;
  EXPECT_EQ(plan.Pick(JustBelow(1)), FaultKind::kReset);
  EXPECT_EQ(plan.Pick(0.01), FaultKind::kNone);
}

TEST(FaultPlanTest, ValidateChecksRanges) {
  struct Case {
    int FaultPlan::*field;
    int bad_value;
    const char* param;
  };
  for (const Case& c : std::vector<Case>{
           {&FaultPlan::latency_ms, -1, "latency_ms"},
           {&FaultPlan::latency_ms, 60001, "latency_ms"},
           {&FaultPlan::error_500_percent, 101, "error_500_percent"},
           {&FaultPlan::error_429_percent, -1, "error_429_percent"},
           {&FaultPlan::retry_after_seconds, 3601, "retry_after_seconds"},
           {&FaultPlan::timeout_percent, 101, "timeout_percent"},
           {&FaultPlan::reset_percent, -5, "reset_percent"},
       }) {
    FaultPlan plan;
    plan.*c.field = c.bad_value;
    std::optional<KnobError> error = plan.Validate();
    ASSERT_TRUE(error.has_value()) << c.param << "=" << c.bad_value;
    EXPECT_EQ(error->param, c.param);
    EXPECT_EQ(error->code, "parameter_invalid_integer");
  }
}

TEST(FaultPlanTest, ValidateAcceptsTheBounds) {
  FaultPlan plan;
  plan.latency_ms = 60000;
  plan.retry_after_seconds = 3600;
  plan.error_500_percent = 100;
  EXPECT_EQ(plan.Validate(), std::nullopt);
  plan.retry_after_seconds = 0;
  EXPECT_EQ(plan.Validate(), std::nullopt);
}

TEST(FaultPlanTest, PercentagesMaySumToExactlyHundred) {
  FaultPlan plan;
  plan.error_500_percent = 25;
  plan.error_429_percent = 25;
  plan.timeout_percent = 25;
  plan.reset_percent = 25;
  EXPECT_EQ(plan.Validate(), std::nullopt);
  plan.reset_percent = 26;
  std::optional<KnobError> error = plan.Validate();
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->message.find("101"), std::string::npos) << error->message;
}

TEST(UpdateFaultPlanTest, SetsAnySubset) {
  FaultPlan plan;
  plan.error_500_percent = 20;
  ASSERT_EQ(UpdateFaultPlan({{"timeout_percent", "30"}, {"latency_ms", "250"}}, &plan),
            std::nullopt);
  EXPECT_EQ(plan.error_500_percent, 20);  // Untouched.
  EXPECT_EQ(plan.timeout_percent, 30);
  EXPECT_EQ(plan.latency_ms, 250);
  ASSERT_EQ(UpdateFaultPlan({}, &plan), std::nullopt);
  EXPECT_EQ(plan.timeout_percent, 30);
}

TEST(UpdateFaultPlanTest, SetsEveryKnobByName) {
  FaultPlan plan;
  ASSERT_EQ(UpdateFaultPlan({{"latency_ms", "1"},
                             {"error_500_percent", "2"},
                             {"error_429_percent", "3"},
                             {"retry_after_seconds", "4"},
                             {"timeout_percent", "5"},
                             {"reset_percent", "6"}},
                            &plan),
            std::nullopt);
  EXPECT_EQ(plan.latency_ms, 1);
  EXPECT_EQ(plan.error_500_percent, 2);
  EXPECT_EQ(plan.error_429_percent, 3);
  EXPECT_EQ(plan.retry_after_seconds, 4);
  EXPECT_EQ(plan.timeout_percent, 5);
  EXPECT_EQ(plan.reset_percent, 6);
}

TEST(UpdateFaultPlanTest, AcceptsBoundsAndLeadingZeros) {
  FaultPlan plan;
  EXPECT_EQ(
      UpdateFaultPlan(
          {{"error_429_percent", "100"}, {"latency_ms", "60000"}, {"retry_after_seconds", "0"}},
          &plan),
      std::nullopt);
  EXPECT_EQ(plan.error_429_percent, 100);
  EXPECT_EQ(UpdateFaultPlan({{"error_429_percent", "007"}}, &plan), std::nullopt);
  EXPECT_EQ(plan.error_429_percent, 7);
}

TEST(UpdateFaultPlanTest, RejectsBadValues) {
  struct Case {
    const char* name;
    const char* value;
  };
  for (const Case& c : std::vector<Case>{
           {"error_500_percent", "101"},
           {"error_500_percent", "-1"},
           {"error_500_percent", "+5"},
           {"error_500_percent", " 5"},
           {"error_500_percent", "5.0"},
           {"error_500_percent", "1e2"},
           {"error_500_percent", ""},
           {"error_500_percent", "ten"},
           {"error_500_percent", "99999999999999999999"},
           {"latency_ms", "60001"},
           {"retry_after_seconds", "3601"},
           {"timeout_percent", "0x10"},
           {"reset_percent", "200"},
       }) {
    FaultPlan plan;
    std::optional<KnobError> error = UpdateFaultPlan({{c.name, c.value}}, &plan);
    ASSERT_TRUE(error.has_value()) << c.name << "=" << c.value;
    EXPECT_EQ(error->param, c.name);
    EXPECT_EQ(error->code, "parameter_invalid_integer");
    // Values are not echoed back.
    if (*c.value != '\0') {
      EXPECT_EQ(error->message.find(c.value), std::string::npos) << error->message;
    }
  }
}

TEST(UpdateFaultPlanTest, RejectsUnknownNames) {
  FaultPlan plan;
  std::optional<KnobError> error =
      UpdateFaultPlan({{"error_500", "10"}, {"latency_ms", "5"}}, &plan);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->param, "error_500");
  EXPECT_EQ(error->code, "parameter_unknown");
  EXPECT_EQ(plan.latency_ms, 0);  // Nothing applied from the same request.
}

TEST(UpdateFaultPlanTest, SumOverHundredBlamesTheRequestAndChangesNothing) {
  FaultPlan plan;
  plan.error_500_percent = 60;
  std::optional<KnobError> error =
      UpdateFaultPlan({{"latency_ms", "100"}, {"reset_percent", "41"}}, &plan);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->param, "reset_percent");
  EXPECT_EQ(plan.latency_ms, 0);
  EXPECT_EQ(plan.reset_percent, 0);
  // Lowering one while raising another in the same request is fine.
  EXPECT_EQ(UpdateFaultPlan({{"error_500_percent", "0"}, {"reset_percent", "100"}}, &plan),
            std::nullopt);
  EXPECT_EQ(plan.reset_percent, 100);
}

TEST(FaultInjectorTest, SameSeedSameFaults) {
  FaultPlan plan;
  plan.error_500_percent = 25;
  plan.error_429_percent = 25;
  plan.timeout_percent = 25;
  plan.reset_percent = 20;
  FaultInjector a(plan, 42);
  FaultInjector b(plan, 42);
  FaultInjector c(plan, 43);
  bool differs_from_other_seed = false;
  for (int i = 0; i < 200; ++i) {
    FaultKind kind = a.Decide().kind;
    EXPECT_EQ(kind, b.Decide().kind) << i;
    differs_from_other_seed |= kind != c.Decide().kind;
  }
  EXPECT_TRUE(differs_from_other_seed);
}

TEST(FaultInjectorTest, DrawsTrackThePercentages) {
  FaultPlan plan;
  plan.error_500_percent = 30;
  plan.reset_percent = 10;
  FaultInjector faults(plan, 7);
  int counts[5] = {};
  constexpr int kDraws = 20000;
  for (int i = 0; i < kDraws; ++i) {
    ++counts[static_cast<int>(faults.Decide().kind)];
  }
  // Binomial standard deviations are ~65 and ~42; allow about 6 of them.
  EXPECT_NEAR(counts[static_cast<int>(FaultKind::kError500)], 6000, 400);
  EXPECT_NEAR(counts[static_cast<int>(FaultKind::kReset)], 2000, 250);
  EXPECT_EQ(counts[static_cast<int>(FaultKind::kError429)], 0);
  EXPECT_EQ(counts[static_cast<int>(FaultKind::kTimeout)], 0);
}

TEST(FaultInjectorTest, StateShowsKnobsSeedAndCounters) {
  FaultPlan plan;
  plan.error_500_percent = 100;
  plan.retry_after_seconds = 7;
  FaultInjector faults(plan, 99);
  EXPECT_EQ(faults.Decide().kind, FaultKind::kError500);
  EXPECT_EQ(faults.Decide().kind, FaultKind::kError500);
  ASSERT_EQ(faults.Update({{"error_500_percent", "0"}, {"error_429_percent", "100"}}),
            std::nullopt);
  FaultInjector::Decision decision = faults.Decide();
  EXPECT_EQ(decision.kind, FaultKind::kError429);
  EXPECT_EQ(decision.retry_after_seconds, 7);

  Result state = faults.State();
  EXPECT_EQ(state.http_status, 200);
  // Key order is part of the shape: knobs, seed, then the counters.
  EXPECT_EQ(state.body, R"({"latency_ms":0,"error_500_percent":0,"error_429_percent":100,)"
                        R"("retry_after_seconds":7,"timeout_percent":0,"reset_percent":0,)"
                        R"("seed":99,"injected":{"error_500":2,"error_429":1,)"
                        R"("timeout":0,"reset":0}})");
}

TEST(FaultInjectorTest, RejectedUpdateKeepsTheLiveKnobs) {
  FaultPlan plan;
  plan.timeout_percent = 50;
  FaultInjector faults(plan, 1);
  std::optional<KnobError> error = faults.Update({{"reset_percent", "51"}});
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->param, "reset_percent");
  EXPECT_EQ(faults.plan().timeout_percent, 50);
  EXPECT_EQ(faults.plan().reset_percent, 0);
}

TEST(FaultKindNameTest, NamesMatchTheCounters) {
  EXPECT_EQ(FaultKindName(FaultKind::kNone), "");
  EXPECT_EQ(FaultKindName(FaultKind::kError500), "error_500");
  EXPECT_EQ(FaultKindName(FaultKind::kError429), "error_429");
  EXPECT_EQ(FaultKindName(FaultKind::kTimeout), "timeout");
  EXPECT_EQ(FaultKindName(FaultKind::kReset), "reset");
}

}  // namespace
}  // namespace fakepay
