// Tracing and audit events of every process of the mesh.
//
// - Server interceptor: one SERVER_SPAN per served RPC (plus the
//   authorization verdict, see trace.h).
// - Client interceptor (on every channel made by MakeChannel): one
//   CLIENT_SPAN per outgoing RPC; it passes the W3C traceparent on with its
//   own span id, so the server's span is its child.
// - Span: an INTERNAL_SPAN around a step that explains latency (a saga
//   step, a database transaction, a gateway HTTPS attempt).
// - AuditExporter: streams events to the central log (AuditLogService.Ingest)
//   from a background thread. A business call never waits for it or fails
//   because of it: events queue in memory (bounded) and go to an append-only
//   spool file on disk while the log is unreachable, to be replayed in order.
#ifndef SHOP_CORE_AUDIT_H_
#define SHOP_CORE_AUDIT_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "core/tls.h"
#include "core/trace.h"
#include "shop/v1/audit.pb.h"

namespace grpc {
class Channel;
}
namespace grpc::experimental {
class ServerInterceptorFactoryInterface;
class ClientInterceptorFactoryInterface;
}  // namespace grpc::experimental

namespace shop {

class Spool;

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

struct AuditExporterOptions {
  std::string service;
  std::string target;  // address of the logging service
  TlsFiles tls;
  // For tests: a ready channel instead of target + tls.
  std::shared_ptr<grpc::Channel> channel;
  // Append-only spool file; empty = memory only (events wait in the queue).
  std::string spool_path;
  // Hard bound of the in-memory queue: beyond it events are dropped (and
  // counted). The sender moves the queue to the spool long before.
  size_t max_queue = 100000;
  // Above this many queued events the queue goes to the spool even while the
  // log answers (it is too slow).
  size_t spill_threshold = 20000;
  size_t max_batch = 1000;
  // How long a batch may wait to fill up before it is sent: fewer, larger
  // Ingest calls (and group commits in the log) cost the mesh far less CPU
  // than one call per span. Flush() does not wait for it.
  std::chrono::milliseconds linger{200};
  std::chrono::milliseconds max_backoff{2000};
  std::chrono::milliseconds ingest_timeout{10000};
  // How long the destructor tries to deliver before spooling the rest.
  std::chrono::milliseconds stop_flush_timeout{5000};
};

struct AuditExporterStats {
  int64_t exported = 0;  // stored by the log (including replays from the spool)
  int64_t spooled = 0;   // written to the spool file
  int64_t dropped = 0;   // lost: queue at its hard bound, spool unwritable, or refused
  int64_t failed_attempts = 0;
  int64_t queued = 0;    // in memory now
  int64_t spool_pending = 0;
};

class AuditExporter final : public AuditSink {
 public:
  static absl::StatusOr<std::unique_ptr<AuditExporter>> Start(AuditExporterOptions options);
  // Flushes for up to stop_flush_timeout, then moves what is left to the
  // spool and stops.
  ~AuditExporter() override;

  void Emit(shop::v1::AuditEvent event) override;
  // Waits until everything emitted so far (and everything spooled) was
  // stored, or the timeout passes.
  bool Flush(std::chrono::milliseconds timeout);
  AuditExporterStats stats() const;

 private:
  explicit AuditExporter(AuditExporterOptions options);
  enum class SendResult { kSent, kFailed, kRefused };
  void Run();
  // Moves the events into the request (no copies) and back when it failed.
  SendResult Send(std::vector<shop::v1::AuditEvent>& batch);
  // Moves `front` and then the whole queue to the spool, in that order.
  void SpillLocked(std::vector<shop::v1::AuditEvent> front) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LogStats(absl::string_view message);

  const AuditExporterOptions options_;
  std::shared_ptr<void> stub_holder_;  // the AuditLogService stub (kept out of this header)
  mutable absl::Mutex mu_;
  std::deque<shop::v1::AuditEvent> queue_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Spool> spool_ ABSL_GUARDED_BY(mu_);
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int flushing_ ABSL_GUARDED_BY(mu_) = 0;  // Flush() calls waiting
  bool log_reachable_ ABSL_GUARDED_BY(mu_) = true;
  AuditExporterStats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

class AuthzPolicyHolder;

// The interceptor on every server of the mesh. Per call it
// - decides the span (continuing an incoming traceparent) and hands it to the
//   handler in the x-shop-span header (see ScopedTrace);
// - checks the caller's SPIFFE id against `policy` for the method and hands
//   the verdict to the handler in x-shop-authz (SHOP_RPC_ENTER enforces it);
// - emits one SERVER_SPAN event (except for health checks) with the caller,
//   the status, and the order/customer ids found in the messages.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeServerInterceptorFactory(std::string service, AuditSink* sink,
                             std::shared_ptr<AuthzPolicyHolder> policy);

// The interceptor on every channel: continues the trace of the outgoing
// call's traceparent (set by PrepareClientContext) or of the current span, or
// starts one; rewrites traceparent to its own CLIENT span and emits that span
// to the process sink. `typed_messages` = the channel's calls use generated
// stubs (so ids can be read from the messages); false for generic stubs.
std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
MakeClientInterceptorFactory(std::string target, bool typed_messages);

}  // namespace shop

#endif  // SHOP_CORE_AUDIT_H_
