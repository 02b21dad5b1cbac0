#include "core/grpc/audit_exporter.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/grpc/tls.h"
#include "core/log.h"
#include "core/spool.h"
#include "shop/v1/audit.grpc.pb.h"

namespace shop {

using shop::v1::AuditEvent;
using shop::v1::AuditLogService;

// ---------------------------------------------------------------------------
// AuditExporter

AuditExporter::AuditExporter(AuditExporterOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<AuditExporter>> AuditExporter::Start(AuditExporterOptions options) {
  // The exporter's channel has no audit interceptor: exporting must not
  // produce events of its own.
  std::shared_ptr<grpc::Channel> channel = options.channel_for_test;
  if (channel == nullptr) {
    auto made =
        MakeChannel(options.target, "logging", options.tls, ChannelOptions{.traced = false});
    if (!made.ok()) return made.status();
    channel = *made;
  }
  std::unique_ptr<Spool> spool;
  if (!options.spool_path.empty()) {
    auto opened = Spool::Open(options.spool_path);
    if (!opened.ok()) return opened.status();
    spool = std::move(*opened);
    if (spool->pending() > 0) {
      log::Info("audit spool has events from before; replaying",
                {{"path", spool->path()},
                 {"events", static_cast<int64_t>(spool->pending())},
                 {"spool_corrupt", static_cast<int64_t>(spool->corrupt_records())}});
    }
  }
  std::unique_ptr<AuditExporter> exporter(new AuditExporter(std::move(options)));
  exporter->stub_holder_ =
      std::shared_ptr<AuditLogService::Stub>(AuditLogService::NewStub(channel).release());
  {
    absl::MutexLock lock(&exporter->mu_);
    exporter->spool_ = std::move(spool);
  }
  exporter->thread_ = std::thread([e = exporter.get()] { e->Run(); });
  return exporter;
}

AuditExporter::~AuditExporter() {
  Flush(options_.stop_flush_timeout);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  {
    absl::MutexLock lock(&mu_);
    // What is still in memory goes to disk, for the next start to replay.
    if (spool_ != nullptr) SpillLocked({});
  }
  LogStats("audit exporter stopped");
}

void AuditExporter::Emit(AuditEvent event) {
  if (event.service().empty()) event.set_service(options_.service);
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= options_.max_queue) {
    ++stats_.dropped;
    return;
  }
  queue_.push_back(std::move(event));
}

bool AuditExporter::Flush(std::chrono::milliseconds timeout) {
  absl::MutexLock lock(&mu_);
  ++flushing_;  // the sender stops lingering
  auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return queue_.empty() && in_flight_ == 0 && (spool_ == nullptr || spool_->pending() == 0);
  };
  bool done = mu_.AwaitWithTimeout(absl::Condition(&drained), absl::FromChrono(timeout));
  --flushing_;
  return done;
}

AuditExporterStats AuditExporter::stats() const {
  absl::MutexLock lock(&mu_);
  AuditExporterStats s = stats_;
  s.queued = static_cast<int64_t>(queue_.size()) + in_flight_;
  s.spool_pending = spool_ != nullptr ? static_cast<int64_t>(spool_->pending()) : 0;
  return s;
}

void AuditExporter::LogStats(absl::string_view message) {
  AuditExporterStats s = stats();
  int64_t spool_corrupt = 0;  // corrupt stretches of the spool skipped (each cost a record or more)
  {
    absl::MutexLock lock(&mu_);
    if (spool_ != nullptr) spool_corrupt = static_cast<int64_t>(spool_->corrupt_records());
  }
  log::Info(message, {{"exported", s.exported},
                      {"spooled", s.spooled},
                      {"dropped", s.dropped},
                      {"spool_corrupt", spool_corrupt},
                      {"failed_attempts", s.failed_attempts},
                      {"queued", s.queued},
                      {"spool_pending", s.spool_pending}});
}

void AuditExporter::SpillLocked(const std::vector<AuditEvent>& front) {
  std::vector<std::string> records;
  records.reserve(front.size() + queue_.size());
  for (const AuditEvent& event : front) records.push_back(event.SerializeAsString());
  for (const AuditEvent& event : queue_) records.push_back(event.SerializeAsString());
  if (records.empty()) return;
  queue_.clear();
  absl::Status written = spool_->Append(records);
  if (written.ok()) {
    stats_.spooled += static_cast<int64_t>(records.size());
  } else {
    stats_.dropped += static_cast<int64_t>(records.size());
    log::Error("cannot spool audit events; dropped",
               {{"error", std::string(written.message())},
                {"events", static_cast<int64_t>(records.size())}});
  }
}

void AuditExporter::Run() {
  std::chrono::milliseconds backoff(100);
  AuditExporterStats logged;
  auto last_log = std::chrono::steady_clock::now();
  constexpr size_t kMaxBatchBytes = 1 << 20;  // far below gRPC's 4 MiB message limit
  while (true) {
    std::vector<AuditEvent> batch;
    size_t peeked = 0;  // > 0: the batch comes from the spool
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty() || (spool_ != nullptr && spool_->pending() > 0);
      };
      mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(10));
      if (stopping_) return;
      // Let a small batch fill up for a moment (unless someone flushes).
      auto full = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || flushing_ > 0 || queue_.size() >= options_.max_batch ||
               (spool_ != nullptr && spool_->pending() > 0);
      };
      if (!queue_.empty() && !full()) {
        mu_.AwaitWithTimeout(absl::Condition(&full), absl::FromChrono(options_.linger));
      }
      if (stopping_) return;
      if (std::chrono::steady_clock::now() - last_log > std::chrono::seconds(10)) {
        last_log = std::chrono::steady_clock::now();
        if (stats_.exported != logged.exported || stats_.spooled != logged.spooled ||
            stats_.dropped != logged.dropped) {
          logged = stats_;
          mu_.Unlock();
          LogStats("audit exporter");
          mu_.Lock();
        }
      }
      if (spool_ != nullptr && queue_.size() > options_.spill_threshold) {
        log::Warn("audit log is slower than the mesh; queue moved to the spool",
                  {{"events", static_cast<int64_t>(queue_.size())}});
        SpillLocked({});
      }
      if (spool_ != nullptr && spool_->pending() > 0) {
        // Spooled events are older than anything queued: they go first.
        auto records = spool_->Peek(options_.max_batch, kMaxBatchBytes);
        if (!records.ok()) {
          // Corrupt records are skipped by the spool itself; this is an I/O
          // error. The file is kept aside (never deleted) with its offset,
          // for a manual replay, and the spool goes on with a new file.
          log::Error("audit spool unreadable; its events are lost",
                     {{"error", std::string(records.status().message())},
                      {"events", static_cast<int64_t>(spool_->pending())}});
          stats_.dropped += static_cast<int64_t>(spool_->pending());
          if (absl::Status reset = spool_->Reset(); !reset.ok()) {
            log::Error("cannot recreate the audit spool; events wait in memory",
                       {{"error", std::string(reset.message())}});
            spool_ = nullptr;
          }
          continue;
        }
        peeked = records->size();
        for (const std::string& record : *records) {
          AuditEvent event;
          if (event.ParseFromString(record)) {
            batch.push_back(std::move(event));
          } else {
            ++stats_.dropped;
          }
        }
      } else {
        size_t bytes = 0;
        while (!queue_.empty() && batch.size() < options_.max_batch && bytes < kMaxBatchBytes) {
          bytes += queue_.front().ByteSizeLong();
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      in_flight_ = static_cast<int64_t>(batch.size());
    }
    SendResult sent = batch.empty() ? SendResult::kSent : Send(batch);
    absl::MutexLock lock(&mu_);
    in_flight_ = 0;
    if (sent != SendResult::kFailed) {
      if (sent == SendResult::kSent) {
        stats_.exported += static_cast<int64_t>(batch.size());
      } else {
        // Retrying a batch the log refuses would block every later event.
        stats_.dropped += static_cast<int64_t>(batch.size());
      }
      if (peeked > 0) {
        if (absl::Status s = spool_->Consume(peeked); !s.ok()) {
          log::Error("cannot advance the audit spool", {{"error", std::string(s.message())}});
        }
      }
      if (!log_reachable_) {
        log_reachable_ = true;
        log::Info("audit log reachable again",
                  {{"spool_pending", static_cast<int64_t>(spool_ ? spool_->pending() : 0)}});
      }
      backoff = std::chrono::milliseconds(100);
      continue;
    }
    ++stats_.failed_attempts;
    if (log_reachable_) {
      log_reachable_ = false;
      log::Warn("audit log unreachable; spooling events",
                {{"spool", spool_ ? spool_->path() : std::string("(memory only)")}});
    }
    if (spool_ != nullptr) {
      // Keep memory small and the events safe from a crash while the log is
      // away: the failed batch, then everything queued behind it.
      SpillLocked(peeked > 0 ? std::vector<AuditEvent>{} : std::move(batch));
    } else if (peeked == 0) {
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(std::move(*it));
    }
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    mu_.AwaitWithTimeout(absl::Condition(&stop), absl::FromChrono(backoff));
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

AuditExporter::SendResult AuditExporter::Send(std::vector<AuditEvent>& batch) {
  auto* stub = static_cast<AuditLogService::Stub*>(stub_holder_.get());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + options_.ingest_timeout);
  shop::v1::IngestResponse response;
  auto writer = stub->Ingest(&ctx, &response);
  shop::v1::IngestRequest request;
  request.mutable_events()->Reserve(static_cast<int>(batch.size()));
  for (auto& event : batch) *request.add_events() = std::move(event);
  bool wrote = writer->Write(request);
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  batch.clear();
  for (auto& event : *request.mutable_events()) batch.push_back(std::move(event));
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    log::Error("audit log refused a batch as malformed; dropped",
               {{"error", status.error_message()}, {"events", static_cast<int64_t>(batch.size())}});
    return SendResult::kRefused;
  }
  if (!wrote || !status.ok()) {
    log::Warn("audit export failed; will retry", {{"code", static_cast<int>(status.error_code())},
                                                  {"error", status.error_message()},
                                                  {"events", static_cast<int64_t>(batch.size())}});
    return SendResult::kFailed;
  }
  return SendResult::kSent;
}

}  // namespace shop
