// Audit events: a server interceptor records one span per served RPC, and an
// exporter streams events to the central audit log (AuditLogService.Ingest)
// from a background thread, so that a business call never waits for or fails
// because of the log. Events that cannot be sent yet stay queued (bounded)
// and are retried; Ingest deduplicates by event_id.
#ifndef SHOP_CORE_AUDIT_H_
#define SHOP_CORE_AUDIT_H_

#include "absl/strings/string_view.h"
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/tls.h"
#include "shop/v1/audit.pb.h"

namespace grpc::experimental {
class ServerInterceptorFactoryInterface;
}

namespace shop {

// Where events go. Emit never blocks on I/O and never fails the caller.
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual void Emit(shop::v1::AuditEvent event) = 0;
};

// A business event stamped with a fresh id, the time and the current trace.
shop::v1::AuditEvent NewBusinessEvent(absl::string_view name, absl::string_view order_id,
                                      const std::map<std::string, std::string>& attributes = {});

struct AuditExporterOptions {
  std::string service;
  std::string target;  // address of the logging service
  TlsFiles tls;
  size_t max_queue = 200000;
  size_t max_batch = 500;
  std::chrono::milliseconds max_backoff{5000};
};

struct AuditExporterStats {
  int64_t exported = 0;
  int64_t dropped = 0;  // queue full, or refused by the log as malformed
  int64_t failed_attempts = 0;
  int64_t queued = 0;
};

class AuditExporter final : public AuditSink {
 public:
  static absl::StatusOr<std::unique_ptr<AuditExporter>> Start(AuditExporterOptions options);
  ~AuditExporter() override;  // flushes for up to 5 s, then stops

  void Emit(shop::v1::AuditEvent event) override;
  // Waits until everything queued so far was stored, or the deadline passes.
  bool Flush(std::chrono::milliseconds timeout);
  AuditExporterStats stats() const;

 private:
  explicit AuditExporter(AuditExporterOptions options);
  enum class SendResult { kSent, kFailed, kRefused };
  void Run();
  SendResult SendBatch(std::vector<shop::v1::AuditEvent>& batch);

  const AuditExporterOptions options_;
  std::shared_ptr<void> stub_holder_;  // the AuditLogService stub (kept out of this header)
  mutable absl::Mutex mu_;
  std::deque<shop::v1::AuditEvent> queue_ ABSL_GUARDED_BY(mu_);
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
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

}  // namespace shop

#endif  // SHOP_CORE_AUDIT_H_
