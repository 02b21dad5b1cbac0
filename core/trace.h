// W3C trace context for the mesh. The server interceptor (core/audit.h)
// decides the span of each incoming call and hands it to the handler in the
// private header x-shop-span; ScopedTrace makes it current on the handler's
// thread, and PrepareClientContext passes it on to every outgoing call.
#ifndef SHOP_CORE_TRACE_H_
#define SHOP_CORE_TRACE_H_

#include "absl/strings/string_view.h"
#include <grpcpp/support/status.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace grpc {
class ClientContext;
class ServerContext;
}  // namespace grpc

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

// Makes the span of `ctx` current on this thread (trace id on log lines,
// parent of outgoing calls) and carries its deadline onward.
class ScopedTrace {
 public:
  explicit ScopedTrace(const grpc::ServerContext& ctx);
  ~ScopedTrace();
  ScopedTrace(const ScopedTrace&) = delete;
  ScopedTrace& operator=(const ScopedTrace&) = delete;

  const TraceContext& trace() const { return trace_; }
  // True unless the interceptor allowed this caller for this method (fail
  // closed: no verdict is a denial).
  bool permission_denied() const { return denied_; }

 private:
  TraceContext trace_;
  bool denied_ = true;
  const TraceContext* previous_;
  std::chrono::system_clock::time_point previous_deadline_;
};

// First line of every handler: makes the call's span current and refuses
// callers that the authorization policy does not allow.
#define SHOP_RPC_ENTER(ctx)                                                    \
  ::shop::ScopedTrace shop_rpc_scope_(*(ctx));                                 \
  if (shop_rpc_scope_.permission_denied())                                     \
    return ::grpc::Status(::grpc::StatusCode::PERMISSION_DENIED,               \
                          "caller is not allowed to call this method")

// Adds the current trace (as traceparent) to an outgoing call and sets its
// deadline to `timeout` from now, or the incoming call's deadline if sooner
// and `inherit_deadline`. (A saga step must not inherit: its compensation has
// to run even when the caller has stopped waiting.)
void PrepareClientContext(grpc::ClientContext& ctx, std::chrono::milliseconds timeout,
                          bool inherit_deadline = true);

}  // namespace shop

#endif  // SHOP_CORE_TRACE_H_
