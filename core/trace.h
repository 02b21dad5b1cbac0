// W3C trace context for the mesh: ids, the traceparent header, and the span
// current on this thread. The gRPC side (core/grpc/call_context.h) makes an
// incoming call's span current and passes it on to outgoing calls.
#ifndef SHOP_CORE_TRACE_H_
#define SHOP_CORE_TRACE_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace shop {

inline constexpr char kTraceparentHeader[] = "traceparent";
inline constexpr char kTracestateHeader[] = "tracestate";
// Set by the server interceptor, read by ScopedTrace: "<trace>:<span>:<parent>".
inline constexpr char kServerSpanHeader[] = "x-shop-span";
// The interceptor's authorization verdict for the call, read by ScopedTrace.
inline constexpr char kAuthzHeader[] = "x-shop-authz";
inline constexpr char kAuthzAllow[] = "allow";
inline constexpr char kAuthzDeny[] = "deny";
// The end user an edge call acts for (trusted only from allowed callers).
inline constexpr char kCustomerHeader[] = "x-shop-customer-id";
// Set by a handler that authenticated its end user (e.g. from a JWT); the
// server interceptor records it on the call's span and removes it from the
// trailers before they leave the process.
inline constexpr char kEndUserTrailer[] = "x-shop-end-user";

struct TraceContext {
  std::string trace_id;        // 32 lower-case hex
  std::string span_id;         // 16 lower-case hex
  std::string parent_span_id;  // empty for a root span
  std::string tracestate;
};

std::string NewTraceId();
std::string NewSpanId();

// Parses a version-00 traceparent ("00-<trace>-<span>-<flags>"); nullopt when
// malformed or when the ids are all zero, as the W3C spec requires.
std::optional<TraceContext> ParseTraceparent(absl::string_view header);
std::string FormatTraceparent(absl::string_view trace_id, absl::string_view span_id);

std::string EncodeServerSpan(const TraceContext& trace);
std::optional<TraceContext> DecodeServerSpan(absl::string_view value);

// The span of the RPC this thread is serving (or of the innermost internal
// span), if any.
const TraceContext* CurrentTrace();
// Replaces the current span of this thread (internal spans use it; restore
// the previous one when done). Also sets the trace id of log lines.
void SetCurrentTrace(const TraceContext* trace);

}  // namespace shop

#endif  // SHOP_CORE_TRACE_H_
