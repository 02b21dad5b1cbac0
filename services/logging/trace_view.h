// Views of stored events for people and tools: span trees (GetTrace) and
// OTLP/JSON (ExportTrace). Pure functions of the events.
#ifndef SHOP_SERVICES_LOGGING_TRACE_VIEW_H_
#define SHOP_SERVICES_LOGGING_TRACE_VIEW_H_

#include <string>
#include <vector>

#include "shop/v1/audit.pb.h"

namespace shop::logging {

// Children under their parent span, by start time; spans whose parent is not
// among `events` are roots. Duplicated span ids keep the first event.
shop::v1::GetTraceResponse BuildTraceTrees(std::vector<shop::v1::AuditEvent> events);

// An OTLP ExportTraceServiceRequest in the protobuf JSON mapping that OTLP/HTTP
// uses: one resourceSpans per service (resource attribute service.name),
// lower-case hex ids, integer enums (kind: 1 internal, 2 server, 3 client;
// status code: 0 unset, 2 error), times as decimal strings of Unix
// nanoseconds. Business events become span events of their parent span (or
// zero-length internal spans when the parent is not in the trace).
std::string ToOtlpJson(const std::vector<shop::v1::AuditEvent>& events);

}  // namespace shop::logging

#endif  // SHOP_SERVICES_LOGGING_TRACE_VIEW_H_
