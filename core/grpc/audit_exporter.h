// The exporter of a process's spans and events to the central audit log:
// streams them to AuditLogService.Ingest from a background thread. A business
// call never waits for it or fails because of it: events queue in memory
// (bounded) and go to an append-only spool file on disk while the log is
// unreachable, to be replayed in order.
#ifndef SHOP_CORE_GRPC_AUDIT_EXPORTER_H_
#define SHOP_CORE_GRPC_AUDIT_EXPORTER_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "core/grpc/tls.h"
#include "core/span.h"
#include "shop/v1/audit.pb.h"

namespace grpc {
class Channel;
}

namespace shop {

class Spool;

struct AuditExporterOptions {
  std::string service;
  std::string target;  // address of the logging service
  TlsFiles tls;
  // A ready channel instead of target + tls.
  std::shared_ptr<grpc::Channel> channel_for_test;
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
  int64_t queued = 0;  // in memory now
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
  void SpillLocked(const std::vector<shop::v1::AuditEvent>& front)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
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

}  // namespace shop

#endif  // SHOP_CORE_GRPC_AUDIT_EXPORTER_H_
