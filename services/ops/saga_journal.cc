#include "services/ops/saga_journal.h"

namespace shop::ops {

absl::string_view SagaStepName(SagaStep step) {
  switch (step) {
    case SagaStep::kReserve:
      return "reserve";
    case SagaStep::kAuthorize:
      return "authorize";
    case SagaStep::kCommitStock:
      return "commit_stock";
    case SagaStep::kCapture:
      return "capture";
    case SagaStep::kCompensate:
      return "compensate";
    case SagaStep::kCancel:
      return "cancel";
  }
  return "unknown";
}

absl::string_view StepStateName(StepState state) {
  switch (state) {
    case StepState::kStarted:
      return "STARTED";
    case StepState::kDone:
      return "DONE";
    case StepState::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

}  // namespace shop::ops
