// The interceptors of every server and channel of the mesh.
//
// - Server interceptor: one SERVER_SPAN per served RPC, and the
//   authorization verdict for the call (see core/grpc/call_context.h).
// - Client interceptor (on every channel made by MakeChannel): one
//   CLIENT_SPAN per outgoing RPC; it passes the W3C traceparent on with its
//   own span id, so the server's span is its child.
#ifndef SHOP_CORE_GRPC_INTERCEPTORS_H_
#define SHOP_CORE_GRPC_INTERCEPTORS_H_

#include <memory>
#include <string>

#include "core/span.h"

namespace grpc::experimental {
class ServerInterceptorFactoryInterface;
class ClientInterceptorFactoryInterface;
}  // namespace grpc::experimental

namespace shop {

class AuthzPolicyHolder;

// The interceptor on every server of the mesh. Per call it
// - decides the span (continuing an incoming traceparent) and hands it to the
//   handler in the x-shop-span header (see ScopedTrace);
// - checks the caller's SPIFFE id against `policy` for the method and hands
//   the verdict to the handler in x-shop-authz (SHOP_RPC_ENTER enforces it);
// - emits one SERVER_SPAN event (except for health checks) with the caller,
//   the status, and the order/customer ids found in the messages.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeServerInterceptorFactory(
    std::string service, AuditSink* sink, std::shared_ptr<AuthzPolicyHolder> policy);

// The interceptor on every channel: continues the trace of the outgoing
// call's traceparent (set by PrepareClientContext) or of the current span, or
// starts one; rewrites traceparent to its own CLIENT span and emits that span
// to the process sink. `typed_messages` = the channel's calls use generated
// stubs (so ids can be read from the messages); false for generic stubs.
std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> MakeClientInterceptorFactory(
    std::string target, bool typed_messages);

}  // namespace shop

#endif  // SHOP_CORE_GRPC_INTERCEPTORS_H_
