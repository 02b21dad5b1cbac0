#include "core/grpc/call_context.h"

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include <optional>
#include <string>
#include <string_view>

namespace shop {
namespace {

// The deadline of the call this thread is serving, carried onward.
thread_local std::chrono::system_clock::time_point current_deadline =
    std::chrono::system_clock::time_point::max();

}  // namespace

ScopedTrace::ScopedTrace(const grpc::ServerContext& ctx)
    : previous_(CurrentTrace()), previous_deadline_(current_deadline) {
  const auto& metadata = ctx.client_metadata();
  std::optional<TraceContext> decided;
  if (auto it = metadata.find(kServerSpanHeader); it != metadata.end()) {
    decided = DecodeServerSpan(absl::string_view(it->second.data(), it->second.size()));
  }
  if (!decided) {
    // No interceptor ran (e.g. a unit test): start a root span here.
    decided = TraceContext{NewTraceId(), NewSpanId(), "", ""};
  }
  trace_ = *decided;
  if (auto it = metadata.find(kAuthzHeader); it != metadata.end()) {
    denied_ = std::string_view(it->second.data(), it->second.size()) != kAuthzAllow;
  }
  if (auto it = metadata.find(kTracestateHeader); it != metadata.end()) {
    trace_.tracestate = std::string(it->second.data(), it->second.size());
  }
  current_deadline = ctx.deadline();
  SetCurrentTrace(&trace_);
}

ScopedTrace::~ScopedTrace() {
  current_deadline = previous_deadline_;
  SetCurrentTrace(previous_);
}

void PrepareClientContext(grpc::ClientContext& ctx, std::chrono::milliseconds timeout,
                          bool inherit_deadline) {
  auto deadline = std::chrono::system_clock::now() + timeout;
  if (inherit_deadline && current_deadline < deadline) deadline = current_deadline;
  ctx.set_deadline(deadline);
  if (const TraceContext* current = CurrentTrace(); current != nullptr) {
    ctx.AddMetadata(kTraceparentHeader, FormatTraceparent(current->trace_id, current->span_id));
    if (!current->tracestate.empty()) {
      ctx.AddMetadata(kTracestateHeader, current->tracestate);
    }
  }
}

}  // namespace shop
