// Test helper: an audit sink that keeps what is emitted to it, thread-safe.
#ifndef SHOP_CORE_TESTING_RECORDING_SINK_H_
#define SHOP_CORE_TESTING_RECORDING_SINK_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/span.h"

namespace shop::testing {

class RecordingSink final : public AuditSink {
 public:
  void Emit(shop::v1::AuditEvent event) override {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(event));
  }
  std::vector<shop::v1::AuditEvent> events() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  std::vector<std::string> names() const {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> names;
    for (const auto& event : events_) names.push_back(event.name());
    return names;
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    events_.clear();
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<shop::v1::AuditEvent> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shop::testing

#endif  // SHOP_CORE_TESTING_RECORDING_SINK_H_
