// The saga's journal vocabulary: its steps and their states, as stored in
// saga_steps (step, state) and named on spans ("saga.<step>"). One
// definition, so a misspelt step is a build error.
#ifndef SHOP_SERVICES_OPS_SAGA_JOURNAL_H_
#define SHOP_SERVICES_OPS_SAGA_JOURNAL_H_

#include "absl/strings/string_view.h"

namespace shop::ops {

enum class SagaStep { kReserve, kAuthorize, kCommitStock, kCapture, kCompensate, kCancel };
enum class StepState { kStarted, kDone, kFailed };

// "reserve", "authorize", "commit_stock", "capture", "compensate", "cancel".
absl::string_view SagaStepName(SagaStep step);
// "STARTED", "DONE", "FAILED".
absl::string_view StepStateName(StepState state);

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_SAGA_JOURNAL_H_
