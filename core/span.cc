#include "core/span.h"

#include <google/protobuf/util/time_util.h>

#include <atomic>
#include <chrono>
#include <utility>

#include "core/ids.h"

namespace shop {
namespace {

using shop::v1::AuditEvent;

std::atomic<AuditSink*> process_sink{nullptr};

struct ProcessIdentity {
  std::string service;
  std::string spiffe_id;
};
ProcessIdentity& Identity() {
  static ProcessIdentity* identity = new ProcessIdentity();
  return *identity;
}

}  // namespace

google::protobuf::Timestamp TimestampNow() {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

const std::string& ProcessServiceName() { return Identity().service; }
const std::string& ProcessSpiffeId() { return Identity().spiffe_id; }

void SetProcessAuditSink(AuditSink* sink) { process_sink.store(sink); }
AuditSink* ProcessAuditSink() { return process_sink.load(std::memory_order_relaxed); }

void SetProcessIdentity(absl::string_view service, absl::string_view spiffe_id) {
  Identity().service = std::string(service);
  Identity().spiffe_id = std::string(spiffe_id);
}

AuditEvent NewBusinessEvent(absl::string_view name, absl::string_view order_id,
                            const std::map<std::string, std::string>& attributes) {
  AuditEvent event;
  event.set_event_id(NewTimeOrderedUuid());
  event.set_kind(shop::v1::EVENT_KIND_BUSINESS);
  event.set_service(Identity().service);
  event.set_name(std::string(name));
  event.set_order_id(std::string(order_id));
  *event.mutable_start_time() = TimestampNow();
  *event.mutable_end_time() = event.start_time();
  if (const TraceContext* trace = CurrentTrace()) {
    event.set_trace_id(trace->trace_id);
    event.set_parent_span_id(trace->span_id);
  } else {
    event.set_trace_id(NewTraceId());
  }
  event.set_span_id(NewSpanId());
  for (const auto& [key, value] : attributes) (*event.mutable_attributes())[key] = value;
  return event;
}

Span::Span(absl::string_view name, absl::string_view order_id) : previous_(CurrentTrace()) {
  if (previous_ != nullptr) {
    trace_.trace_id = previous_->trace_id;
    trace_.parent_span_id = previous_->span_id;
    trace_.tracestate = previous_->tracestate;
  } else {
    trace_.trace_id = NewTraceId();
  }
  trace_.span_id = NewSpanId();
  SetCurrentTrace(&trace_);
  active_ = ProcessAuditSink() != nullptr;
  if (!active_) return;
  event_.set_kind(shop::v1::EVENT_KIND_INTERNAL_SPAN);
  event_.set_service(Identity().service);
  event_.set_name(std::string(name));
  event_.set_order_id(std::string(order_id));
  event_.set_trace_id(trace_.trace_id);
  event_.set_span_id(trace_.span_id);
  event_.set_parent_span_id(trace_.parent_span_id);
  event_.set_caller(Identity().spiffe_id);
  *event_.mutable_start_time() = TimestampNow();
}

Span::~Span() {
  SetCurrentTrace(previous_);
  if (!active_) return;
  AuditSink* sink = ProcessAuditSink();
  if (sink == nullptr) return;
  event_.set_event_id(NewTimeOrderedUuid());
  *event_.mutable_end_time() = TimestampNow();
  sink->Emit(std::move(event_));
}

void Span::SetAttribute(absl::string_view key, absl::string_view value) {
  if (active_) (*event_.mutable_attributes())[std::string(key)] = std::string(value);
}

void Span::SetAttribute(absl::string_view key, int64_t value) {
  SetAttribute(key, std::to_string(value));
}

void Span::SetStatus(const absl::Status& status) {
  if (!active_) return;
  event_.set_status_code(static_cast<int>(status.code()));
  event_.set_status_message(std::string(status.message().substr(0, 1024)));
}
}  // namespace shop
