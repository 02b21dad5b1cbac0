// The gRPC side of a call's trace context: ScopedTrace makes the span the
// server interceptor decided (core/grpc/interceptors.h) current on the
// handler's thread, with the call's authorization verdict, and
// PrepareClientContext passes the current span and deadline on to every
// outgoing call.
#ifndef SHOP_CORE_GRPC_CALL_CONTEXT_H_
#define SHOP_CORE_GRPC_CALL_CONTEXT_H_

#include <grpcpp/support/status.h>

#include <chrono>

#include "core/trace.h"

namespace grpc {
class ClientContext;
class ServerContext;
}  // namespace grpc

namespace shop {

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
#define SHOP_RPC_ENTER(ctx)                                    \
  ::shop::ScopedTrace shop_rpc_scope_(*(ctx));                 \
  if (shop_rpc_scope_.permission_denied())                     \
  return ::grpc::Status(::grpc::StatusCode::PERMISSION_DENIED, \
                        "caller is not allowed to call this method")

// Adds the current trace (as traceparent) to an outgoing call and sets its
// deadline to `timeout` from now, or the incoming call's deadline if sooner
// and `inherit_deadline`. (A saga step must not inherit: its compensation has
// to run even when the caller has stopped waiting.)
void PrepareClientContext(grpc::ClientContext& ctx, std::chrono::milliseconds timeout,
                          bool inherit_deadline = true);

}  // namespace shop

#endif  // SHOP_CORE_GRPC_CALL_CONTEXT_H_
