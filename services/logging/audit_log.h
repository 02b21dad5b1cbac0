// The central audit log: validates and stores events (idempotent by
// event_id) and answers queries by trace, order and service.
#ifndef SHOP_SERVICES_LOGGING_AUDIT_LOG_H_
#define SHOP_SERVICES_LOGGING_AUDIT_LOG_H_

#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/audit.h"
#include "shop/v1/audit.pb.h"

namespace shop::logging {

struct AppendResult {
  int64_t accepted = 0;
  int64_t duplicates = 0;
};

struct QueryFilter {
  std::string trace_id;
  std::string order_id;
  std::string service;
  int64_t after_sequence = 0;
  int limit = 100;
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;
  virtual absl::StatusOr<AppendResult> Append(const std::vector<shop::v1::AuditEvent>& events) = 0;
  virtual absl::StatusOr<std::vector<shop::v1::AuditRecord>> Query(const QueryFilter& filter) = 0;
};

class AuditLog {
 public:
  explicit AuditLog(AuditStore* store) : store_(store) {}
  // INVALID_ARGUMENT (nothing stored) when any event is malformed.
  absl::StatusOr<AppendResult> Ingest(const std::vector<shop::v1::AuditEvent>& events);
  absl::StatusOr<shop::v1::QueryResponse> Query(const shop::v1::QueryRequest& request);

 private:
  AuditStore* store_;
};

// The logging service's own events go straight to its store, from a
// background thread, so that serving a query never waits on an insert.
class LocalAuditSink final : public AuditSink {
 public:
  explicit LocalAuditSink(AuditStore* store);
  ~LocalAuditSink() override;
  void Emit(shop::v1::AuditEvent event) override;

 private:
  void Run();
  AuditStore* store_;
  absl::Mutex mu_;
  std::deque<shop::v1::AuditEvent> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace shop::logging

#endif  // SHOP_SERVICES_LOGGING_AUDIT_LOG_H_
