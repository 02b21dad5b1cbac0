#include "services/pg-adapter/circuit_breaker.h"

#include "core/log.h"

namespace shop::payments {

const char* CircuitStateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half-open";
  }
  return "closed";
}

CircuitBreaker::CircuitBreaker(Options options, Clock* clock) : options_(options), clock_(clock) {}

void CircuitBreaker::SetListener(Listener listener) {
  absl::MutexLock lock(&mu_);
  listener_ = std::move(listener);
}

bool CircuitBreaker::Allow() {
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    switch (state_) {
      case State::kClosed:
        return true;
      case State::kOpen:
        if (clock_->Now() - opened_at_ < options_.cool_down) return false;
        state_ = State::kHalfOpen;
        probe_in_flight_ = true;
        changed = true;
        break;
      case State::kHalfOpen:
        if (probe_in_flight_) return false;
        probe_in_flight_ = true;
        return true;
    }
  }
  if (changed) Notify(State::kHalfOpen);
  return true;
}

void CircuitBreaker::RecordSuccess() {
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    consecutive_failures_ = 0;
    probe_in_flight_ = false;
    changed = state_ != State::kClosed;
    state_ = State::kClosed;
  }
  if (changed) Notify(State::kClosed);
}

void CircuitBreaker::RecordFailure() {
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    ++consecutive_failures_;
    probe_in_flight_ = false;
    if (state_ == State::kHalfOpen ||
        (state_ == State::kClosed && consecutive_failures_ >= options_.failure_threshold)) {
      state_ = State::kOpen;
      opened_at_ = clock_->Now();
      changed = true;
    }
  }
  if (changed) Notify(State::kOpen);
}

CircuitBreaker::State CircuitBreaker::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

void CircuitBreaker::Notify(State state) {
  Listener listener;
  {
    absl::MutexLock lock(&mu_);
    listener = listener_;
  }
  (state == State::kOpen ? log::Warn : log::Info)("payment gateway circuit breaker",
                                                  {{"state", CircuitStateName(state)}});
  if (listener) listener(state);
}

}  // namespace shop::payments
