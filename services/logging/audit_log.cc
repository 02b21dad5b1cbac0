#include "services/logging/audit_log.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/status.h"
#include "core/validation.h"

namespace shop::logging {
namespace {

bool HasNul(const std::string& text) { return text.find('\0') != std::string::npos; }

void ValidateEvent(const shop::v1::AuditEvent& event, int index, FieldViolations& violations) {
  std::string prefix = absl::StrCat("events[", index, "]");
  if (!IsValidId(event.event_id())) {
    violations.Add(prefix + ".event_id", "must be 1-128 printable characters");
  }
  if (event.service().empty() || event.service().size() > 64) {
    violations.Add(prefix + ".service", "must be 1-64 characters");
  }
  if (event.name().empty() || event.name().size() > 256) {
    violations.Add(prefix + ".name", "must be 1-256 characters");
  }
  // PostgreSQL text cannot hold NUL; these columns are indexed text.
  for (const std::string* text : {&event.service(), &event.name(), &event.trace_id(),
                                  &event.order_id(), &event.caller()}) {
    if (HasNul(*text) || text->size() > 1024 || !IsValidUtf8(*text)) {
      violations.Add(prefix, "text fields must be NUL-free UTF-8 of at most 1024 bytes");
      break;
    }
  }
}

}  // namespace

absl::StatusOr<AppendResult> AuditLog::Ingest(const std::vector<shop::v1::AuditEvent>& events) {
  FieldViolations violations;
  for (size_t i = 0; i < events.size() && violations.size() < 20; ++i) {
    ValidateEvent(events[i], static_cast<int>(i), violations);
  }
  SHOP_RETURN_IF_ERROR(violations.ToStatus("malformed audit events"));
  if (events.empty()) return AppendResult{};
  return store_->Append(events);
}

absl::StatusOr<shop::v1::QueryResponse> AuditLog::Query(const shop::v1::QueryRequest& request) {
  FieldViolations violations;
  if (request.trace_id().empty() && request.order_id().empty() && request.service().empty()) {
    violations.Add("trace_id", "give at least one of trace_id, order_id, service");
  }
  if (request.page_size() < 0 || request.page_size() > 1000) {
    violations.Add("page_size", "must be between 0 and 1000");
  }
  QueryFilter filter;
  if (!request.page_token().empty() &&
      (!absl::SimpleAtoi(request.page_token(), &filter.after_sequence) ||
       filter.after_sequence < 0)) {
    violations.Add("page_token", "is not a token this service issued");
  }
  for (const std::string* text : {&request.trace_id(), &request.order_id(), &request.service()}) {
    if (HasNul(*text) || text->size() > 256 || !IsValidUtf8(*text)) {
      violations.Add("filter", "filters must be NUL-free UTF-8 of at most 256 bytes");
      break;
    }
  }
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  filter.trace_id = request.trace_id();
  filter.order_id = request.order_id();
  filter.service = request.service();
  filter.limit = request.page_size() == 0 ? 100 : request.page_size();
  SHOP_ASSIGN_OR_RETURN(std::vector<shop::v1::AuditRecord> records, store_->Query(filter));
  shop::v1::QueryResponse response;
  if (static_cast<int>(records.size()) > filter.limit) {
    records.resize(filter.limit);
    response.set_next_page_token(std::to_string(records.back().sequence()));
  }
  for (auto& record : records) *response.add_records() = std::move(record);
  return response;
}

LocalAuditSink::LocalAuditSink(AuditStore* store) : store_(store) {
  thread_ = std::thread([this] { Run(); });
}

LocalAuditSink::~LocalAuditSink() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void LocalAuditSink::Emit(shop::v1::AuditEvent event) {
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= 100000) return;  // the database is away: keep memory bounded
  queue_.push_back(std::move(event));
}

void LocalAuditSink::Run() {
  while (true) {
    std::vector<shop::v1::AuditEvent> batch;
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      while (!queue_.empty() && batch.size() < 500) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      stopping = stopping_ && queue_.empty();
    }
    if (!batch.empty()) {
      absl::StatusOr<AppendResult> result = store_->Append(batch);
      if (!result.ok()) {
        log::Error("cannot store own audit events",
                   {{"error", std::string(result.status().message())},
                    {"events", static_cast<int64_t>(batch.size())}});
        absl::MutexLock lock(&mu_);
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(*it);
        if (stopping_) return;
        auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
        mu_.AwaitWithTimeout(absl::Condition(&stop), absl::Seconds(1));
        continue;
      }
    }
    if (stopping) return;
  }
}

}  // namespace shop::logging
