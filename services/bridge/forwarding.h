// What crosses the bridge besides the message: HTTP headers → gRPC metadata
// and deadline, the trace context and the bridge's own span, backend
// metadata → HTTP headers, and CORS.
//
// Tracing: the bridge is the edge of the mesh, so it is a hop of the trace
// like any service. Per request (but /healthz and CORS preflights) it
// continues the caller's W3C trace (a valid traceparent) or starts one, takes
// a new span id, sends traceparent = (trace id, its span id) to the backend
// and returns it to the client, and records one SERVER span (HttpServerSpan)
// to the process audit sink. The span holds no header value but User-Agent:
// Authorization and cookies must never reach the log.
//
// Forwarded to the backend: Authorization (as `authorization`),
// `Grpc-Metadata-<key>: v` (as `<key>: v`; `-bin` keys are base64 in HTTP),
// tracestate (the traceparent is the bridge's, see above). Never forwarded:
// any key starting with `x-shop-`, however it arrives (as a plain header or
// as Grpc-Metadata-X-Shop-...). Those headers carry what the mesh trusts from
// an authenticated mTLS caller (the end user in x-shop-customer-id, span and
// authorization verdicts), and the bridge is such a caller: passing a
// browser's value on would let anyone act as any customer. Reserved gRPC keys
// (grpc-*, content-type, te, ...) are not forwarded either. Backend metadata
// coming back is filtered the same way.
#ifndef SHOP_SERVICES_BRIDGE_FORWARDING_H_
#define SHOP_SERVICES_BRIDGE_FORWARDING_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "shop/v1/audit.pb.h"

namespace shop::bridge {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

inline constexpr char kMetadataHeaderPrefix[] = "grpc-metadata-";
inline constexpr char kInternalHeaderPrefix[] = "x-shop-";

// A gRPC timeout header value: 1..8 digits and a unit (H, M, S, m, u, n).
absl::StatusOr<absl::Duration> ParseGrpcTimeout(absl::string_view text);

struct ForwardingOptions {
  absl::Duration default_timeout = absl::Seconds(10);
  absl::Duration max_timeout = absl::Seconds(30);
};

// The W3C trace context of one request and the bridge's span in it: the
// caller's trace when its traceparent is valid (the caller's span is then the
// parent of the bridge's), else a new trace. The span id is new either way.
struct CallTrace {
  std::string trace_id;
  std::string span_id;         // the bridge's span
  std::string parent_span_id;  // the caller's span; empty when the bridge started the trace
  std::string tracestate;      // only with the caller's traceparent
  // (trace_id, span_id): sent to the backend, returned to the client.
  std::string traceparent;
};
// Client-chosen text made safe for logs and events: printable ASCII only
// (the rest as '?'), at most `max_bytes`.
std::string SafeText(absl::string_view text, size_t max_bytes);

CallTrace ContinueOrStartTrace(const HeaderList& headers);

// What the bridge's SERVER span says of one HTTP request. Client-controlled
// text is made safe (and short) by ServerSpanEvent, not here.
struct HttpServerSpan {
  CallTrace trace;
  absl::Time start_time;
  absl::Time end_time;
  std::string http_method;  // as received
  // The template the request was dispatched to ("/v1/orders/{order_id}", or
  // the bridge's own "/openapi.json"); empty when none was (404, 405, ...).
  std::string route;
  std::string grpc_method;  // "/shop.v1.CustomerService/GetOrder" when a route matched
  std::string path;         // the request path, without the query
  std::string peer_address;
  std::string user_agent;
  std::string order_id;  // bound by the route's path, if any
  int http_status = 0;
  int code = 0;  // gRPC code of the outcome: the one in the error body
  std::string message;
};

// Name of the span of a request no route was chosen for, after the method.
inline constexpr char kUnmatchedRoute[] = "<unmatched>";

// The span as an audit event (EVENT_KIND_SERVER_SPAN of service "bridge"),
// named "<METHOD> <route>" (never the raw path: names must stay few), with
// the OpenTelemetry HTTP server attributes.
shop::v1::AuditEvent ServerSpanEvent(const HttpServerSpan& span);

struct OutgoingCall {
  HeaderList metadata;  // lower-case keys, for the backend call
  absl::Duration timeout;
};

// From the request headers (any case). INVALID_ARGUMENT on a bad
// Grpc-Timeout, a metadata key or value gRPC cannot carry, or bad base64 in a
// -bin value. The timeout is Grpc-Timeout or the default, capped by the max.
absl::StatusOr<OutgoingCall> PrepareOutgoingCall(const HeaderList& headers, const CallTrace& trace,
                                                 const ForwardingOptions& options);

// Backend metadata → response headers: `Grpc-Metadata-<key>` for initial
// metadata, `Grpc-Trailer-<key>` for trailing metadata (binary values in
// base64); internal and reserved keys are dropped.
HeaderList ResponseHeadersFromMetadata(const HeaderList& initial, const HeaderList& trailing);

// CORS for browser frontends: exact origins ("https://a.example"), or "*"
// (any origin, but then never with credentials).
class CorsPolicy {
 public:
  // INVALID_ARGUMENT for an origin that is not scheme://host[:port].
  static absl::StatusOr<CorsPolicy> Create(const std::vector<std::string>& origins);

  bool enabled() const { return any_ || !origins_.empty(); }
  bool Allows(absl::string_view origin) const;

  // Headers for an actual response to `origin` (none if it is not allowed),
  // exposing `exposed` (traceparent, Grpc-Metadata-*, ... present on it).
  HeaderList ResponseHeaders(absl::string_view origin,
                             const std::vector<std::string>& exposed) const;

  // Headers answering a preflight from an allowed `origin` for a path that
  // accepts `methods`; `requested_headers` is Access-Control-Request-Headers.
  HeaderList PreflightHeaders(absl::string_view origin, const std::vector<std::string>& methods,
                              absl::string_view requested_headers) const;

 private:
  bool any_ = false;
  std::vector<std::string> origins_;
};

}  // namespace shop::bridge

#endif  // SHOP_SERVICES_BRIDGE_FORWARDING_H_
