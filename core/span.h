// Spans and business events as the domain sees them: an internal span around
// a step that explains latency (a saga step, a database transaction, a gateway
// HTTPS attempt) and business events, both sent to the process's audit sink.
// No gRPC here: the interceptors (core/grpc/interceptors.h) and the exporter
// (core/grpc/audit_exporter.h) build on this.
#ifndef SHOP_CORE_SPAN_H_
#define SHOP_CORE_SPAN_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/trace.h"
#include "shop/v1/audit.pb.h"

namespace shop {

// Where events go. Emit never blocks on I/O and never fails the caller.
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual void Emit(shop::v1::AuditEvent event) = 0;
};

// The sink of this process (client spans, internal spans); null = tracing
// off. Set once at start-up, before serving.
void SetProcessAuditSink(AuditSink* sink);
AuditSink* ProcessAuditSink();
// Who this process is: `service` names its events, `spiffe_id` is the caller
// on its client spans.
void SetProcessIdentity(absl::string_view service, absl::string_view spiffe_id);
const std::string& ProcessServiceName();
const std::string& ProcessSpiffeId();

// The current time as an event timestamp.
google::protobuf::Timestamp TimestampNow();

// A business event stamped with a fresh id, the time and the current trace.
shop::v1::AuditEvent NewBusinessEvent(absl::string_view name, absl::string_view order_id,
                                      const std::map<std::string, std::string>& attributes = {});

// An internal span: a child of the current span (or the root of a new trace
// when there is none), current on this thread while it lives, emitted to the
// process sink when destroyed.
class Span {
 public:
  explicit Span(absl::string_view name, absl::string_view order_id = "");
  ~Span();
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  void SetAttribute(absl::string_view key, absl::string_view value);
  void SetAttribute(absl::string_view key, int64_t value);
  // The span's outcome (OK unless set).
  void SetStatus(const absl::Status& status);
  const TraceContext& trace() const { return trace_; }

 private:
  TraceContext trace_;
  const TraceContext* previous_;
  shop::v1::AuditEvent event_;
  bool active_ = false;
};

}  // namespace shop

#endif  // SHOP_CORE_SPAN_H_
