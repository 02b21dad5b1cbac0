#include "tools/fakepay/faults.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace fakepay {
namespace {

using OJson = nlohmann::ordered_json;

// One row per knob: its public name (form field and JSON key), its field,
// and its inclusive range. The order is the order of the JSON answer.
struct Knob {
  const char* name;
  int FaultPlan::*field;
  int max;
  bool is_percent;
};

constexpr Knob kKnobs[] = {
    {"latency_ms", &FaultPlan::latency_ms, FaultPlan::kMaxLatencyMs, false},
    {"error_500_percent", &FaultPlan::error_500_percent, 100, true},
    {"error_429_percent", &FaultPlan::error_429_percent, 100, true},
    {"retry_after_seconds", &FaultPlan::retry_after_seconds, FaultPlan::kMaxRetryAfterSeconds,
     false},
    {"timeout_percent", &FaultPlan::timeout_percent, 100, true},
    {"reset_percent", &FaultPlan::reset_percent, 100, true},
};

constexpr FaultKind kInjectedKinds[] = {FaultKind::kError500, FaultKind::kError429,
                                        FaultKind::kTimeout, FaultKind::kReset};

const Knob* FindKnob(absl::string_view name) {
  for (const Knob& knob : kKnobs) {
    if (name == knob.name) return &knob;
  }
  return nullptr;
}

KnobError OutOfRange(const Knob& knob) {
  return {knob.name, "parameter_invalid_integer",
          absl::StrCat(knob.name, " must be an integer from 0 to ", knob.max, ".")};
}

// Accepts plain decimal digits only: no sign, no spaces, no exponent, which
// absl::SimpleAtoi would otherwise let through. The result is never
// negative.
std::optional<int> ParseKnobValue(absl::string_view value) {
  if (value.empty()) return std::nullopt;
  for (char c : value) {
    if (!absl::ascii_isdigit(c)) return std::nullopt;
  }
  while (value.size() > 1 && value[0] == '0') value.remove_prefix(1);
  // Nine digits cannot overflow an int; anything longer is out of range for
  // every knob anyway.
  int parsed = 0;
  if (value.size() > 9 || !absl::SimpleAtoi(value, &parsed)) {
    return std::nullopt;
  }
  return parsed;
}

int PercentSum(const FaultPlan& plan) {
  return plan.error_500_percent + plan.error_429_percent + plan.timeout_percent +
         plan.reset_percent;
}

KnobError SumTooLarge(const FaultPlan& plan, const char* param) {
  return {param, "",
          absl::StrCat("The fault percentages add up to ", PercentSum(plan),
                       "; error_500_percent + error_429_percent + "
                       "timeout_percent + reset_percent must be at most 100.")};
}

}  // namespace

absl::string_view FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone:
      return "";
    case FaultKind::kError500:
      return "error_500";
    case FaultKind::kError429:
      return "error_429";
    case FaultKind::kTimeout:
      return "timeout";
    case FaultKind::kReset:
      return "reset";
  }
  return "";
}

std::optional<KnobError> FaultPlan::Validate() const {
  for (const Knob& knob : kKnobs) {
    int value = this->*knob.field;
    if (value < 0 || value > knob.max) return OutOfRange(knob);
  }
  if (PercentSum(*this) > 100) return SumTooLarge(*this, "error_500_percent");
  return std::nullopt;
}

FaultKind FaultPlan::Pick(double draw) const {
  // Compare the draw itself against each cumulative bound as a fraction.
  // Scaling the draw to percent instead would round draws just below a
  // bound (e.g. the double before 0.1, times 100) up onto it.
  int bound = 0;
  const std::pair<int, FaultKind> slices[] = {
      {error_500_percent, FaultKind::kError500},
      {error_429_percent, FaultKind::kError429},
      {timeout_percent, FaultKind::kTimeout},
      {reset_percent, FaultKind::kReset},
  };
  for (const auto& [percent, kind] : slices) {
    bound += percent;
    if (draw < bound / 100.0) return kind;
  }
  return FaultKind::kNone;
}

std::optional<KnobError> UpdateFaultPlan(const Params& params, FaultPlan* plan) {
  FaultPlan updated = *plan;
  // A sum over 100 is blamed on a percentage this request sets (the first
  // by name, as `params` is sorted): the stored plan was valid, so one of
  // them pushed it over.
  const char* first_percent = nullptr;
  for (const auto& [name, value] : params) {
    const Knob* knob = FindKnob(name);
    if (knob == nullptr) {
      // Names are echoed (short ones only); values never are, as elsewhere.
      return KnobError{name, "parameter_unknown",
                       name.size() <= 64 ? absl::StrCat("Received unknown parameter: ", name)
                                         : std::string("Received unknown parameter.")};
    }
    std::optional<int> parsed = ParseKnobValue(value);
    if (!parsed.has_value() || *parsed > knob->max) return OutOfRange(*knob);
    updated.*knob->field = *parsed;
    if (knob->is_percent && first_percent == nullptr) {
      first_percent = knob->name;
    }
  }
  if (PercentSum(updated) > 100) {
    return SumTooLarge(updated, first_percent != nullptr ? first_percent : "error_500_percent");
  }
  if (std::optional<KnobError> error = updated.Validate()) return error;
  *plan = updated;
  return std::nullopt;
}

FaultInjector::FaultInjector(const FaultPlan& plan, uint64_t seed)
    : seed_(seed), plan_(plan), rng_(seed) {}

FaultInjector::Decision FaultInjector::Decide() {
  absl::MutexLock lock(&mu_);
  // 53 random bits scaled into [0, 1). Done by hand because the standard
  // distributions are not specified bit-for-bit, and a seed should give the
  // same faults with any standard library.
  double draw = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  Decision decision{plan_.Pick(draw), plan_.retry_after_seconds};
  if (decision.kind != FaultKind::kNone) {
    ++injected_[static_cast<size_t>(decision.kind)];
  }
  return decision;
}

FaultPlan FaultInjector::plan() const {
  absl::MutexLock lock(&mu_);
  return plan_;
}

std::optional<KnobError> FaultInjector::Update(const Params& params) {
  absl::MutexLock lock(&mu_);
  return UpdateFaultPlan(params, &plan_);
}

Result FaultInjector::State() const {
  absl::MutexLock lock(&mu_);
  OJson body = OJson::object();
  for (const Knob& knob : kKnobs) body[knob.name] = plan_.*knob.field;
  body["seed"] = seed_;
  OJson injected = OJson::object();
  for (FaultKind kind : kInjectedKinds) {
    injected[std::string(FaultKindName(kind))] = injected_[static_cast<size_t>(kind)];
  }
  body["injected"] = std::move(injected);
  return Result{200, body.dump()};
}

}  // namespace fakepay
